import type { StoredFileProblem, StoredFileState } from '../store/storeScanner';

/**
 * green: verified and complete. yellow: handled or not urgent (a repair or download in progress, a file
 * with no checksum, not verified for longer than the check interval). red: needs action (corrupt, files
 * missing, manifest unreadable, a repair or download failed). A model never downloaded has no health (null).
 */
export type Health = 'green' | 'yellow' | 'red';

export type HealthReasonCode =
  | 'downloading' | 'incomplete' | 'repairing' | 'unverifiable' | 'stale'
  | 'corrupt' | 'missingFiles' | 'truncated' | 'grown' | 'manifestUnreadable' | 'repairFailed' | 'downloadFailed';

export interface HealthReason {
  /** Machine-readable, stable. */
  readonly code: HealthReasonCode;
  /** For people: what is wrong, naming the file. */
  readonly message: string;
  readonly path?: string;
}

/** Files that can never be verified: the catalog gives no sha256 (and neither did the hub). */
export function unverifiableWords(paths: readonly string[]): string {
  return `not verifiable: the catalog gives no sha256 for ${paths.join(', ')}`;
}

/** What a finished download achieved, in words that claim no more: verified only when every sha256 was checked. */
export function downloadedWords(unverifiable: readonly string[]): string {
  return unverifiable.length > 0 ? `downloaded — ${unverifiableWords(unverifiable)}` : 'downloaded and verified';
}

/** The files the reasons say cannot be verified. */
export function unverifiableFiles(reasons: readonly HealthReason[]): string[] {
  return reasons.filter((r) => r.code === 'unverifiable').map((r) => r.path ?? '');
}

/** True when nothing is wrong but files without a sha256: as good as the catalog allows. */
export function onlyUnverifiable(health: Health | null, reasons: readonly HealthReason[]): boolean {
  return health === 'yellow' && reasons.length > 0 && reasons.every((r) => r.code === 'unverifiable');
}

export interface ModelHealth {
  readonly health: Health | null;
  readonly reasons: readonly HealthReason[];
}

export type HealthModelState = 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';

export interface HealthFileInput {
  readonly path: string;
  readonly state: StoredFileState;
  readonly problem?: StoredFileProblem;
  readonly damagedPieces?: number;
  readonly sha256Expected?: boolean;
  readonly verifiedAt?: string;
}

export interface HealthInput {
  readonly state: HealthModelState;
  readonly files: readonly HealthFileInput[];
  readonly manifestError?: string;
  /** Why the last download or repair failed. */
  readonly error?: string;
  readonly pausedReason?: string;
  /** The failed run was a repair (integrity.repair / redownload), not a first download. */
  readonly lastRunWasRepair?: boolean;
  /** 0 = scheduled checks are off, so nothing goes stale. */
  readonly checkIntervalHours: number;
  readonly now: number;
}

const YELLOW_CODES: ReadonlySet<HealthReasonCode> = new Set(['downloading', 'incomplete', 'repairing', 'unverifiable', 'stale']);

export function severityOf(code: HealthReasonCode): Health {
  return YELLOW_CODES.has(code) ? 'yellow' : 'red';
}

/** The one definition of a model's health; the CLI, the tree and the status bar all show this. */
export function healthOf(input: HealthInput): ModelHealth {
  const reasons: HealthReason[] = [];
  const active = input.state === 'queued' || input.state === 'downloading';
  const damaged = input.files.filter((f) => f.problem);
  if (input.manifestError) {
    reasons.push(active ? { code: 'repairing', message: `repairing: ${input.manifestError}` } : { code: 'manifestUnreadable', message: input.manifestError });
  }
  for (const f of damaged) {
    const problem = describeProblem(f);
    reasons.push(active ? { code: 'repairing', message: `repairing: ${problem.message}`, path: f.path } : problem);
  }
  if (input.state === 'failed') {
    const code = input.lastRunWasRepair || damaged.length > 0 || input.manifestError ? 'repairFailed' : 'downloadFailed';
    reasons.push({ code, message: `${code === 'repairFailed' ? 'repair' : 'download'} failed: ${input.error ?? 'unknown error'}` });
  } else if (active && damaged.length === 0 && !input.manifestError) {
    reasons.push({ code: 'downloading', message: input.state === 'queued' ? 'waiting to download' : 'downloading' });
  } else if (input.state === 'paused' && damaged.length === 0) {
    reasons.push({ code: 'incomplete', message: input.pausedReason ? `paused: ${input.pausedReason}` : 'download paused; it resumes when started again' });
  } else if (input.state === 'missing' && damaged.length === 0 && !input.manifestError && input.files.some((f) => f.state === 'ready')) {
    const ready = input.files.filter((f) => f.state === 'ready').length;
    reasons.push({ code: 'incomplete', message: `${ready} of ${input.files.length} files downloaded` });
  }
  if (input.state === 'ready') reasons.push(...readyReasons(input));
  if (reasons.length === 0) return { health: input.state === 'ready' ? 'green' : null, reasons };
  return { health: reasons.some((r) => severityOf(r.code) === 'red') ? 'red' : 'yellow', reasons };
}

function describeProblem(f: HealthFileInput): HealthReason {
  switch (f.problem) {
    case 'truncated': return { code: 'truncated', message: `${f.path} is shorter than it was downloaded (truncated)`, path: f.path };
    case 'grown': return { code: 'grown', message: `${f.path} is longer than it was downloaded`, path: f.path };
    case 'changed': {
      const n = f.damagedPieces ?? 0;
      return { code: 'corrupt', message: `${f.path} is corrupt: ${n} piece${n === 1 ? '' : 's'} changed`, path: f.path };
    }
    default:
      return f.state === 'partial'
        ? { code: 'missingFiles', message: `${f.path} is incomplete: a repair was interrupted (repair resumes it)`, path: f.path }
        : { code: 'missingFiles', message: `${f.path} is missing`, path: f.path };
  }
}

function readyReasons(input: HealthInput): HealthReason[] {
  const reasons: HealthReason[] = input.files
    .filter((f) => f.sha256Expected === false)
    .map((f) => ({ code: 'unverifiable', message: unverifiableWords([f.path]), path: f.path }));
  if (input.checkIntervalHours > 0) {
    const times = input.files.map((f) => (f.verifiedAt ? Date.parse(f.verifiedAt) : NaN));
    const oldest = times.some((t) => !Number.isFinite(t)) ? undefined : Math.min(...times);
    const age = oldest === undefined ? Infinity : input.now - oldest;
    if (age > input.checkIntervalHours * 3_600_000) {
      reasons.push({ code: 'stale', message: oldest === undefined ? 'never verified' : `not verified for ${formatAge(age)}` });
    }
  }
  return reasons;
}

function formatAge(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours < 1) return `${Math.round(ms / 60_000)} minutes`;
  if (hours < 48) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}

/** `modelAvailability.health.*`. */
export interface HealthSettings {
  /** How often scheduled full checks run, and after how long a model counts as not recently verified; 0 = off. */
  readonly checkIntervalHours: number;
  /** Repair what a scheduled check finds. */
  readonly autoRepair: boolean;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = { checkIntervalHours: 24, autoRepair: true };
