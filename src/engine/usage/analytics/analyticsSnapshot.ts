import type { AnalyticsSnapshot, RateSummary, RecordingState } from '../../../protocol/analyticsProtocol';
import type { ModelState, RollbackMade, UpdateOffer } from '../../availability/engine';
import { storageImpact, type CleanupPlan } from './cleanupPolicy';
import type { AnalyticsDatabase } from './eventTypes';
import { localDayStart, periodFirstDay, type AnalyticsPeriod } from './period';
import { dailyPerformance, performanceAlerts, performanceByModel } from './performanceQueries';
import { preloadSuggestions, type ModelAvailabilityState } from './preloadSuggestions';
import { successRates, usageByModel, usageSummary, type SuccessRate } from './usageQueries';
import { versionResults } from './versionQueries';

/** What the panel needs to know about one catalog model: its name, and what the store holds of it. */
export type ModelFacts = Pick<ModelState, 'id' | 'state' | 'bytesOnDisk' | 'files'> & { readonly name: string; readonly installedVersion?: string | null };

export interface SnapshotInputs {
  /** The analytics database; undefined when it could not be opened this session. */
  readonly db: AnalyticsDatabase | undefined;
  readonly recordingEnabled: boolean;
  readonly now: number;
  readonly period: AnalyticsPeriod;
  readonly models: readonly ModelFacts[];
  /** Free space on the store's disk; undefined if it could not be measured. */
  readonly freeBytes: number | undefined;
  /** What the storage policies propose now (storageCleanup's `proposeCleanup`, as Clean Up Storage… shows it). */
  readonly cleanup: CleanupPlan;
  /** The updates known now (ModelUpdates.offers: no network) and the rollbacks made (ModelUpdates.rollbacksMade). */
  readonly updates?: readonly UpdateOffer[];
  readonly rollbacks?: readonly (RollbackMade & { readonly id: string })[];
}

/** Preload suggests models used more often than this in the last 30 days. */
export const PRELOAD_MIN_USES = 2;
/** Duration chart lines: the most used models only, so the chart stays readable. */
export const MAX_DURATION_SERIES = 6;

/**
 * Everything the analytics panel shows for a period, from the database and plain model facts.
 * Usage and performance follow the chosen period; recommendations do not (cleanup comes planned on all
 * recorded usage; preload and alerts look at the last 30 days), so changing the chart period never changes
 * what is proposed.
 */
export function buildAnalyticsSnapshot(inputs: SnapshotInputs): AnalyticsSnapshot {
  const { db, now, period, models } = inputs;
  const names = new Map(models.map((m) => [m.id, m.name]));
  const nameOf = (id: string) => names.get(id) ?? id;
  const storage = storageImpact(new Map(models.filter((m) => m.bytesOnDisk > 0).map((m) => [m.id, m.bytesOnDisk])), inputs.freeBytes ?? 0);
  const states = new Map(models.map((m) => [m.id, m.state]));
  const installed = new Map(models.map((m) => [m.id, m.installedVersion ?? null]));
  const base = {
    period,
    builtAt: now,
    recording: recordingState(db, inputs.recordingEnabled),
    storage: {
      models: storage.models.map((m) => ({ ...m, name: nameOf(m.modelId), state: states.get(m.modelId) ?? 'ready' })),
      totalBytes: storage.totalBytes,
      freeBytes: inputs.freeBytes ?? null,
    },
    updates: (inputs.updates ?? []).map((u) => ({ modelId: u.id, name: nameOf(u.id), from: u.from, to: u.to, bytesToDownload: u.bytesToDownload, source: u.source })),
    rollbacks: (inputs.rollbacks ?? []).map((r) => ({ modelId: r.id, name: nameOf(r.id), from: r.from, to: r.to, reason: r.reason, automatic: r.automatic, at: Date.parse(r.at) })),
  };
  if (!db) {
    const none = { succeeded: 0, failed: 0, rate: null };
    return {
      ...base, usage: [], rates: { generations: none, downloads: none, repairs: none }, performance: [], durations: [],
      cleanup: cleanupSummary(inputs.cleanup, nameOf, false), preload: [], alerts: [], versions: [],
    };
  }

  // Downloads and checks are not usage: a model only downloaded in the period is left out.
  const usage = usageByModel(db, now, period).filter((u) => u.uses + u.requests + u.fallbacks > 0);
  const rates = successRates(db, now, period).overall;
  const availability = new Map<string, ModelAvailabilityState>();
  for (const m of models) {
    const a = availabilityOf(m);
    if (a) availability.set(m.id, a);
  }
  const charted = new Set(usage.filter((u) => u.generations > 0).slice(0, MAX_DURATION_SERIES).map((u) => u.modelId));
  const daily = dailyPerformance(db, now, period);
  return {
    ...base,
    usage: usage.map((u) => ({
      modelId: u.modelId, name: nameOf(u.modelId), requests: u.requests, fallbacks: u.fallbacks, generations: u.generations,
      uses: u.uses, lastUsed: u.lastUsed ?? null,
    })),
    rates: { generations: rateSummary(rates.generations), downloads: rateSummary(rates.downloads), repairs: rateSummary(rates.repairs) },
    performance: performanceByModel(db, now, period).map((p) => ({
      modelId: p.modelId, name: nameOf(p.modelId), generations: p.generations, medianMs: p.medianMs ?? null, p95Ms: p.p95Ms ?? null,
      unitsPerSecond: p.unitsPerSecond ?? null, successRate: p.successRate ?? null,
    })),
    durations: [...charted].map((modelId) => ({
      modelId,
      name: nameOf(modelId),
      points: daily.flatMap((d) => (d.modelId === modelId && d.meanMs !== undefined ? [{ day: d.day, meanMs: d.meanMs }] : [])),
    })).filter((s) => s.points.length > 0),
    cleanup: cleanupSummary(inputs.cleanup, nameOf, [...usageSummary(db, now, 'all').values()].some((u) => u.useCount > 0)),
    preload: preloadSuggestions(usageSummary(db, now, 30), availability, PRELOAD_MIN_USES).map((p) => ({
      modelId: p.modelId, name: nameOf(p.modelId), state: p.state, action: p.action, uses: p.useCount, lastUsed: p.lastUsed ?? null,
    })),
    alerts: performanceAlerts(db, now).map((a) => ({ ...a, name: nameOf(a.modelId) })),
    versions: [...versionResults(db, period === 'all' ? 0 : localDayStart(periodFirstDay(now, period)))].filter(([, v]) => v.length > 1).map(([modelId, v]) => ({
      modelId, name: nameOf(modelId),
      versions: v.map((r) => ({
        version: r.version, generations: r.generations, successRate: r.generations ? (r.generations - r.failed) / r.generations : null,
        medianMs: r.medianMs ?? null, installed: installed.get(modelId) === r.version,
      })),
    })),
  };
}

/**
 * What preload can do for a model: `missing` (or failed, or partly downloaded) downloads it; a ready model
 * with a file never verified gets `unverified`. Undefined while a download is queued or running: nothing to suggest.
 * (`outdated` needs the store to know older versions, which it does not list yet.)
 */
export function availabilityOf(model: Pick<ModelFacts, 'state' | 'files'>): ModelAvailabilityState | undefined {
  switch (model.state) {
    case 'ready': return model.files.every((f) => f.verifiedAt !== undefined) ? 'ready' : 'unverified';
    case 'missing':
    case 'failed':
    case 'paused': return 'missing';
    case 'queued':
    case 'downloading': return undefined;
  }
}

function cleanupSummary(plan: CleanupPlan, nameOf: (id: string) => string, usageRecorded: boolean): AnalyticsSnapshot['cleanup'] {
  return {
    proposals: plan.proposals.map((p) => ({
      modelId: p.modelId, name: nameOf(p.modelId), bytes: p.sizeBytes, lastUsed: p.lastUsed ?? null, uses: p.useCount,
      overLimit: p.reasons.some((r) => r.kind === 'overLimit'), version: p.version ?? null,
    })),
    freedBytes: plan.freedBytes,
    stillOverBytes: plan.stillOverBytes,
    usageRecorded,
  };
}

function recordingState(db: AnalyticsDatabase | undefined, enabled: boolean): RecordingState {
  if (!db) return 'unavailable';
  return enabled ? 'on' : 'off';
}

function rateSummary(r: SuccessRate): RateSummary {
  return { succeeded: r.succeeded, failed: r.failed, rate: r.rate ?? null };
}
