import { DAY_MS, localDay } from './period';

export interface InstalledModel {
  readonly modelId: string;
  readonly sizeBytes: number;
  /** Last grant or generation; undefined if never used. */
  readonly lastUsed: number | undefined;
  readonly useCount: number;
  /** When it was installed: a model installed yesterday and not used yet is not "unused for months". */
  readonly installedAt?: number;
  /** A previous version kept on disk (for rollback); undefined: the installed version, which requests get. */
  readonly version?: string;
}

export interface StoragePolicy {
  /** Keep models used in the last N days. */
  readonly keepRecentDays: number;
  /** Keep models used more than N times. */
  readonly keepFrequentUses: number;
  /** Above this total, least recently used models are proposed until under it; 0 or undefined: no limit. */
  readonly maxStorageGB?: number;
  readonly pinned: readonly string[];
}

/** `modelAvailability.cleanup.*` and `pinnedModels` defaults (package.json says the same; a unit test compares). */
export const DEFAULT_STORAGE_POLICY: StoragePolicy = { keepRecentDays: 30, keepFrequentUses: 20, maxStorageGB: 0, pinned: [] };

export type CleanupReason =
  | { readonly kind: 'unused'; readonly days: number | undefined }
  | { readonly kind: 'rarelyUsed'; readonly uses: number }
  | { readonly kind: 'overLimit' }
  /** A version older than the installed one, kept for rollback: it goes before any installed model. */
  | { readonly kind: 'previousVersion'; readonly version: string };

export interface CleanupProposal extends InstalledModel {
  readonly reasons: readonly CleanupReason[];
}

export interface CleanupPlan {
  /** In the order they were chosen. */
  readonly proposals: readonly CleanupProposal[];
  readonly totalBytes: number;
  readonly freedBytes: number;
  /** Still above the limit after every removable model: pinned and in-use models alone exceed it. */
  readonly stillOverBytes: number;
}

const GB = 1024 ** 3;

/**
 * What the storage policy proposes to remove. A model that neither keep rule protects (used in the last
 * `keepRecentDays`, or more than `keepFrequentUses` times) is proposed as unused / rarely used, its previous
 * versions first. Then, while the total is above `maxStorageGB`, previous versions go first, then the
 * remaining models least recently used first (by day; never used first), largest first among equals — the
 * limit is the person's hard ceiling, so it outranks the keep rules. The installed version is only ever
 * proposed as the model itself. Pinned models and models in use are never proposed, nor are their versions.
 */
export function planCleanup(models: readonly InstalledModel[], policy: StoragePolicy, now: number, inUse: ReadonlySet<string> = new Set()): CleanupPlan {
  const protectedIds = new Set([...policy.pinned, ...inUse]);
  const candidates = models.filter((m) => !protectedIds.has(m.modelId));
  const previous = candidates.filter((m) => m.version !== undefined);
  const totalBytes = models.reduce((s, m) => s + m.sizeBytes, 0);
  const proposals: CleanupProposal[] = [];
  const kept: InstalledModel[] = [];
  const asPrevious = (m: InstalledModel): CleanupProposal => ({ ...m, reasons: [{ kind: 'previousVersion', version: m.version ?? '' }] });
  for (const m of candidates.filter((c) => c.version === undefined)) {
    const lastActive = Math.max(m.lastUsed ?? -Infinity, m.installedAt ?? -Infinity);
    const recent = now - lastActive <= policy.keepRecentDays * DAY_MS;
    const frequent = m.useCount > policy.keepFrequentUses;
    if (recent || frequent) {
      kept.push(m);
      continue;
    }
    const days = m.lastUsed === undefined ? undefined : Math.floor((now - m.lastUsed) / DAY_MS);
    proposals.push(...previous.filter((v) => v.modelId === m.modelId).map(asPrevious));
    proposals.push({ ...m, reasons: [{ kind: 'unused', days }, { kind: 'rarelyUsed', uses: m.useCount }] });
  }
  let remaining = totalBytes - proposals.reduce((s, m) => s + m.sizeBytes, 0);
  const limit = policy.maxStorageGB ? policy.maxStorageGB * GB : Infinity;
  for (const v of previous.filter((p) => !proposals.some((q) => q.modelId === p.modelId && q.version === p.version)).sort(leastRecentlyUsedThenLargest)) {
    if (remaining <= limit) break;
    proposals.push(asPrevious(v));
    remaining -= v.sizeBytes;
  }
  for (const m of [...kept].sort(leastRecentlyUsedThenLargest)) {
    if (remaining <= limit) break;
    proposals.push({ ...m, reasons: [{ kind: 'overLimit' }] });
    remaining -= m.sizeBytes;
  }
  return { proposals, totalBytes, freedBytes: totalBytes - remaining, stillOverBytes: Math.max(0, remaining - limit) };
}

function leastRecentlyUsedThenLargest(a: InstalledModel, b: InstalledModel): number {
  const dayA = a.lastUsed === undefined ? -Infinity : localDay(a.lastUsed);
  const dayB = b.lastUsed === undefined ? -Infinity : localDay(b.lastUsed);
  return dayA === dayB ? b.sizeBytes - a.sizeBytes : dayA - dayB;
}

export interface ModelStorage {
  readonly modelId: string;
  readonly bytes: number;
  /** Share of all model storage, 0..1. */
  readonly share: number;
}

export interface StorageImpact {
  readonly models: readonly ModelStorage[];
  readonly totalBytes: number;
  /** Free space on the store's disk, as the caller measured it. */
  readonly freeBytes: number;
  /** Model storage as a share of what it and the free space add up to, 0..1. */
  readonly usedShare: number;
}

/** Bytes on disk per model (measured by the store), largest first, with the disk's free space. */
export function storageImpact(bytesByModel: ReadonlyMap<string, number>, freeBytes: number): StorageImpact {
  const totalBytes = [...bytesByModel.values()].reduce((s, b) => s + b, 0);
  const models = [...bytesByModel]
    .map(([modelId, bytes]) => ({ modelId, bytes, share: totalBytes === 0 ? 0 : bytes / totalBytes }))
    .sort((a, b) => b.bytes - a.bytes || a.modelId.localeCompare(b.modelId));
  return { models, totalBytes, freeBytes, usedShare: totalBytes + freeBytes === 0 ? 0 : totalBytes / (totalBytes + freeBytes) };
}
