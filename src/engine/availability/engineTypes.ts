import type { ModelEntry } from '../catalog/catalogTypes';
import type { CredentialLookup } from '../transfer/http/httpClient';
import type { TransferIo } from '../transfer/transferIo';
import type { DownloadSettings, Logger } from '../transfer/settings';
import type { ForeignLocation } from '../store/foreign/foundFile';
import type { DownloadQueue } from './downloadQueue';
import type { HealthSettings } from './health';
import type { ModelIntegrity } from './modelIntegrity';
import type { UpdateSettings } from './updates/modelUpdates';

// What AvailabilityEngine's callers see besides the class: its options, the controls it hands out, and the
// types of the modules behind it, re-exported so that callers import them from one place.
export type { DownloadPriority } from './downloadQueue';
export type { DownloadSettings, Logger } from '../transfer/settings';
export type { Health, HealthReason, HealthReasonCode, HealthSettings } from './health';
export { downloadedWords, onlyUnverifiable, unverifiableFiles } from './health';
export type { HealthReport, IntegrityEvent, RepairResult } from './modelIntegrity';
export type { CheckProgress, FileCheck, FileCheckStatus, VerifyOptions } from './modelVerifier';
export type { ModelChange, ModelFailure, ModelFileState, ModelState, ModelStateName } from './modelState';
export { OperationRefusedError } from '../core/operationRefused';
export type { InstalledVersion } from '../store/installedVersions';
export type { TrialUpdate, UpdateOffer, UpdateOutcome, UpdateSettings, VersionSwitch } from './updates/modelUpdates';
export type { RollbackMade } from '../store/updateRecord';

/** Pause, resume and order downloads: the queue's own controls, as the engine exposes them. */
export type DownloadControls = Pick<DownloadQueue, 'pause' | 'resume' | 'pauseAll' | 'resumeAll' | 'setPriority' | 'reorder' | 'flush'>;
/** Full checks, repairs, re-downloads and removal: ModelIntegrity's own methods, as the engine exposes them. */
export type IntegrityControls = Pick<ModelIntegrity, 'verify' | 'repair' | 'redownload' | 'remove' | 'isBusy'>;

export interface AvailabilityEngineOptions {
  readonly storeRoot: string;
  readonly models: readonly ModelEntry[];
  readonly settings?: Partial<DownloadSettings>;
  readonly logger?: Logger;
  /** The credential for an origin, asked each time a file is resolved, so a token set later is used. */
  readonly credentials?: CredentialLookup;
  /** Defaults to HF_ENDPOINT or https://huggingface.co. */
  readonly hfEndpoint?: string;
  /** Test seam for disk-full injection. */
  readonly io?: TransferIo;
  /** How long a dead process's download lock lives before another process takes over. */
  readonly lockStaleMs?: number;
  /** Keep the queue in `<store>/queue.json` across restarts (the extension); the CLI runs only what it was asked. */
  readonly persistQueue?: boolean;
  readonly health?: Partial<HealthSettings>;
  /** Other tools' stores searched before each download for a verified copy to link instead (asked each time, so a setting applies at once). */
  readonly localCopies?: () => Promise<readonly ForeignLocation[]>;
  readonly updates?: Partial<UpdateSettings>;
  /** Re-reads the catalogs (URL catalogs change without telling) at each update check; the models it returns replace the current ones. */
  readonly reloadCatalogs?: () => Promise<readonly ModelEntry[]>;
}
