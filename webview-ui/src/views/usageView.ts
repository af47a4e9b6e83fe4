import type { AnalyticsSnapshot, Period, UsageRow } from '../../../src/protocol/analyticsProtocol';
import { barChart } from '../charts/barChart';
import { dataGrid } from '../components/dataGrid';
import { emptyState, h } from '../components/dom';
import { formatCount, formatLastUsed, formatPercent, plural } from '../format';

/** Bars beyond this many models would be too thin to read; the grid lists them all. */
const MAX_BARS = 12;

export function usageView(snap: AnalyticsSnapshot): HTMLElement {
  const rows = snap.usage;
  if (rows.length === 0) return h('section', { class: 'view' }, emptyState(noUsageText(snap)));
  const uses = rows.reduce((s, r) => s + r.uses, 0);
  const requests = rows.reduce((s, r) => s + r.requests, 0);
  const fallbacks = rows.reduce((s, r) => s + r.fallbacks, 0);
  return h('section', { class: 'view' },
    h('h2', {}, `Usage ${periodPhrase(snap.period)}`),
    statList([
      ['Uses', formatCount(uses)],
      ['Requests', formatCount(requests)],
      ['Fallbacks', formatCount(fallbacks)],
      ['Generation success', formatPercent(snap.rates.generations.rate)],
      ['Download success', formatPercent(snap.rates.downloads.rate)],
      ['Repair success', formatPercent(snap.rates.repairs.rate)],
    ]),
    h('h3', {}, 'Uses per model'),
    barChart('Uses per model', rows.slice(0, MAX_BARS).map((r) => ({ label: r.name, value: r.uses, valueText: formatCount(r.uses) }))),
    dataGrid<UsageRow>('Usage per model', [
      { title: 'Model', value: (r) => r.name, width: '2fr' },
      { title: 'Uses', value: (r) => formatCount(r.uses) },
      { title: 'Requests', value: (r) => formatCount(r.requests) },
      { title: 'Fallbacks', value: (r) => formatCount(r.fallbacks) },
      { title: 'Generations', value: (r) => formatCount(r.generations) },
      { title: 'Last used', value: (r) => formatLastUsed(r.lastUsed, snap.builtAt) },
    ], rows),
    h('p', { class: 'note' }, `${plural(rows.length, 'model')}. A use is a granted request or a generation; fallbacks count requests answered by another model.`),
  );
}

/** Labelled numbers (a description list, so screen readers pair each value with its name). */
export function statList(stats: readonly (readonly [string, string])[]): HTMLElement {
  return h('dl', { class: 'stats' }, ...stats.map(([label, value]) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value))));
}

export function periodPhrase(period: Period): string {
  return period === 'all' ? 'since recording began' : `in the last ${period} days`;
}

export function noUsageText(snap: AnalyticsSnapshot): string {
  if (snap.recording === 'unavailable') return 'Usage analytics could not be opened in this window, so nothing is recorded. Model Availability: Open Logs says why.';
  if (snap.recording === 'off') return 'Usage recording is off. Turn on the setting "Model Availability › Analytics: Enabled" to see which models you use.';
  if (snap.period !== 'all') return `No usage ${periodPhrase(snap.period)} — choose a longer period, or use models through the API or Request Model…; they appear here.`;
  return 'No usage recorded yet — models used through the API or Request Model… appear here.';
}
