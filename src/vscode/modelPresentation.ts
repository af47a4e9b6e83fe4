import * as vscode from 'vscode';
import type { ModelEntry } from '../engine';
import type { ModelState } from '../engine';
import { formatBytes, formatDuration } from '../engine';

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

export function stateText(s: ModelState): string {
  if (damaged(s)) return 'needs repair';
  switch (s.state) {
    case 'downloading': {
      const p = s.progress;
      if (!p) return 'starting…';
      const pct = p.total ? `${Math.floor((p.bytesDone / p.total) * 100)}%` : formatBytes(p.bytesDone);
      const parts = [pct, `${formatBytes(p.speed)}/s`];
      if (p.etaSeconds !== undefined) parts.push(`${formatDuration(p.etaSeconds)} left`);
      if (p.followingOtherProcess) parts.push('in another window');
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

export function modelSize(model: ModelEntry, s: ModelState | undefined): string | undefined {
  const total = s?.totalBytes ?? (model.files.every((f) => f.size !== undefined) ? model.files.reduce((a, f) => a + (f.size ?? 0), 0) : undefined);
  return total === undefined ? undefined : formatBytes(total);
}

export function describeModel(model: ModelEntry, s: ModelState | undefined): string {
  return [model.version, modelSize(model, s), s ? stateText(s) : 'not downloaded'].filter(Boolean).join(' · ');
}
