import type { Database } from 'sql.js';

/**
 * Event kinds, stored as their index in this list: append only, never reorder, or every existing
 * database would change meaning.
 */
export const EVENT_KINDS = ['request', 'grant', 'fallback', 'generation', 'release', 'download', 'check', 'repair'] as const;

export type AnalyticsEventKind = (typeof EVENT_KINDS)[number];

export function kindCode(kind: AnalyticsEventKind): number {
  return EVENT_KINDS.indexOf(kind);
}

/** One thing that happened to a model, as the rest of the extension reports it. */
export interface AnalyticsEvent {
  readonly kind: AnalyticsEventKind;
  readonly modelId: string;
  /** For a fallback: the model granted instead of `modelId`. */
  readonly otherModelId?: string;
  readonly ok?: boolean;
  readonly durationMs?: number;
  /** Work done in the caller's units (e.g. tokens), for throughput. */
  readonly units?: number;
  readonly bytes?: number;
  /** For a generation: the installed version it ran on. */
  readonly version?: string;
  /** Anything else worth keeping; stored as JSON, so keep it small and rare. */
  readonly detail?: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch; defaults to the store's clock at `record()`. */
  readonly ts?: number;
}

/** An event waiting in memory for the next save, numbered within its process. */
export interface PendingEvent extends AnalyticsEvent {
  readonly ts: number;
  readonly seq: number;
}

/** What the queries need from a database: sql.js's `Database`, narrowed so callers cannot close or export it. */
export type AnalyticsDatabase = Pick<Database, 'exec' | 'prepare'>;

/**
 * Rows of `events` are keyed by `ts * EVENT_KEY_SLOTS + n`: the table is then clustered by time, so a
 * period is a rowid range scan without a separate time index (which would add ~15 bytes a row).
 */
export const EVENT_KEY_SLOTS = 256;

export function eventKeyAt(ts: number): number {
  return Math.floor(ts) * EVENT_KEY_SLOTS;
}
