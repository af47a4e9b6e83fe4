import { h, svg } from '../components/dom';
import { truncate } from './barChart';

export interface LineSeries {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChartFormat {
  readonly x: (x: number) => string;
  readonly y: (y: number) => string;
}

const WIDTH = 640;
const HEIGHT = 240;
const MARGIN = { left: 64, right: 16, top: 12, bottom: 28 };
/** Series beyond the palette reuse colours; the dash patterns keep them apart (and help without colour). */
const SERIES_STYLES = 6;

/** Lines over a shared x axis (e.g. days), with a legend; one image for screen readers, with a summary. */
export function lineChart(title: string, series: readonly LineSeries[], format: LineChartFormat): HTMLElement {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const [minX, maxX] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const yStep = niceStep(Math.max(...ys, 1) / 4);
  const maxY = yStep * 4;
  const spanX = maxX - minX || 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (maxX === minX ? plotW / 2 : ((x - minX) / spanX) * plotW);
  const py = (y: number) => MARGIN.top + plotH - (y / maxY) * plotH;
  const yTicks = [0, 1, 2, 3, 4].map((i) => i * yStep);
  const xTicks = [...new Set([minX, Math.round((minX + maxX) / 2), maxX])].filter((x) => xs.length > 0 && x >= minX && x <= maxX);
  const summary = `${title}: ${series.map((s) => {
    const last = s.points.at(-1);
    return `${s.name}, ${s.points.length} days${last ? `, latest ${format.y(last.y)} on ${format.x(last.x)}` : ''}`;
  }).join('; ')}`;

  const chart = svg('svg', { class: 'chart line-chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': summary },
    svg('title', {}, summary),
    ...yTicks.map((t) => svg('g', {},
      svg('line', { class: 'chart-grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: py(t), y2: py(t) }),
      svg('text', { class: 'chart-label', x: MARGIN.left - 6, y: py(t), 'text-anchor': 'end', 'dominant-baseline': 'central' }, format.y(t)),
    )),
    ...xTicks.map((x) => svg('text', { class: 'chart-label', x: px(x), y: HEIGHT - 8, 'text-anchor': 'middle' }, format.x(x))),
    svg('line', { class: 'chart-axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: py(0), y2: py(0) }),
    ...series.map((s, i) => svg('g', { class: `series series-${i % SERIES_STYLES}` },
      svg('polyline', { class: 'chart-line', points: s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ') }),
      ...s.points.map((p) => svg('circle', { class: 'chart-point', cx: px(p.x), cy: py(p.y), r: 3 })),
    )),
  );
  const legend = h('ul', { class: 'chart-legend', 'aria-hidden': 'true' },
    ...series.map((s, i) => h('li', {}, svg('svg', { width: 24, height: 10, class: `series series-${i % SERIES_STYLES}` },
      svg('line', { class: 'chart-line', x1: 0, x2: 24, y1: 5, y2: 5 })), truncate(s.name, 40))));
  return h('figure', { class: 'chart-figure' }, chart, legend);
}

/** The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `raw`: axis labels people can read. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}
