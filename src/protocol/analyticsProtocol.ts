/**
 * The one definition of every message between the extension host and the analytics webview, and of the
 * snapshot the panel shows. Both sides check what arrives with the guards below before acting on it:
 * a webview is a web page, and a stale or tampered message must not run a command.
 * Plain data only (numbers, strings, null); its one import, guards.ts, is plain too, so the browser bundle
 * stays free of Node types.
 */
import { arrayOf, isBoolean, isNumber, isRecord, isString, nullable, oneOf, shape, type Guard } from './guards';

/** Periods the panel offers, in days; `all` covers everything ever recorded. */
export type Period = 7 | 30 | 90 | 'all';
export const PERIODS: readonly Period[] = [7, 30, 90, 'all'];

export type TabId = 'usage' | 'performance' | 'storage' | 'recommendations';
export const TABS: readonly TabId[] = ['usage', 'performance', 'storage', 'recommendations'];

/** What a recommendation's button asks the host to do; each maps to one `modelAvailability.*` command. */
export type RecommendationAction = 'remove' | 'download' | 'verify' | 'openLogs' | 'update';
export const RECOMMENDATION_ACTIONS: readonly RecommendationAction[] = ['remove', 'download', 'verify', 'openLogs', 'update'];

/** `off`: the setting turned recording off; `unavailable`: the database could not be opened this session. */
export type RecordingState = 'on' | 'off' | 'unavailable';

export interface UsageRow {
  readonly modelId: string;
  readonly name: string;
  readonly requests: number;
  readonly fallbacks: number;
  readonly generations: number;
  /** Grants plus generations. */
  readonly uses: number;
  /** ms since the epoch; null if never used. */
  readonly lastUsed: number | null;
}

export interface RateSummary {
  readonly succeeded: number;
  readonly failed: number;
  /** 0..1; null with no outcomes. */
  readonly rate: number | null;
}

export interface PerformanceRow {
  readonly modelId: string;
  readonly name: string;
  readonly generations: number;
  readonly medianMs: number | null;
  readonly p95Ms: number | null;
  readonly unitsPerSecond: number | null;
  readonly successRate: number | null;
}

export interface DurationPoint {
  /** Local calendar day, as days since 1970-01-01. */
  readonly day: number;
  readonly meanMs: number;
}

export interface DurationSeries {
  readonly modelId: string;
  readonly name: string;
  readonly points: readonly DurationPoint[];
}

export interface StorageRow {
  readonly modelId: string;
  readonly name: string;
  readonly bytes: number;
  /** Share of all model storage, 0..1. */
  readonly share: number;
  /** The model's state, e.g. `ready` or `paused` (partial data). */
  readonly state: string;
}

export interface StorageSummary {
  readonly models: readonly StorageRow[];
  readonly totalBytes: number;
  /** Free space on the store's disk; null if it could not be measured. */
  readonly freeBytes: number | null;
}

export interface CleanupRow {
  readonly modelId: string;
  readonly name: string;
  readonly bytes: number;
  readonly lastUsed: number | null;
  readonly uses: number;
  /** Proposed only to get under the storage limit (else: not used recently nor often). */
  readonly overLimit: boolean;
  /** A previous version kept for rollback; null: the model itself (its installed version). */
  readonly version: string | null;
}

export interface CleanupSummary {
  readonly proposals: readonly CleanupRow[];
  readonly freedBytes: number;
  /** Still above the storage limit after every removable model. */
  readonly stillOverBytes: number;
  /** Whether any use of any model was ever recorded: without it, "nothing to clean up" says why. */
  readonly usageRecorded: boolean;
}

export interface PreloadRow {
  readonly modelId: string;
  readonly name: string;
  readonly state: 'missing' | 'outdated' | 'unverified';
  readonly action: 'download' | 'verify';
  readonly uses: number;
  readonly lastUsed: number | null;
}

export interface AlertRow {
  readonly modelId: string;
  readonly name: string;
  /** `slower`: median generation duration up; `lessSuccessful`: success rate down. */
  readonly kind: 'slower' | 'lessSuccessful';
  /** The last 7 days: a duration in ms, or a success rate 0..1. */
  readonly recent: number;
  /** The 30 days before. */
  readonly baseline: number;
  /** Relative change, e.g. 0.3 for 30% worse. */
  readonly change: number;
}

/** How one version of a model did in the period. */
export interface VersionFigures {
  readonly version: string;
  readonly generations: number;
  /** 0..1; null with no generations. */
  readonly successRate: number | null;
  readonly medianMs: number | null;
  /** The version requests get now. */
  readonly installed: boolean;
}

/** A model whose generations ran on more than one version in the period: before and after its updates, oldest first. */
export interface VersionComparison {
  readonly modelId: string;
  readonly name: string;
  readonly versions: readonly VersionFigures[];
}

/** An update that can be installed (as Check for Updates last found it). */
export interface UpdateRow {
  readonly modelId: string;
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly bytesToDownload: number;
  readonly source: 'catalog' | 'hub';
}

/** A rollback made, newest first. */
export interface RollbackRow {
  readonly modelId: string;
  readonly name: string;
  readonly from: string | null;
  readonly to: string;
  /** The figures of an automatic rollback, or `by hand`. */
  readonly reason: string;
  readonly automatic: boolean;
  /** ms since the epoch. */
  readonly at: number;
}

/** Everything the panel shows for one period. */
export interface AnalyticsSnapshot {
  readonly period: Period;
  /** When it was built, ms since the epoch. */
  readonly builtAt: number;
  readonly recording: RecordingState;
  readonly usage: readonly UsageRow[];
  readonly rates: { readonly generations: RateSummary; readonly downloads: RateSummary; readonly repairs: RateSummary };
  readonly performance: readonly PerformanceRow[];
  readonly durations: readonly DurationSeries[];
  readonly storage: StorageSummary;
  readonly cleanup: CleanupSummary;
  readonly preload: readonly PreloadRow[];
  readonly alerts: readonly AlertRow[];
  readonly versions: readonly VersionComparison[];
  readonly updates: readonly UpdateRow[];
  readonly rollbacks: readonly RollbackRow[];
}

/** The page loaded (or reloaded) and shows `period`; the host posts nothing before this. */
export interface ReadyMessage { readonly type: 'ready'; readonly period: Period }
export interface SetPeriodMessage { readonly type: 'setPeriod'; readonly period: Period }
/** `version`: which previous version a `remove` means; null: the model. */
export interface RunActionMessage { readonly type: 'runAction'; readonly action: RecommendationAction; readonly modelId: string; readonly version: string | null }
export type WebviewToHost = ReadyMessage | SetPeriodMessage | RunActionMessage;

export interface SnapshotMessage { readonly type: 'snapshot'; readonly snapshot: AnalyticsSnapshot }
/** An action the host refused or that failed, said in words the panel can show. */
export interface ActionFailedMessage { readonly type: 'actionFailed'; readonly modelId: string; readonly message: string }
export type HostToWebview = SnapshotMessage | ActionFailedMessage;

/** What the webview keeps across reloads with `setState`. */
export interface PanelState { readonly tab: TabId; readonly period: Period }

// ---- Guards, from the combinators in guards.ts: every field of every message is checked.

/** A model id: non-empty, short, no control characters. */
const isModelId: Guard<string> = (v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200 && [...v].every((c) => c >= ' ');

export const isPeriod: Guard<Period> = oneOf(PERIODS);
export const isTabId: Guard<TabId> = oneOf(TABS);

const isRate = shape<RateSummary>({ succeeded: isNumber, failed: isNumber, rate: nullable(isNumber) });

const isSnapshot = shape<AnalyticsSnapshot>({
  period: isPeriod,
  builtAt: isNumber,
  recording: oneOf<RecordingState>(['on', 'off', 'unavailable']),
  usage: arrayOf(shape<UsageRow>({
    modelId: isModelId, name: isString, requests: isNumber, fallbacks: isNumber, generations: isNumber, uses: isNumber, lastUsed: nullable(isNumber),
  })),
  rates: shape<AnalyticsSnapshot['rates']>({ generations: isRate, downloads: isRate, repairs: isRate }),
  performance: arrayOf(shape<PerformanceRow>({
    modelId: isModelId, name: isString, generations: isNumber, medianMs: nullable(isNumber), p95Ms: nullable(isNumber),
    unitsPerSecond: nullable(isNumber), successRate: nullable(isNumber),
  })),
  durations: arrayOf(shape<DurationSeries>({
    modelId: isModelId, name: isString, points: arrayOf(shape<DurationPoint>({ day: isNumber, meanMs: isNumber })),
  })),
  storage: shape<StorageSummary>({
    models: arrayOf(shape<StorageRow>({ modelId: isModelId, name: isString, bytes: isNumber, share: isNumber, state: isString })),
    totalBytes: isNumber,
    freeBytes: nullable(isNumber),
  }),
  cleanup: shape<CleanupSummary>({
    proposals: arrayOf(shape<CleanupRow>({
      modelId: isModelId, name: isString, bytes: isNumber, lastUsed: nullable(isNumber), uses: isNumber, overLimit: isBoolean, version: nullable(isString),
    })),
    freedBytes: isNumber,
    stillOverBytes: isNumber,
    usageRecorded: isBoolean,
  }),
  preload: arrayOf(shape<PreloadRow>({
    modelId: isModelId, name: isString, state: oneOf<PreloadRow['state']>(['missing', 'outdated', 'unverified']),
    action: oneOf<PreloadRow['action']>(['download', 'verify']), uses: isNumber, lastUsed: nullable(isNumber),
  })),
  alerts: arrayOf(shape<AlertRow>({
    modelId: isModelId, name: isString, kind: oneOf<AlertRow['kind']>(['slower', 'lessSuccessful']),
    recent: isNumber, baseline: isNumber, change: isNumber,
  })),
  versions: arrayOf(shape<VersionComparison>({
    modelId: isModelId, name: isString,
    versions: arrayOf(shape<VersionFigures>({ version: isString, generations: isNumber, successRate: nullable(isNumber), medianMs: nullable(isNumber), installed: isBoolean })),
  })),
  updates: arrayOf(shape<UpdateRow>({
    modelId: isModelId, name: isString, from: isString, to: isString, bytesToDownload: isNumber, source: oneOf<UpdateRow['source']>(['catalog', 'hub']),
  })),
  rollbacks: arrayOf(shape<RollbackRow>({
    modelId: isModelId, name: isString, from: nullable(isString), to: isString, reason: isString, automatic: isBoolean, at: isNumber,
  })),
});

const webviewToHostGuards: { readonly [K in WebviewToHost['type']]: Guard<Extract<WebviewToHost, { type: K }>> } = {
  ready: shape<ReadyMessage>({ type: oneOf(['ready']), period: isPeriod }),
  setPeriod: shape<SetPeriodMessage>({ type: oneOf(['setPeriod']), period: isPeriod }),
  runAction: shape<RunActionMessage>({ type: oneOf(['runAction']), action: oneOf(RECOMMENDATION_ACTIONS), modelId: isModelId, version: nullable(isString) }),
};

const hostToWebviewGuards: { readonly [K in HostToWebview['type']]: Guard<Extract<HostToWebview, { type: K }>> } = {
  snapshot: shape<SnapshotMessage>({ type: oneOf(['snapshot']), snapshot: isSnapshot }),
  actionFailed: shape<ActionFailedMessage>({ type: oneOf(['actionFailed']), modelId: isModelId, message: isString }),
};

export function isWebviewToHost(v: unknown): v is WebviewToHost {
  return isRecord(v) && typeof v.type === 'string' && Object.hasOwn(webviewToHostGuards, v.type)
    && webviewToHostGuards[v.type as WebviewToHost['type']](v);
}

export function isHostToWebview(v: unknown): v is HostToWebview {
  return isRecord(v) && typeof v.type === 'string' && Object.hasOwn(hostToWebviewGuards, v.type)
    && hostToWebviewGuards[v.type as HostToWebview['type']](v);
}

export const isPanelState: Guard<PanelState> = shape<PanelState>({ tab: isTabId, period: isPeriod });
