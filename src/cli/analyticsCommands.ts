import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildAnalyticsSnapshot } from '../engine';
import { AnalyticsStore } from '../engine';
import type { AnalyticsPeriod } from '../engine';
import { DEFAULT_STORAGE_POLICY, describeReason, proposeCleanup, removeProposed } from '../engine';
import { usageSummary } from '../engine';
import type { AvailabilityEngine } from '../engine';
import { formatBytes } from '../engine';

const EXTENSION_STORAGE = path.join('User', 'globalStorage', 'model-availability.model-availability');

/** Where VS Code keeps this extension's global storage (the analytics database), per platform. */
export function defaultAnalyticsDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = os.homedir();
  const roots = process.platform === 'win32' ? [env.APPDATA ?? path.join(home, 'AppData', 'Roaming')]
    : process.platform === 'darwin' ? [path.join(home, 'Library', 'Application Support')]
    : [env.XDG_CONFIG_HOME ?? path.join(home, '.config')];
  const products = ['Code', 'Code - Insiders', 'VSCodium', 'code-server'];
  return roots.flatMap((r) => products.map((p) => path.join(r, p, EXTENSION_STORAGE)))
    .concat(path.join(home, '.local', 'share', 'code-server', EXTENSION_STORAGE));
}

/** sql.js's wasm sits next to dist/cli-main.js (esbuild copies it); run from sources (tests), it is in node_modules. */
function wasmPath(): string {
  const beside = path.join(__dirname, 'sql-wasm.wasm');
  return existsSync(beside) ? beside : path.join(__dirname, '..', '..', 'node_modules', 'sql.js', 'dist', 'sql-wasm.wasm');
}

/**
 * Opens the extension's analytics database; undefined (with the reason) when there is none. `record`: this
 * process adds events of its own (serve, whose HTTP clients use models); otherwise it only reads.
 */
export async function openCliAnalytics(dir: string | undefined, record = false): Promise<{ store?: AnalyticsStore; reason?: string }> {
  const candidates = dir ? [dir] : defaultAnalyticsDirs();
  const found = candidates.find((d) => existsSync(path.join(d, 'analytics.sqlite')) || (dir !== undefined && existsSync(d)));
  if (!found) {
    return { reason: `no usage database found${dir ? ` in ${dir}` : ` (looked in ${candidates[0]} and similar)`}; pass --analytics DIR, the extension's global storage folder` };
  }
  // Recording stays off for the reading commands: they never write events of their own.
  return { store: await AnalyticsStore.open({ folder: found, wasmPath: wasmPath(), enabled: record }) };
}

export interface AnalyticsCliOptions {
  readonly json: boolean;
  readonly period: AnalyticsPeriod;
}

export async function runAnalytics(engine: AvailabilityEngine, store: AnalyticsStore, opts: AnalyticsCliOptions, storeRoot: string, out: NodeJS.WritableStream): Promise<void> {
  const now = Date.now();
  const usage = store.read((db) => usageSummary(db, now, 'all'));
  const free = await statfs(storeRoot).then((s) => s.bavail * s.bsize, () => undefined);
  const cleanup = await proposeCleanup(engine, usage, DEFAULT_STORAGE_POLICY, now);
  const snapshot = store.read((db) => buildAnalyticsSnapshot({
    db, recordingEnabled: true, now, period: opts.period, freeBytes: free,
    models: engine.getModels().map((m) => {
      const s = engine.getModelState(m.id);
      return { id: m.id, name: m.name, state: s?.state ?? 'missing', bytesOnDisk: s?.bytesOnDisk ?? 0, files: s?.files ?? [] };
    }),
    cleanup,
  }));
  if (opts.json) {
    out.write(`${JSON.stringify(snapshot, null, 2)}\n`);
    return;
  }
  out.write(`Usage (${opts.period === 'all' ? 'all time' : `last ${opts.period} days`}):\n`);
  if (snapshot.usage.length === 0) out.write('  nothing recorded yet\n');
  for (const u of snapshot.usage) out.write(`  ${u.name.padEnd(36)} ${String(u.uses).padStart(6)} uses  last ${u.lastUsed ? new Date(u.lastUsed).toISOString().slice(0, 10) : '-'}\n`);
  out.write('Performance:\n');
  for (const p of snapshot.performance) out.write(`  ${p.name.padEnd(36)} median ${p.medianMs ?? '-'} ms  p95 ${p.p95Ms ?? '-'} ms  success ${p.successRate === null ? '-' : `${Math.round(p.successRate * 100)}%`}\n`);
  for (const a of snapshot.alerts) {
    out.write(`alert: ${a.name} is ${Math.round(a.change * 100)}% ${a.kind === 'slower' ? 'slower' : 'less successful'} in the last 7 days than the 30 days before\n`);
  }
  out.write(`Storage: ${formatBytes(snapshot.storage.totalBytes)} in models${snapshot.storage.freeBytes !== null ? `, ${formatBytes(snapshot.storage.freeBytes)} free` : ''}\n`);
}

export interface CleanupCliOptions {
  readonly json: boolean;
  readonly dryRun: boolean;
  readonly keepRecentDays: number;
  readonly keepFrequentUses: number;
  readonly maxStorageGB: number;
  readonly pinned: readonly string[];
}

/** Proposes (and unless --dry-run, removes) what the storage policies say; exit 0 unless a removal failed. */
export async function runCleanup(engine: AvailabilityEngine, store: AnalyticsStore, opts: CleanupCliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<boolean> {
  const now = Date.now();
  const usage = store.read((db) => usageSummary(db, now, 'all'));
  const plan = await proposeCleanup(engine, usage, { keepRecentDays: opts.keepRecentDays, keepFrequentUses: opts.keepFrequentUses, maxStorageGB: opts.maxStorageGB, pinned: opts.pinned }, now);
  const removed: { id: string; version?: string; bytes: number }[] = [];
  const failed: { id: string; version?: string; error: string }[] = [];
  if (!opts.dryRun) {
    for (const p of plan.proposals) {
      const which = { id: p.modelId, ...(p.version !== undefined ? { version: p.version } : {}) };
      try {
        removed.push({ ...which, bytes: await removeProposed(engine, p) });
      } catch (e) {
        failed.push({ ...which, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  const what = (p: { modelId: string; version?: string }) => (p.version === undefined ? p.modelId : `${p.modelId} ${p.version}`);
  if (opts.json) {
    out.write(`${JSON.stringify({
      dryRun: opts.dryRun,
      proposals: plan.proposals.map((p) => ({ id: p.modelId, version: p.version ?? null, bytes: p.sizeBytes, lastUsed: p.lastUsed ?? null, uses: p.useCount, reasons: p.reasons.map(describeReason) })),
      freedBytes: removed.reduce((s, r) => s + r.bytes, 0),
      failed,
    }, null, 2)}\n`);
  } else {
    if (plan.proposals.length === 0) out.write('Nothing to clean up: every model is kept by the policies or pinned.\n');
    for (const p of plan.proposals) {
      const done = removed.some((r) => r.id === p.modelId && r.version === p.version);
      out.write(`${opts.dryRun ? 'would remove' : done ? 'removed' : 'kept'} ${what(p)} (${formatBytes(p.sizeBytes)}; ${p.reasons.map(describeReason).join('; ')})\n`);
    }
    if (!opts.dryRun && removed.length) out.write(`Freed ${formatBytes(removed.reduce((s, r) => s + r.bytes, 0))}.\n`);
  }
  for (const f of failed) err.write(`could not remove ${what({ modelId: f.id, version: f.version })}: ${f.error}\n`);
  return failed.length === 0;
}
