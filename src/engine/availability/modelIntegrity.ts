import { Emitter, type Event } from '../core/event';
import type { IDisposable } from '../core/lifecycle';
import type { ModelEntry } from '../catalog/catalogTypes';
import type { DownloadPriority, QueueItem } from './downloadQueue';
import { formatBytes } from '../core/format';
import type { Logger } from '../transfer/settings';
import { onlyUnverifiable, unverifiableWords, type Health, type HealthReason, type ModelHealth } from './health';
import { isLockedByAnotherProcess, removeModelFiles } from '../store/modelRemoval';
import { installedEntry, removeInstalledVersion } from '../store/installedVersions';
import type { StoreLayout } from '../store/storeLayout';
import { checkModel, type FileCheck, type VerifyOptions } from './modelVerifier';
import { OperationRefusedError } from '../core/operationRefused';
import type { DownloadMode } from './transferPlan';
import type { UseGuard } from './useGuard';
import type { ModelChange } from './modelState';

export interface IntegrityEvent {
  readonly id: string;
  readonly kind: 'check' | 'repair';
  /** The model ended green. */
  readonly ok: boolean;
  readonly durationMs: number;
}

export interface HealthReport {
  readonly id: string;
  readonly checkedAt: string;
  /** The model's health after the check (the same as ModelState.health). */
  readonly health: Health | null;
  readonly healthReasons: readonly HealthReason[];
  readonly files: readonly FileCheck[];
  readonly manifestError?: string;
}

export interface RepairResult {
  readonly id: string;
  /** The full check that found what to repair; absent for a re-download. */
  readonly check?: HealthReport;
  /** Files that were brought back (damaged pieces, a missing tail, or the whole file). */
  readonly repaired: readonly string[];
  readonly health: Health | null;
  readonly healthReasons: readonly HealthReason[];
  /** Why the repair did not finish. */
  readonly error?: string;
}

/** What ModelIntegrity needs from the engine. */
export interface IntegrityHost {
  readonly layout: StoreLayout;
  readonly lockStaleMs: number;
  readonly logger: Logger;
  readonly uses: UseGuard;
  requireModel(id: string): ModelEntry;
  /** The version requests get now (older than the catalog's when the catalog moved on), or null. */
  installedVersion(id: string): string | null;
  queueItem(id: string): QueueItem | undefined;
  enqueue(id: string, priority: DownloadPriority): void;
  cancel(id: string): Promise<void>;
  refresh(ids: readonly string[]): Promise<void>;
  healthOf(id: string): ModelHealth;
  /** Fired after the store was rescanned. */
  readonly onDidFinish: Event<{ id: string }>;
  readonly onDidFail: Event<{ id: string; reason: string }>;
  readonly onDidChangeModel: Event<ModelChange>;
}

type RunOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Full checks, repairs, re-downloads and removal of models. A repair is a download through the same queue
 * and the same FileTransfer: the check records the damaged pieces, planTransfer turns them into missing
 * pieces, and the transfer fetches them and verifies the whole file again.
 */
export class ModelIntegrity implements IDisposable {
  private readonly _onDidCheck = new Emitter<IntegrityEvent>();
  /** A full check or a repair ended. */
  readonly onDidCheck: Event<IntegrityEvent> = this._onDidCheck.event;
  private readonly running = new Map<string, Promise<unknown>>();
  /** Models whose current or last failed run is a repair or re-download. */
  private readonly repairModes = new Map<string, DownloadMode>();
  private readonly waiters = new Map<string, (outcome: RunOutcome) => void>();

  constructor(private readonly host: IntegrityHost) {}

  /** How the queue should download this model now. */
  modeFor(id: string): DownloadMode {
    return this.repairModes.get(id) ?? 'auto';
  }

  wasRepair(id: string): boolean {
    return this.repairModes.has(id);
  }

  /** A check, repair or removal of this model is running. */
  isBusy(id: string): boolean {
    return this.running.has(id);
  }

  /** The user cancelled the model's download: a repair waiting on it ends. */
  cancelled(id: string): void {
    this.repairModes.delete(id);
    this.waiters.get(id)?.({ ok: false, error: 'cancelled' });
  }

  dispose(): void {
    this._onDidCheck.dispose();
  }

  /**
   * Full check: sha256 of each whole file (and of every piece where it differs), in worker threads; cancellable
   * through `signal`. Records verifiedAt (good files) or the changed pieces (damaged ones) in the manifest.
   * Refused (OperationRefusedError) while the model downloads.
   */
  verify(id: string, opts: VerifyOptions = {}): Promise<HealthReport> {
    return this.reported(id, 'check', () => this.exclusive(id, () => this.check(id, opts)));
  }

  /**
   * Checks the model, then fetches only what is damaged: changed pieces (Range requests, into place), a
   * truncated tail, missing files. Falls back to a whole-file download — keeping the old copy until the
   * new one is verified — when the server ignores Range or more than half the pieces are bad. An
   * interrupted repair resumes when run again. Refused while the model is in use (the use guard).
   */
  repair(id: string, opts: VerifyOptions = {}): Promise<RepairResult> {
    return this.reported(id, 'repair', () => this.exclusive(id, () => this.fix(id, 'auto', opts)));
  }

  /** Downloads every file again; each old copy stays until its replacement is verified. Refused while in use. */
  redownload(id: string): Promise<RepairResult> {
    return this.reported(id, 'repair', () => this.exclusive(id, () => this.fix(id, 'full', {})));
  }

  private async reported<T extends { readonly health: Health | null }>(id: string, kind: IntegrityEvent['kind'], run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await run();
    this._onDidCheck.fire({ id, kind, ok: result.health === 'green', durationMs: Date.now() - started });
    return result;
  }

  /**
   * Deletes the model's files and manifest (its installed version's, too, when older than the catalog's);
   * returns the bytes freed. Refused while it downloads (cancel first), while it is checked or repaired,
   * while another process downloads it, and while it is in use (the use guard).
   */
  async remove(id: string): Promise<number> {
    const model = this.host.requireModel(id);
    this.refuseWhileDownloading(id, 'remove');
    this.host.uses.refuse(id, 'remove');
    if (this.running.has(id)) throw new OperationRefusedError('busy', `${id} is being checked or repaired; remove it when that ends`);
    if (await isLockedByAnotherProcess(this.host.layout, model, this.host.lockStaleMs)) {
      throw new OperationRefusedError('otherProcess', `another window or process is downloading ${id}; cancel it there first`);
    }
    return this.exclusive(id, async () => {
      // A paused or failed download goes too, with its partial data.
      if (this.host.queueItem(id)) await this.host.cancel(id);
      const installed = this.host.installedVersion(id);
      // Ready on an older version (the catalog moved on): that is the copy being removed.
      const older = installed !== null && installed !== model.version ? await removeInstalledVersion(this.host.layout, id, installed) : 0;
      const freed = older + await removeModelFiles(this.host.layout, model);
      this.repairModes.delete(id);
      await this.host.refresh([id]);
      this.host.logger.info(`removed (${formatBytes(freed)} freed)`, id);
      return freed;
    });
  }

  /** One check, repair or removal of a model at a time: a later one waits for the earlier one. */
  private async exclusive<T>(id: string, body: () => Promise<T>): Promise<T> {
    const next = (this.running.get(id) ?? Promise.resolve()).catch(() => undefined).then(body);
    this.running.set(id, next);
    try {
      return await next;
    } finally {
      if (this.running.get(id) === next) this.running.delete(id);
    }
  }

  private async check(id: string, opts: VerifyOptions): Promise<HealthReport> {
    this.refuseWhileDownloading(id, 'check');
    // What requests get is what is checked: an older version when the catalog moved on.
    const model = (await this.olderInstalled(id)) ?? this.host.requireModel(id);
    const checkedAt = new Date().toISOString();
    const result = await checkModel(this.host.layout, model, opts);
    await this.host.refresh([id]);
    const { health, reasons } = this.host.healthOf(id);
    const bad = result.files.filter((f) => f.status !== 'ok' && f.status !== 'unverifiable');
    const unverifiable = result.files.filter((f) => f.status === 'unverifiable').map((f) => f.path);
    const summary = bad.length > 0 ? bad.map((f) => f.message).join('; ') : result.manifestError
      ?? (unverifiable.length === 0 ? 'all files verified' : verifiedPrefix(result.files.length - unverifiable.length) + unverifiableWords(unverifiable));
    this.host.logger[health === 'red' ? 'warn' : 'info'](`full check: ${health ?? 'not installed'}: ${summary}`, id);
    return { id, checkedAt, health, healthReasons: reasons, files: result.files, manifestError: result.manifestError };
  }

  private async fix(id: string, mode: DownloadMode, opts: VerifyOptions): Promise<RepairResult> {
    const model = this.host.requireModel(id);
    const action = mode === 'full' ? 're-download' : 'repair';
    this.refuseWhileDownloading(id, action);
    // Files are replaced in place: not under a lease or a running generation.
    this.host.uses.refuse(id, action);
    const older = await this.olderInstalled(id);
    if (older) {
      // A repair fetches the catalog's files; for an older version that would be the update, not a repair.
      throw new OperationRefusedError('busy', `cannot ${action} ${id} ${older.version}: the catalog now asks for ${model.version}; download that version instead`);
    }
    let check: HealthReport | undefined;
    if (mode === 'auto') {
      check = await this.check(id, opts);
      if (check.health === 'green' || onlyUnverifiable(check.health, check.healthReasons)) {
        return { id, check, repaired: [], health: check.health, healthReasons: check.healthReasons };
      }
    }
    const repaired = check ? check.files.filter((f) => f.status !== 'ok' && f.status !== 'unverifiable').map((f) => f.path) : model.files.map((f) => f.path);
    this.host.logger.info(mode === 'full' ? 're-downloading every file' : `repairing ${repaired.join(', ') || 'the manifest'}`, id);
    this.repairModes.set(id, mode);
    const outcome = await this.runDownload(id);
    if (outcome.ok) this.repairModes.delete(id);
    const { health, reasons } = this.host.healthOf(id);
    if (outcome.ok) this.host.logger.info(`${mode === 'full' ? 're-download' : 'repair'} finished: ${health}`, id);
    else this.host.logger.error(`${mode === 'full' ? 're-download' : 'repair'} did not finish: ${outcome.error}`, id);
    return { id, check, repaired, health, healthReasons: reasons, error: outcome.ok ? undefined : outcome.error };
  }

  /** Queues the model (first in line) and waits until its run finishes, fails, pauses or is cancelled. */
  private runDownload(id: string): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve) => {
      const subs = [
        this.host.onDidFinish((e) => { if (e.id === id) settle({ ok: true }); }),
        this.host.onDidFail((e) => { if (e.id === id) settle({ ok: false, error: e.reason }); }),
        this.host.onDidChangeModel((e) => {
          if (e.id !== id) return;
          const item = this.host.queueItem(id);
          if (item?.state === 'paused') settle({ ok: false, error: `paused${item.pausedReason ? `: ${item.pausedReason}` : ''}` });
        }),
      ];
      const settle = (outcome: RunOutcome): void => {
        for (const s of subs) s.dispose();
        this.waiters.delete(id);
        resolve(outcome);
      };
      this.waiters.set(id, settle);
      this.host.enqueue(id, 'high');
    });
  }

  /** The installed version's entry when it is older than the catalog's (the catalog moved on), else undefined. */
  private async olderInstalled(id: string): Promise<ModelEntry | undefined> {
    const installed = this.host.installedVersion(id);
    return installed !== null && installed !== this.host.requireModel(id).version ? installedEntry(this.host.layout, id, installed) : undefined;
  }

  private refuseWhileDownloading(id: string, action: string): void {
    const state = this.host.queueItem(id)?.state;
    if (state === 'running' || state === 'queued') {
      throw new OperationRefusedError('downloading', `cannot ${action} ${id} while it downloads; wait for it or cancel the download first`);
    }
  }
}

function verifiedPrefix(verified: number): string {
  return verified === 0 ? '' : `${verified} file${verified === 1 ? '' : 's'} verified; `;
}
