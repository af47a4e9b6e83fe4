import * as vscode from 'vscode';
import type { AnalyticsStore } from '../engine';
import type { StoragePolicy } from '../engine';
import { describeReason, proposeCleanup, removeProposed } from '../engine';
import { usageSummary, type ModelUseSummary } from '../engine';
import type { AvailabilityEngine } from '../engine';
import { formatBytes } from '../engine';
import { setting } from './settings';

export interface CleanupDeps {
  readonly engine: AvailabilityEngine;
  readonly store: AnalyticsStore | undefined;
}

export function storagePolicy(): StoragePolicy {
  return {
    keepRecentDays: setting('cleanup.keepRecentDays'),
    keepFrequentUses: setting('cleanup.keepFrequentUses'),
    maxStorageGB: setting('cleanup.maxStorageGB'),
    pinned: setting('pinnedModels'),
  };
}

function usage(store: AnalyticsStore | undefined, now: number): ReadonlyMap<string, ModelUseSummary> {
  return store ? store.read((db) => usageSummary(db, now, 'all')) : new Map();
}

function daysAgo(ts: number | undefined, now: number): string {
  if (ts === undefined) return 'never used';
  const d = Math.floor((now - ts) / 86_400_000);
  return d === 0 ? 'used today' : `last used ${d} ${d === 1 ? 'day' : 'days'} ago`;
}

interface ProposalItem extends vscode.QuickPickItem { readonly modelId: string; readonly version?: string; readonly size: number }

/** "Clean Up Storage…": what the policies propose, with size, last use and use count; untick, confirm, remove, report. */
export async function cleanUpStorage(deps: CleanupDeps): Promise<void> {
  if (!deps.store?.enabled) {
    // Without recorded use every model would look unused: refuse rather than guess.
    const pick = await vscode.window.showInformationMessage('Clean Up Storage needs recorded usage, and usage analytics is off or unavailable. Remove models one by one from the Models view, or turn analytics on.', 'Analytics Settings');
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability.analytics');
    return;
  }
  const now = Date.now();
  const plan = await proposeCleanup(deps.engine, usage(deps.store, now), storagePolicy(), now);
  if (plan.proposals.length === 0) {
    const pick = await vscode.window.showInformationMessage(`Nothing to clean up: the ${formatBytes(plan.totalBytes)} of models on disk are all kept by the storage policies, pinned, or in use.`, 'Storage Settings');
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability.cleanup');
    return;
  }
  const name = (id: string) => deps.engine.getModels().find((m) => m.id === id)?.name ?? id;
  const items: ProposalItem[] = plan.proposals.map((p) => ({
    label: p.version === undefined ? name(p.modelId) : `${name(p.modelId)} ${p.version}`,
    description: `${formatBytes(p.sizeBytes)} · ${daysAgo(p.lastUsed, now)} · ${p.useCount} ${p.useCount === 1 ? 'use' : 'uses'}`,
    detail: p.reasons.map(describeReason).join('; '),
    picked: true,
    modelId: p.modelId,
    ...(p.version !== undefined ? { version: p.version } : {}),
    size: p.sizeBytes,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Clean Up Storage: ${formatBytes(plan.freedBytes)} can be freed`,
    placeHolder: 'Untick the models to keep, then press Enter',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!chosen?.length) return;
  const total = chosen.reduce((s, i) => s + i.size, 0);
  const ok = await vscode.window.showWarningMessage(
    `Remove ${chosen.length} ${chosen.length === 1 ? 'item' : 'items'} and free ${formatBytes(total)}?`,
    { modal: true, detail: chosen.map((i) => i.label).join(', ') }, 'Remove');
  if (ok !== 'Remove') return;
  await removeAndReport(deps, chosen.map((i) => ({ modelId: i.modelId, version: i.version, label: i.label })));
}

/** `cleanup.auto`: removes what the policies propose without asking, and says what it did. */
export async function autoCleanup(deps: CleanupDeps): Promise<void> {
  // Never without recorded use: every model would look unused.
  if (!setting('cleanup.auto') || !deps.store?.enabled) return;
  const now = Date.now();
  const plan = await proposeCleanup(deps.engine, usage(deps.store, now), storagePolicy(), now);
  if (plan.proposals.length === 0) return;
  const name = (id: string) => deps.engine.getModels().find((m) => m.id === id)?.name ?? id;
  await removeAndReport(deps, plan.proposals.map((p) => ({ modelId: p.modelId, version: p.version, label: p.version === undefined ? name(p.modelId) : `${name(p.modelId)} ${p.version}` })));
}

/** A model (its installed version) or one of its previous versions, as the person saw it listed. */
interface Removal { readonly modelId: string; readonly version: string | undefined; readonly label: string }

async function removeAndReport(deps: CleanupDeps, removals: readonly Removal[]): Promise<void> {
  let freed = 0;
  const failed: string[] = [];
  for (const r of removals) {
    try {
      freed += await removeProposed(deps.engine, r);
    } catch (err) {
      failed.push(`${r.label} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const removed = removals.length - failed.length;
  const versions = removals.filter((r) => r.version !== undefined).length;
  const noun = versions === 0 ? 'model' : versions === removals.length ? 'old version' : 'item';
  const message = `Freed ${formatBytes(freed)} by removing ${removed} ${noun}${removed === 1 ? '' : 's'}.${failed.length ? ` Not removed: ${failed.join('; ')}.` : ''}`;
  if (failed.length) void vscode.window.showWarningMessage(message); else void vscode.window.showInformationMessage(message);
}
