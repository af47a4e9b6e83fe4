import type { ModelEntry } from '../catalog/catalogTypes';
import type { DownloadFailureCode } from '../core/downloadError';
import type { StoredFile, StoredModel } from '../store/storeScanner';
import { contentDiffers, contentVersion, isVariantOf } from '../store/versionContent';
import type { DownloadPriority, QueueItem, QueueProgress } from './downloadQueue';
import { healthOf, type Health, type HealthReason, type HealthSettings, type ModelHealth } from './health';

/**
 * What changed about one model: `state` (queued, started, ready, failed, removed…), `progress` (bytes,
 * speed, queue position), `health` (what counts as healthy changed), `files` (the store was rescanned).
 * Read the model's new state with getModelState(id).
 */
export interface ModelChange {
  readonly id: string;
  readonly kind: 'state' | 'progress' | 'health' | 'files';
}

export type ModelStateName = 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';

/** A file as the store holds it (without the manifest itself), plus what its manifest says about checks. */
export type ModelFileState = Omit<StoredFile, 'manifest'> & {
  /** Whether the sha256 came from the catalog or hub (false = we only know what we downloaded). */
  readonly sha256Expected?: boolean;
  readonly verifiedAt?: string;
  readonly installedAt?: string;
};

/** Why the last download or repair stopped: a code to decide on, a message for people. */
export interface ModelFailure {
  readonly code: DownloadFailureCode;
  readonly message: string;
}

export interface ModelState {
  readonly id: string;
  readonly state: ModelStateName;
  /** The version requests get (its files are `files`); null when nothing usable is installed. */
  readonly installedVersion: string | null;
  /** The catalog's version. */
  readonly wantedVersion: string;
  readonly bytesOnDisk: number;
  readonly totalBytes?: number;
  readonly priority?: DownloadPriority;
  readonly progress?: QueueProgress;
  readonly queuePosition?: number;
  readonly waitEstimateSeconds?: number;
  /** Why it is paused (e.g. "disk full: …"). */
  readonly pausedReason?: string;
  readonly error?: string;
  /** Set when the last run failed, or paused because the disk is full. */
  readonly failure?: ModelFailure;
  readonly files: readonly ModelFileState[];
  /** null when nothing was ever downloaded. */
  readonly health: Health | null;
  readonly healthReasons: readonly HealthReason[];
  /** The version an update would bring (the catalog's, when another is installed), or null: up to date, nothing installed, or held. */
  readonly updateAvailable: string | null;
  /** An update downloading while the installed version stays ready ("updating to 1.1.0 · 42%"). */
  readonly update?: UpdateProgress;
}

/** The download of an update, the installed version staying what requests get meanwhile. */
export interface UpdateProgress {
  readonly to: string;
  readonly state: 'queued' | 'downloading' | 'paused' | 'failed';
  /** 0..100 when the total is known. */
  readonly percent?: number;
  /** Why it failed or paused: the old version stays installed. */
  readonly reason?: string;
}

export interface ModelStateInput {
  readonly model: ModelEntry;
  /** What the store holds (scanInstalled); undefined before the first scan. */
  readonly stored: StoredModel | undefined;
  readonly item: QueueItem | undefined;
  /** A download just finished and the store is being rescanned: it shows as ready meanwhile. */
  readonly settling: boolean;
  /** Held at its installed version: no update offered. */
  readonly held: boolean;
  /** A version a hub check found (a branch or tag moved). */
  readonly hubUpdate: string | undefined;
  /** A version an automatic rollback held back: not offered. */
  readonly skipped: string | undefined;
  /** The version an update underway (or a first download pinned to a hub commit) downloads, when it is not the catalog's. */
  readonly updateTo: string | undefined;
  readonly lastRunWasRepair: boolean;
  readonly healthSettings: HealthSettings;
  readonly now: number;
}

/** The one definition of a model's state, from the store, the queue and the catalog: a pure function. */
export function modelStateOf(input: ModelStateInput): ModelState {
  const { model, stored } = input;
  const catalogTarget = catalogInstallVersion(model, stored);
  // What the queue item fetches: an update's version, the installed one for a repair, else the catalog's.
  const fetching = input.updateTo ?? (input.lastRunWasRepair ? stored?.version : catalogTarget);
  // A download of another version while one is installed and ready is an update: the model stays ready.
  const updateItem = stored?.ready && fetching !== stored.version ? input.item : undefined;
  const item = updateItem ? undefined : input.item;
  const files: ModelFileState[] = (stored?.files ?? []).map((f) => ({
    path: f.path, localPath: f.localPath, state: f.state, bytesOnDisk: f.bytesOnDisk, size: f.size, sha256: f.sha256,
    sha256Expected: f.manifest?.sha256Expected, verifiedAt: f.manifest?.verifiedAt, installedAt: f.manifest?.installedAt, problem: f.problem,
  }));
  // Partial data with no queue entry: a download interrupted elsewhere (e.g. a killed CLI) that can resume.
  let state: ModelStateName = stored?.ready ? 'ready' : stored?.files.some((f) => f.state === 'partial') ? 'paused' : 'missing';
  if (item) state = item.state === 'running' ? 'downloading' : item.state;
  else if (input.settling) state = 'ready';
  const installedVersion = stored?.ready ? stored.version : input.settling ? model.version : null;
  // `1.0.0+9a67fe2` is the catalog's 1.0.0 at a hub commit: no catalog update unless its files changed.
  const catalogUpdate = installedVersion !== null && catalogTarget !== installedVersion;
  const offered = installedVersion === null || input.held ? null : catalogUpdate ? catalogTarget : (input.hubUpdate ?? null);
  const updateAvailable = offered === input.skipped ? null : offered;
  const bytesOnDisk = item?.progress && item.state === 'running' ? item.progress.bytesDone : (stored?.bytesOnDisk ?? 0);
  const total = catalogTotal(model);
  const failure = item?.failureCode ? { code: item.failureCode, message: item.error ?? item.pausedReason ?? '' } : undefined;
  const { health, reasons } = healthOfState(input, state, item);
  return {
    // Hugging Face files give no size in the catalog: once installed, what is on disk is the size.
    id: model.id, state, installedVersion, wantedVersion: model.version, bytesOnDisk,
    // An older version still installed is what the size is of; the catalog's new one is in `updateAvailable`.
    totalBytes: item?.progress?.total ?? (stored?.ready && stored.version !== model.version ? stored.bytesOnDisk : total ?? (stored?.ready ? stored.bytesOnDisk : undefined)), priority: item?.priority, progress: item?.progress,
    queuePosition: item?.queuePosition, waitEstimateSeconds: item?.waitEstimateSeconds, pausedReason: item?.pausedReason,
    error: item?.error, failure, files, health, healthReasons: reasons, updateAvailable,
    ...(updateItem ? { update: updateProgressOf(fetching ?? model.version, updateItem) } : {}),
  };
}

function updateProgressOf(to: string, item: QueueItem): UpdateProgress {
  const total = item.progress?.total;
  const percent = total ? Math.floor((100 * (item.progress?.bytesDone ?? 0)) / total) : undefined;
  return { to, state: item.state === 'running' ? 'downloading' : item.state, percent, reason: item.error ?? item.pausedReason };
}

function healthOfState(input: ModelStateInput, state: ModelStateName, item: QueueItem | undefined): ModelHealth {
  const { stored } = input;
  return healthOf({
    state, error: item?.error, pausedReason: item?.pausedReason, manifestError: stored?.manifestError,
    lastRunWasRepair: input.lastRunWasRepair, checkIntervalHours: input.healthSettings.checkIntervalHours, now: input.now,
    files: (stored?.files ?? []).map((f) => ({
      path: f.path, state: f.state, problem: f.problem, damagedPieces: f.manifest?.damagedPieces?.length,
      sha256Expected: f.manifest?.sha256Expected, verifiedAt: f.manifest?.verifiedAt,
    })),
  });
}

/** The catalog's total size, when every file gives one. */
export function catalogTotal(model: ModelEntry): number | undefined {
  return model.files.every((f) => f.size !== undefined) ? model.files.reduce((s, f) => s + (f.size ?? 0), 0) : undefined;
}

/**
 * The version the catalog's entry installs as: the installed one when that is the catalog's version (or it
 * at a hub commit) with the catalog's files; `1.0.0+3c9e1a2` when the store holds other files under the
 * catalog's version (the catalog changed a sha256 but not the version; see contentVersion); else the catalog's.
 */
export function catalogInstallVersion(model: ModelEntry, stored: StoredModel | undefined): string {
  if (!stored?.ready || !isVariantOf(stored.version, model.version)) return model.version;
  const have = stored.files.flatMap((f) => (f.manifest ? [f.manifest] : []));
  return contentDiffers(model, have) ? contentVersion(model) : stored.version;
}
