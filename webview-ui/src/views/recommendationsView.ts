import type { AlertRow, AnalyticsSnapshot, CleanupRow, PreloadRow, RecommendationAction, RollbackRow, UpdateRow } from '../../../src/protocol/analyticsProtocol';
import { button } from '../components/controls';
import { emptyState, h } from '../components/dom';
import { formatBytes, formatDuration, formatLastUsed, formatPercent, plural } from '../format';

export type RunAction = (action: RecommendationAction, modelId: string, version?: string | null) => void;

/** How many recommendations there are, for the tab's badge. */
export function recommendationCount(snap: AnalyticsSnapshot): number {
  return snap.cleanup.proposals.length + snap.preload.length + snap.alerts.length + snap.updates.length;
}

export function recommendationsView(snap: AnalyticsSnapshot, run: RunAction): HTMLElement {
  const { proposals, freedBytes, stillOverBytes, usageRecorded } = snap.cleanup;
  return h('section', { class: 'view' },
    h('h2', {}, 'Recommendations'),
    h('p', { class: 'note' }, 'Based on all recorded usage, whatever period is selected. Pinned models and models in use are never proposed.'),
    h('h3', {}, 'Clean up storage'),
    proposals.length === 0
      ? emptyState(usageRecorded
        ? 'Nothing to clean up — every downloaded model was used recently or often, or is pinned.'
        : 'Nothing to clean up — no model use is recorded yet, so none can be called unused. Suggestions appear once models are used.')
      : h('div', {},
        h('p', {}, `Removing ${removalCount(proposals)} frees ${formatBytes(freedBytes)}.`),
        stillOverBytes > 0 ? h('p', { class: 'warning' }, `Still ${formatBytes(stillOverBytes)} over the storage limit: pinned and in-use models alone exceed it.`) : null,
        list('Models proposed for removal', proposals.map((p) => item(p.modelId, p.version === null ? p.name : `${p.name} ${p.version}`, cleanupText(p, snap.builtAt),
          button({
            label: 'Remove',
            ariaLabel: `Remove ${p.name}${p.version === null ? '' : ` version ${p.version}`} (${formatBytes(p.bytes)})`,
            focusKey: `remove:${p.modelId}${p.version === null ? '' : `@${p.version}`}`,
            onClick: () => run('remove', p.modelId, p.version),
          }))))),
    h('h3', {}, 'Download or verify ahead of time'),
    snap.preload.length === 0
      ? emptyState('Nothing to preload — the models you use often are downloaded and verified.')
      : list('Models to download or verify', snap.preload.map((p) => item(p.modelId, p.name, preloadText(p, snap.builtAt), button({
        label: p.action === 'download' ? 'Download' : 'Verify',
        ariaLabel: `${p.action === 'download' ? 'Download' : 'Verify'} ${p.name}`,
        primary: true,
        focusKey: `${p.action}:${p.modelId}`,
        onClick: () => run(p.action, p.modelId),
      })))),
    h('h3', {}, 'Performance alerts'),
    snap.alerts.length === 0
      ? emptyState('No alerts — no model got more than 25% slower or less successful in the last 7 days than in the 30 days before.')
      : list('Performance alerts', snap.alerts.map((a) => item(a.modelId, a.name, alertText(a),
        button({ label: 'Open Logs', ariaLabel: `Open logs for ${a.name}`, focusKey: `openLogs:${a.modelId}`, onClick: () => run('openLogs', a.modelId) })))),
    h('h3', {}, 'Model updates'),
    snap.updates.length === 0
      ? emptyState('No update known — every installed model is on the newest version the last check found.')
      : list('Model updates available', snap.updates.map((u) => item(u.modelId, u.name, updateText(u),
        button({ label: 'Update', ariaLabel: `Update ${u.name} to ${u.to}`, primary: true, focusKey: `update:${u.modelId}`, onClick: () => run('update', u.modelId) })))),
    h('h3', {}, 'Rollbacks made'),
    snap.rollbacks.length === 0
      ? emptyState('No rollback yet — no updated model was switched back.')
      : list('Rollbacks made', snap.rollbacks.map((r) => item(r.modelId, r.name, rollbackText(r, snap.builtAt)))),
  );
}

function updateText(u: UpdateRow): string {
  const fetch = u.bytesToDownload > 0 ? `${formatBytes(u.bytesToDownload)} to download` : 'nothing to download (the files are on disk)';
  return `${u.from} → ${u.to} · ${fetch}${u.source === 'hub' ? ' · the hub branch moved' : ''}`;
}

function rollbackText(r: RollbackRow, now: number): string {
  return `${r.from ?? 'nothing'} → ${r.to} · ${r.automatic ? `automatically: ${r.reason}` : r.reason} · ${formatLastUsed(r.at, now)}`;
}

function list(label: string, items: readonly HTMLElement[]): HTMLElement {
  return h('ul', { class: 'recommendations', 'aria-label': label }, ...items);
}

function item(modelId: string, name: string, text: string, action?: HTMLElement): HTMLElement {
  return h('li', { class: 'recommendation', 'data-model-id': modelId },
    h('div', { class: 'recommendation-text' }, h('strong', {}, name), h('span', {}, text)),
    action ?? null);
}

/** "2 models", or "1 model and 1 old version". */
function removalCount(proposals: readonly CleanupRow[]): string {
  const versions = proposals.filter((p) => p.version !== null).length;
  const models = proposals.length - versions;
  return [models && plural(models, 'model'), versions && plural(versions, 'old version')].filter(Boolean).join(' and ');
}

function cleanupText(p: CleanupRow, now: number): string {
  if (p.version !== null) return `${formatBytes(p.bytes)} · a previous version, kept for rollback; the installed one stays`;
  if (p.lastUsed === null) return `${formatBytes(p.bytes)} · never used${p.overLimit ? ' · over the storage limit' : ''}`;
  const why = p.overLimit ? 'over the storage limit, least recently used' : 'rarely used';
  return `${formatBytes(p.bytes)} · ${why} · ${plural(p.uses, 'use')}, last ${formatLastUsed(p.lastUsed, now)}`;
}

function preloadText(p: PreloadRow, now: number): string {
  const state = { missing: 'not downloaded', outdated: 'an older version is downloaded', unverified: 'not verified' }[p.state];
  return `${state} · ${plural(p.uses, 'use')} in the last 30 days, last ${formatLastUsed(p.lastUsed, now)}`;
}

function alertText(a: AlertRow): string {
  return a.kind === 'slower'
    ? `${formatPercent(a.change)} slower: median ${formatDuration(a.recent)} in the last 7 days, ${formatDuration(a.baseline)} in the 30 days before`
    : `${formatPercent(a.change)} less successful: ${formatPercent(a.recent)} of generations succeeded in the last 7 days, ${formatPercent(a.baseline)} before`;
}
