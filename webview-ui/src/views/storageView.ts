import type { AnalyticsSnapshot, StorageRow } from '../../../src/protocol/analyticsProtocol';
import { barChart } from '../charts/barChart';
import { dataGrid } from '../components/dataGrid';
import { emptyState, h } from '../components/dom';
import { formatBytes, formatPercent, plural } from '../format';
import { statList } from './usageView';

const MAX_BARS = 12;

export function storageView(snap: AnalyticsSnapshot): HTMLElement {
  const { models, totalBytes, freeBytes } = snap.storage;
  const stats = statList([
    ['Models on disk', formatBytes(totalBytes)],
    ['Free on the store’s disk', freeBytes === null ? '—' : formatBytes(freeBytes)],
    ['Models stored', String(models.length)],
  ]);
  if (models.length === 0) {
    return h('section', { class: 'view' }, h('h2', {}, 'Storage'), stats,
      emptyState('No model is downloaded yet — download one from the Models view or with Model Availability: Download Model…'));
  }
  return h('section', { class: 'view' },
    h('h2', {}, 'Storage'),
    stats,
    h('h3', {}, 'Disk space per model'),
    barChart('Disk space per model', models.slice(0, MAX_BARS).map((m) => ({ label: m.name, value: m.bytes, valueText: formatBytes(m.bytes) }))),
    dataGrid<StorageRow>('Storage per model', [
      { title: 'Model', value: (r) => r.name, width: '2fr' },
      { title: 'Size', value: (r) => formatBytes(r.bytes) },
      { title: 'Share', value: (r) => formatPercent(r.share) },
      { title: 'State', value: (r) => r.state === 'paused' ? 'partly downloaded' : r.state },
    ], models),
    h('p', { class: 'note' }, `${plural(models.length, 'model')}, largest first. Storage does not depend on the period.`),
  );
}
