import { svg } from '../components/dom';

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** The value as the chart prints it next to the bar. */
  readonly valueText: string;
}

const WIDTH = 640;
const LABEL_WIDTH = 190;
const VALUE_WIDTH = 80;
const ROW = 26;
const BAR = 16;

/**
 * Horizontal bars, one row per item, in the theme's chart colour. The SVG is one image for screen
 * readers (its label lists every value); the grid next to it has the same numbers as text.
 */
export function barChart(title: string, bars: readonly Bar[]): SVGSVGElement {
  const max = Math.max(...bars.map((b) => b.value), 1);
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const height = bars.length * ROW + 4;
  const summary = `${title}: ${bars.map((b) => `${b.label} ${b.valueText}`).join(', ')}`;
  return svg('svg', { class: 'chart bar-chart', viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: 'img', 'aria-label': summary },
    svg('title', {}, summary),
    svg('line', { class: 'chart-axis', x1: LABEL_WIDTH, x2: LABEL_WIDTH, y1: 0, y2: height }),
    ...bars.map((b, i) => {
      const y = i * ROW + 4;
      const width = Math.max(b.value > 0 ? 2 : 0, (b.value / max) * plotWidth);
      return svg('g', {},
        svg('text', { class: 'chart-label', x: LABEL_WIDTH - 8, y: y + BAR / 2, 'text-anchor': 'end', 'dominant-baseline': 'central' }, truncate(b.label, 26)),
        svg('rect', { class: 'chart-bar', x: LABEL_WIDTH, y, width, height: BAR, rx: 2 }),
        svg('text', { class: 'chart-value', x: LABEL_WIDTH + width + 6, y: y + BAR / 2, 'dominant-baseline': 'central' }, b.valueText),
      );
    }),
  );
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
