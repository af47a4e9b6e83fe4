import type { AnalyticsSnapshot, PerformanceRow, VersionComparison, VersionFigures } from '../../../src/protocol/analyticsProtocol';
import { lineChart } from '../charts/lineChart';
import { dataGrid } from '../components/dataGrid';
import { emptyState, h } from '../components/dom';
import { formatCount, formatDay, formatDuration, formatPercent, formatRate } from '../format';
import { noUsageText, periodPhrase } from './usageView';

export function performanceView(snap: AnalyticsSnapshot): HTMLElement {
  const rows = snap.performance;
  if (rows.length === 0) {
    const text = snap.usage.length === 0 ? noUsageText(snap)
      : `No generations ${periodPhrase(snap.period)}. Extensions report generation time through the API (reportGeneration); it appears here.`;
    return h('section', { class: 'view' }, emptyState(text));
  }
  const series = snap.durations.map((s) => ({ name: s.name, points: s.points.map((p) => ({ x: p.day, y: p.meanMs })) }));
  return h('section', { class: 'view' },
    h('h2', {}, `Generation performance ${periodPhrase(snap.period)}`),
    h('h3', {}, 'Mean generation duration per day'),
    series.length > 0
      ? lineChart('Mean generation duration per day', series, { x: formatDay, y: (ms) => formatDuration(ms) })
      : emptyState('No generation reported its duration in this period.'),
    dataGrid<PerformanceRow>('Performance per model', [
      { title: 'Model', value: (r) => r.name, width: '2fr' },
      { title: 'Generations', value: (r) => formatCount(r.generations) },
      { title: 'Median', value: (r) => formatDuration(r.medianMs) },
      { title: '95th percentile', value: (r) => formatDuration(r.p95Ms) },
      { title: 'Throughput', value: (r) => formatRate(r.unitsPerSecond) },
      { title: 'Success', value: (r) => formatPercent(r.successRate) },
    ], rows),
    h('p', { class: 'note' }, 'Slowest median first. Throughput is in the units extensions report (usually tokens) per second.'),
    ...snap.versions.map(versionComparison),
  );
}

/** Before and after an update: the versions a model's generations ran on in the period, oldest first. */
function versionComparison(c: VersionComparison): HTMLElement {
  return h('div', { class: 'version-comparison', 'data-model-id': c.modelId },
    h('h3', {}, `${c.name}: before and after its updates`),
    dataGrid<VersionFigures>(`Versions of ${c.name} compared`, [
      { title: 'Version', value: (v) => (v.installed ? `${v.version} (installed)` : v.version), width: '2fr' },
      { title: 'Generations', value: (v) => formatCount(v.generations) },
      { title: 'Success', value: (v) => formatPercent(v.successRate) },
      { title: 'Median', value: (v) => formatDuration(v.medianMs) },
    ], c.versions));
}
