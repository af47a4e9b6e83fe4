import * as vscode from 'vscode';
import type { ModelEntry } from '../engine';
import type { ModelState } from '../engine';
import { followsHubBranch, formatBytes, formatDuration, totalSize } from '../engine';

/** Short words for the yellow health reasons, for the tree's description. */
const YELLOW_WORDS: Record<string, string> = {
  unverifiable: 'unverifiable',
  stale: 'not verified recently',
  repairing: 'repairing',
  downloading: 'downloading',
  incomplete: 'incomplete',
};

/** One model as every VS Code surface shows it: the tree, quick picks, the status bar. */
/** Files on disk that a check found damaged: the model is not usable, but it is not "not downloaded" either. */
function damaged(s: ModelState): boolean {
  return s.health === 'red' && (s.state === 'missing' || s.state === 'ready');
}

/** A download's numbers as every surface shows them: one computation, so the row, tooltip and status bar agree. */
export interface DownloadFigures {
  readonly bytesDone: number;
  readonly total?: number;
  /** Undefined until a speed was measured (the first samples give none). */
  readonly bytesPerSecond?: number;
  readonly etaSeconds?: number;
}

export function downloadFigures(s: ModelState): DownloadFigures | undefined {
  const p = s.progress;
  if (s.state !== 'downloading' || !p) return undefined;
  const total = p.total ?? s.totalBytes;
  return { bytesDone: p.bytesDone, total, bytesPerSecond: p.speed > 0 ? p.speed : undefined, etaSeconds: p.etaSeconds };
}

/** "20%", or the bytes so far when the total is not known yet. */
export function percentText(done: number, total: number | undefined): string {
  return total ? `${Math.min(100, Math.floor((done / total) * 100))}%` : formatBytes(done);
}

export function stateText(s: ModelState): string {
  if (damaged(s)) return 'needs repair';
  switch (s.state) {
    case 'downloading': {
      const f = downloadFigures(s);
      if (!f) return 'starting…';
      const parts = [percentText(f.bytesDone, f.total)];
      if (f.bytesPerSecond !== undefined) parts.push(`${formatBytes(f.bytesPerSecond)}/s`);
      if (f.etaSeconds !== undefined) parts.push(`${formatDuration(f.etaSeconds)} left`);
      if (s.progress?.followingOtherProcess) parts.push('in another window');
      return parts.join(' · ');
    }
    case 'queued':
      return `queued${s.queuePosition ? ` #${s.queuePosition}` : ''}${s.waitEstimateSeconds !== undefined ? ` · ~${formatDuration(s.waitEstimateSeconds)}` : ''}`;
    case 'paused':
      return s.pausedReason ? `paused · ${s.pausedReason}` : 'paused';
    case 'failed':
      return 'failed';
    case 'ready':
      if (s.update) return `ready · ${updateText(s.update)}`;
      if (s.health === 'yellow') return `ready · ${YELLOW_WORDS[s.healthReasons[0]?.code ?? ''] ?? 'see details'}`;
      return 'ready';
    case 'missing':
      return 'not downloaded';
  }
}

/** "updating to 1.1.0 · 42%", or why it stopped (the installed version stays). */
function updateText(u: NonNullable<ModelState['update']>): string {
  if (u.state === 'failed') return `update to ${u.to} failed${u.reason ? `: ${u.reason}` : ''}`;
  if (u.state === 'queued') return `update to ${u.to} queued`;
  if (u.state === 'paused') return `update to ${u.to} paused${u.reason ? ` · ${u.reason}` : ''}`;
  return `updating to ${u.to}${u.percent !== undefined ? ` · ${u.percent}%` : ''}`;
}

/** What the `+…` of an installed `1.0.0+9a67fe2` means: the hub commit its branch pointed at, or the files the catalog named. */
export function variantWords(model: ModelEntry, version: string): string {
  const suffix = version.slice(model.version.length + 1);
  return followsHubBranch(model) ? `the catalog's ${model.version} at hub commit ${suffix}` : `the catalog's ${model.version} with the files it names now`;
}

/** "update available: 1.1.0 (512 MB)" (the new version's size, when the catalog gives it). */
export function updateAvailableText(model: ModelEntry, s: ModelState): string | undefined {
  if (s.updateAvailable === null || s.update) return undefined;
  const size = model.files.every((f) => f.size !== undefined) ? ` (${formatBytes(model.files.reduce((a, f) => a + (f.size ?? 0), 0))})` : '';
  return `update available: ${s.updateAvailable}${size}`;
}

export function modelIcon(s: ModelState): vscode.ThemeIcon {
  const color = (id: string) => new vscode.ThemeColor(id);
  if (damaged(s)) return new vscode.ThemeIcon('error', color('charts.red'));
  switch (s.state) {
    case 'downloading': return new vscode.ThemeIcon('sync~spin', color('charts.blue'));
    case 'queued': return new vscode.ThemeIcon('clock', color('charts.blue'));
    case 'paused': return new vscode.ThemeIcon('debug-pause', color('charts.yellow'));
    case 'failed': return new vscode.ThemeIcon('error', color('charts.red'));
    case 'ready':
      if (s.health === 'yellow') return new vscode.ThemeIcon('warning', color('charts.yellow'));
      return new vscode.ThemeIcon('pass-filled', color('charts.green'));
    case 'missing': return new vscode.ThemeIcon('circle-large-outline', color('disabledForeground'));
  }
}

/** `resolvedBytes`: the size the hub reported for a model the catalog gives no sizes for. */
function modelSize(model: ModelEntry, s: ModelState | undefined, resolvedBytes?: number): string | undefined {
  const total = s?.totalBytes ?? totalSize(model) ?? resolvedBytes;
  return total === undefined ? undefined : formatBytes(total);
}

/** State first, then size: the start of a description is what a narrow sidebar still shows (the version is in the tooltip). */
export function describeModel(model: ModelEntry, s: ModelState | undefined, resolvedBytes?: number): string {
  return [s ? stateText(s) : 'not downloaded', modelSize(model, s, resolvedBytes)].filter(Boolean).join(' · ');
}
