import type { ModelEntry } from '../catalog/catalogTypes';
import { Emitter, type Event } from '../core/event';
import { Disposable } from '../core/lifecycle';
import { DownloadQueue, type DownloadFailure, type DownloadPriority, type QueueProgress } from './downloadQueue';
import type { TransferIo } from '../transfer/fileTransfer';
import { downloadModel } from './modelDownload';
import { whenLockFree } from '../store/fileLock';
import { removePartData } from '../store/partState';
import { NULL_LOGGER, withDefaults, type DownloadSettings, type Logger } from '../transfer/settings';
import { DEFAULT_HEALTH_SETTINGS, healthOf, type Health, type HealthReason, type HealthSettings, type ModelHealth } from './health';
import { ModelIntegrity, type HealthReport, type RepairResult } from './modelIntegrity';
import type { VerifyOptions } from './modelVerifier';
import { SpeedLimiter } from '../transfer/speedLimiter';
import { scanModel, type StoredFile, type StoredModel } from '../store/storeScanner';
import { installedVersions, removeInstalledVersion, type InstalledVersion } from '../store/installedVersions';
import { StoreLayout } from '../store/storeLayout';

export type { DownloadPriority } from './downloadQueue';
export type { DownloadSettings, Logger } from '../transfer/settings';
export type { Health, HealthReason, HealthReasonCode, HealthSettings } from './health';
export type { HealthReport, RepairResult } from './modelIntegrity';
export type { CheckProgress, FileCheck, FileCheckStatus, VerifyOptions } from './modelVerifier';
import { OperationRefusedError } from '../core/operationRefused';
export { OperationRefusedError };
export type { InstalledVersion } from '../store/installedVersions';

export interface IntegrityEvent {
  readonly id: string;
  readonly kind: 'check' | 'repair';
  /** The model ended green. */
  readonly ok: boolean;
  readonly durationMs: number;
}

export type ModelStateName = 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';

/** A file as the store holds it (without the manifest itself), plus what its manifest says about checks. */
export type ModelFileState = Omit<StoredFile, 'manifest'> & {
  /** Whether the sha256 came from the catalog or hub (false = we only know what we downloaded). */
  readonly sha256Expected?: boolean;
  readonly verifiedAt?: string;
  readonly installedAt?: string;
};

export interface ModelState {
  readonly id: string;
  readonly state: ModelStateName;
  readonly bytesOnDisk: number;
  readonly totalBytes?: number;
  readonly priority?: DownloadPriority;
  readonly progress?: QueueProgress;
  readonly queuePosition?: number;
  readonly waitEstimateSeconds?: number;
  /** Why it is paused (e.g. "disk full: …"). */
  readonly pausedReason?: string;
  readonly error?: string;
  readonly files: readonly ModelFileState[];
  /** null when nothing was ever downloaded. */
  readonly health: Health | null;
  readonly healthReasons: readonly HealthReason[];
}

export interface AvailabilityEngineOptions {
  readonly storeRoot: string;
  readonly models: readonly ModelEntry[];
  readonly settings?: Partial<DownloadSettings>;
  readonly logger?: Logger;
  /** Asked each time a hub file is resolved, so a token set later is used. */
  readonly hfToken?: () => Promise<string | undefined>;
  /** Defaults to HF_ENDPOINT or https://huggingface.co. */
  readonly hfEndpoint?: string;
  /** Test seam for disk-full injection. */
  readonly io?: TransferIo;
  /** How long a dead process's download lock lives before another process takes over. */
  readonly lockStaleMs?: number;
  /** Keep the queue in `<store>/queue.json` across restarts (the extension); the CLI runs only what it was asked. */
  readonly persistQueue?: boolean;
  readonly health?: Partial<HealthSettings>;
}

/** The one entry point the extension and the CLI use: store state, the download queue, and their events. */
export class AvailabilityEngine extends Disposable {
  readonly layout: StoreLayout;
  private models = new Map<string, ModelEntry>();
  private stored = new Map<string, StoredModel>();
  private settings: DownloadSettings;
  private healthSettings: HealthSettings;
  private readonly integrity: ModelIntegrity;
  private readonly limiter: SpeedLimiter;
  private readonly queue: DownloadQueue;
  private readonly logger: Logger;
  /** A download lock not refreshed for this long belongs to a dead process. */
  private readonly lockStaleMs: number;
  private _storeGeneration = 0;
  /** Models whose download just finished and whose store entry is being rescanned. */
  private readonly settling = new Map<string, Promise<void>>();

  private readonly _onDidChange = this._register(new Emitter<void>());
  /** Something about the models' states changed; throttled to a few events per second. */
  readonly onDidChange: Event<void> = this._onDidChange.event;
  private readonly _onDidFinish = this._register(new Emitter<{ id: string }>());
  readonly onDidFinish: Event<{ id: string }> = this._onDidFinish.event;
  private readonly _onDidFail = this._register(new Emitter<DownloadFailure>());
  readonly onDidFail: Event<DownloadFailure> = this._onDidFail.event;
  private readonly _onDidCheck = this._register(new Emitter<IntegrityEvent>());
  /** A full check or a repair ended (for usage analytics and logs). */
  readonly onDidCheck: Event<IntegrityEvent> = this._onDidCheck.event;

  static async create(options: AvailabilityEngineOptions): Promise<AvailabilityEngine> {
    const engine = new AvailabilityEngine(options);
    await engine.refresh();
    await engine.queue.restore(new Set(engine.models.keys()));
    return engine;
  }

  private constructor(options: AvailabilityEngineOptions) {
    super();
    this.layout = new StoreLayout(options.storeRoot);
    this.logger = options.logger ?? NULL_LOGGER;
    this.lockStaleMs = options.lockStaleMs ?? 10_000;
    this.settings = withDefaults(options.settings);
    this.healthSettings = { ...DEFAULT_HEALTH_SETTINGS, ...options.health };
    this.limiter = new SpeedLimiter(this.settings.speedLimitMBps);
    for (const m of options.models) this.models.set(m.id, m);
    this.queue = this._register(new DownloadQueue({
      runner: {
        run: (id, signal, onProgress) => downloadModel({
          layout: this.layout, settings: () => this.settings, limiter: this.limiter, logger: this.logger,
          hfToken: options.hfToken, hfEndpoint: options.hfEndpoint, io: options.io, lockStaleMs: this.lockStaleMs,
          mode: this.integrity.modeFor(id),
        }, this.requireModel(id), signal, onProgress),
        discard: (id) => this.discardPartial(id),
        remainingBytes: (id) => this.remainingBytes(id),
      },
      concurrency: () => this.settings.concurrency,
      pauseDuringGeneration: () => this.settings.pauseDuringGeneration,
      persistFile: options.persistQueue === false ? undefined : this.layout.queueFile,
      logger: this.logger,
    }));
    this.integrity = new ModelIntegrity({
      layout: this.layout, lockStaleMs: this.lockStaleMs, logger: this.logger,
      requireModel: (id) => this.requireModel(id),
      queueItem: (id) => this.queue.get(id),
      enqueue: (id, priority) => this.queue.enqueue(id, priority),
      cancel: (id) => this.cancel(id),
      refresh: (ids) => this.refresh(ids),
      healthOf: (id) => this.healthOfModel(this.stateOf(id)),
      onDidFinish: this.onDidFinish, onDidFail: this.onDidFail, onDidChange: this.onDidChange,
    });
    this._register(this.queue.onDidChange(() => this._onDidChange.fire()));
    // Rescan first so listeners see the store as it now is; meanwhile a finished (verified) model shows as ready.
    this._register(this.queue.onDidFinish(({ id }) => {
      this.settling.set(id, this.refresh([id]).finally(() => {
        this.settling.delete(id);
        this._onDidFinish.fire({ id });
      }));
    }));
    this._register(this.queue.onDidFail((e) => {
      void this.refresh([e.id]).finally(() => this._onDidFail.fire(e));
    }));
  }

  getModels(): readonly ModelEntry[] {
    return [...this.models.values()];
  }

  /** Replaces the catalog's models (e.g. after a catalog file changed) and rescans the store. */
  async setModels(models: readonly ModelEntry[]): Promise<void> {
    this.models = new Map(models.map((m) => [m.id, m]));
    this.queue.retain(new Set(this.models.keys()));
    await this.refresh();
  }

  getSettings(): DownloadSettings {
    return this.settings;
  }

  /** Applies settings live: the speed limit at once, concurrency at the next start. */
  updateSettings(changes: Partial<DownloadSettings>): void {
    this.settings = { ...this.settings, ...changes };
    this.limiter.setLimit(this.settings.speedLimitMBps);
    // A higher concurrency starts queued downloads now, not at the next state change.
    this.queue.kick();
    this._onDidChange.fire();
  }

  getHealthSettings(): HealthSettings {
    return this.healthSettings;
  }

  /** Applies `modelAvailability.health.*` (what counts as not recently verified; the monitor reads it too). */
  updateHealthSettings(changes: Partial<HealthSettings>): void {
    this.healthSettings = { ...this.healthSettings, ...changes };
    this._onDidChange.fire();
  }

  /** Re-reads the store from disk (the store is the truth): the quick check. It never throws for one model's sake. */
  /** Changes whenever the store is rescanned or a version removed, so views can cache what they read from disk. */
  get storeGeneration(): number {
    return this._storeGeneration;
  }

  async refresh(ids?: readonly string[]): Promise<void> {
    this._storeGeneration++;
    for (const id of ids ?? [...this.models.keys()]) {
      const model = this.models.get(id);
      if (!model) continue;
      const scanned = await scanModel(this.layout, model).catch((err: unknown): StoredModel => ({
        id, files: [], bytesOnDisk: 0, ready: false, manifestError: `the store cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      }));
      this.stored.set(id, scanned);
    }
    this._onDidChange.fire();
  }

  getModelStates(): ModelState[] {
    return [...this.models.keys()].map((id) => this.stateOf(id));
  }

  getModelState(id: string): ModelState | undefined {
    return this.models.has(id) ? this.stateOf(id) : undefined;
  }

  /** Queues models for download; a model already in the store verifies as ready without transferring. */
  download(ids: readonly string[], priority: DownloadPriority = 'normal'): void {
    for (const id of ids) {
      this.requireModel(id);
      // A check or repair works on these very files; a download now would race it.
      if (this.integrity.isBusy(id)) throw new OperationRefusedError('busy', `${id} is being checked or repaired; try again when that has finished`);
    }
    for (const id of ids) this.queue.enqueue(id, priority);
  }

  pause(id: string): void {
    this.queue.pause(id);
  }

  resume(id: string): void {
    this.queue.resume(id);
  }

  /** Stops the download (or repair) and deletes its partial data. */
  async cancel(id: string): Promise<void> {
    await this.queue.cancel(id);
    this.integrity.cancelled(id);
    await this.refresh([id]);
  }

  /**
   * Full check: sha256 of each whole file (and of every piece where it differs), in worker threads; cancellable through
   * `signal`. Records verifiedAt (good files) or the changed pieces (damaged ones) in the manifest.
   * Refused (OperationRefusedError) while the model downloads.
   */
  verify(id: string, opts: VerifyOptions = {}): Promise<HealthReport> {
    return this.reportIntegrity(id, 'check', () => this.integrity.verify(id, opts));
  }

  /**
   * Checks the model, then fetches only what is damaged: changed pieces (Range requests, into place), a
   * truncated tail, missing files. Falls back to a whole-file download — keeping the old copy until the
   * new one is verified — when the server ignores Range or more than half the pieces are bad. An
   * interrupted repair resumes when run again.
   */
  repair(id: string, opts: VerifyOptions = {}): Promise<RepairResult> {
    return this.reportIntegrity(id, 'repair', () => this.integrity.repair(id, opts));
  }

  /** Downloads every file again; each old copy stays until its replacement is verified. */
  redownload(id: string): Promise<RepairResult> {
    return this.reportIntegrity(id, 'repair', () => this.integrity.redownload(id));
  }

  private async reportIntegrity<T extends { readonly health: Health | null }>(id: string, kind: IntegrityEvent['kind'], run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await run();
    this._onDidCheck.fire({ id, kind, ok: result.health === 'green', durationMs: Date.now() - started });
    return result;
  }

  /**
   * Deletes the model's files and manifest; returns the bytes freed. Refused while it downloads (cancel
   * first), while it is checked or repaired, while another process downloads it, or when `isInUse` says a
   * lease holds it (pass ModelRequests.isInUse).
   */
  remove(id: string, opts: { isInUse?: (id: string) => boolean } = {}): Promise<number> {
    return this.integrity.remove(id, opts.isInUse);
  }

  /** The versions of a model on disk, the catalog's current one included when installed. */
  installedVersions(id: string): Promise<InstalledVersion[]> {
    return installedVersions(this.layout, this.requireModel(id).id);
  }

  /** Removes an older version; the catalog's current version goes through remove(), with its guards. */
  async removeVersion(id: string, version: string): Promise<number> {
    const model = this.requireModel(id);
    if (version === model.version) throw new OperationRefusedError('busy', `${version} is the current version of ${id}; use Remove Model`);
    const freed = await removeInstalledVersion(this.layout, id, version);
    this._storeGeneration++;
    this.logger.info(`removed older version ${version}`, id);
    this._onDidChange.fire();
    return freed;
  }

  /** A check, repair or removal of this model is running. */
  isBusy(id: string): boolean {
    return this.integrity.isBusy(id);
  }

  /** `reason` shows as the downloads' paused reason. */
  pauseAll(reason?: string): void {
    this.queue.pauseAll(reason);
  }

  resumeAll(): void {
    this.queue.resumeAll();
  }

  setPriority(id: string, priority: DownloadPriority): void {
    this.queue.setPriority(id, priority);
  }

  /** Moves the given downloads to the front of their priority, in this order. */
  reorder(ids: readonly string[]): void {
    this.queue.reorder(ids);
  }

  /** Called by the model-request code around generations (honours pauseDuringGeneration). */
  setGenerationActive(active: boolean): void {
    this.queue.setGenerationActive(active);
  }

  /** Settles when no download is running or queued. */
  async whenIdle(): Promise<void> {
    await this.queue.whenIdle();
    await Promise.all(this.settling.values());
  }

  /** Resolves once queue.json reflects every change so far. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  private stateOf(id: string): ModelState {
    const stored = this.stored.get(id);
    const item = this.queue.get(id);
    const files: ModelFileState[] = (stored?.files ?? []).map((f) => ({
      path: f.path, localPath: f.localPath, state: f.state, bytesOnDisk: f.bytesOnDisk, size: f.size, sha256: f.sha256,
      sha256Expected: f.manifest?.sha256Expected, verifiedAt: f.manifest?.verifiedAt, installedAt: f.manifest?.installedAt, problem: f.problem,
    }));
    const model = this.requireModel(id);
    const catalogTotal = this.catalogTotal(model);
    // Partial data with no queue entry: a download interrupted elsewhere (e.g. a killed CLI) that can resume.
    let state: ModelStateName = stored?.ready ? 'ready' : stored?.files.some((f) => f.state === 'partial') ? 'paused' : 'missing';
    if (item) state = item.state === 'running' ? 'downloading' : item.state;
    else if (this.settling.has(id)) state = 'ready';
    const bytesOnDisk = item?.progress && item.state === 'running' ? item.progress.bytesDone : (stored?.bytesOnDisk ?? 0);
    const partial = {
      // Hugging Face files give no size in the catalog: once installed, what is on disk is the size.
      id, state, bytesOnDisk, totalBytes: item?.progress?.total ?? catalogTotal ?? (stored?.ready ? stored.bytesOnDisk : undefined), priority: item?.priority, progress: item?.progress,
      queuePosition: item?.queuePosition, waitEstimateSeconds: item?.waitEstimateSeconds, pausedReason: item?.pausedReason,
      error: item?.error, files,
    };
    const { health, reasons } = this.healthOfModel(partial);
    return { ...partial, health, healthReasons: reasons };
  }

  private healthOfModel(s: Pick<ModelState, 'id' | 'state' | 'files' | 'error' | 'pausedReason'>): ModelHealth {
    const stored = this.stored.get(s.id);
    return healthOf({
      state: s.state, error: s.error, pausedReason: s.pausedReason, manifestError: stored?.manifestError,
      lastRunWasRepair: this.integrity.wasRepair(s.id), checkIntervalHours: this.healthSettings.checkIntervalHours, now: Date.now(),
      files: (stored?.files ?? []).map((f) => ({
        path: f.path, state: f.state, problem: f.problem, damagedPieces: f.manifest?.damagedPieces?.length,
        sha256Expected: f.manifest?.sha256Expected, verifiedAt: f.manifest?.verifiedAt,
      })),
    });
  }

  private remainingBytes(id: string): number | undefined {
    const total = this.catalogTotal(this.requireModel(id));
    return total !== undefined ? Math.max(0, total - (this.stored.get(id)?.bytesOnDisk ?? 0)) : undefined;
  }

  private catalogTotal(model: ModelEntry): number | undefined {
    return model.files.every((f) => f.size !== undefined) ? model.files.reduce((s, f) => s + (f.size ?? 0), 0) : undefined;
  }

  private async discardPartial(id: string): Promise<void> {
    const model = this.models.get(id);
    if (!model) return;
    let kept = 0;
    for (const f of model.files) {
      const finalPath = this.layout.filePath(model.id, model.version, f.path);
      if (!(await whenLockFree(finalPath, this.lockStaleMs, () => removePartData(finalPath)))) kept++;
    }
    // Another window downloads it: its data is its own; cancelling here only stops following it.
    if (kept) this.logger.info(`download cancelled here; ${kept} file(s) are downloading in another window, which keeps them (cancel there)`, id);
    else this.logger.info('download cancelled; partial data removed', id);
  }

  private requireModel(id: string): ModelEntry {
    const m = this.models.get(id);
    if (!m) throw new Error(`unknown model id: ${id}`);
    return m;
  }
}
