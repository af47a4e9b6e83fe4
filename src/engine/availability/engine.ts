import type { ModelEntry } from '../catalog/catalogTypes';
import { Emitter, type Event } from '../core/event';
import { Disposable } from '../core/lifecycle';
import { KeyedThrottle } from '../core/throttle';
import { DownloadQueue, type DownloadFailure, type DownloadPriority } from './downloadQueue';
import { credentialFor, downloadModel } from './modelDownload';
import { hfEndpoint, resolveHubRevision } from '../transfer/http/huggingFace';
import { NULL_LOGGER, withDefaults, type DownloadSettings, type Logger } from '../transfer/settings';
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from './health';
import { ModelIntegrity, type IntegrityEvent } from './modelIntegrity';
import { SpeedLimiter } from '../transfer/speedLimiter';
import type { StoredModel } from '../store/storeScanner';
import { installedVersions, removeInstalledVersion, scanInstalled, type InstalledVersion } from '../store/installedVersions';
import { StoreLayout } from '../store/storeLayout';
import { isVariantOf } from '../store/versionContent';
import { OperationRefusedError } from '../core/operationRefused';
import type { AvailabilityEngineOptions, DownloadControls, IntegrityControls } from './engineTypes';
import { catalogTotal, modelStateOf, type ModelChange, type ModelState } from './modelState';
import { UseGuard } from './useGuard';
import { ModelUpdates, type UpdateSettings } from './updates/modelUpdates';

export * from './engineTypes';

/** Progress events of one model go out at most this often (leading and trailing); state changes at once. */
const PROGRESS_INTERVAL_MS = 250;


/** The one entry point the extension and the CLI use: store state, the download queue, and their events. */
export class AvailabilityEngine extends Disposable {
  readonly layout: StoreLayout;
  /** Leases, generations and a storage move register here; remove, repair, move and cleanup ask here. */
  readonly uses: UseGuard;
  /** Pause, resume, prioritise and reorder downloads (download and cancel are the engine's own). */
  readonly downloads: DownloadControls;
  /** Verify, repair, re-download and remove models. */
  readonly integrity: IntegrityControls;
  /** Check, update, roll back and hold models' versions. */
  readonly updates: ModelUpdates;
  private models = new Map<string, ModelEntry>();
  private stored = new Map<string, StoredModel>();
  private downloadSettings: DownloadSettings;
  private healthSettings: HealthSettings;
  private readonly checks: ModelIntegrity;
  private readonly limiter: SpeedLimiter;
  private readonly queue: DownloadQueue;
  private readonly logger: Logger;
  /** A download lock not refreshed for this long belongs to a dead process. */
  private readonly lockStaleMs: number;
  /** Models whose download just finished and whose store entry is being rescanned. */
  private readonly settling = new Map<string, Promise<void>>();

  private readonly _onDidChangeModel = this._register(new Emitter<ModelChange>());
  /** One model changed; progress is throttled per model to a few events a second, state changes go out at once. */
  readonly onDidChangeModel: Event<ModelChange> = this._onDidChangeModel.event;
  private readonly progressThrottle = this._register(new KeyedThrottle<string>(PROGRESS_INTERVAL_MS, (id) => this._onDidChangeModel.fire({ id, kind: 'progress' })));
  private readonly _onDidChangeCatalog = this._register(new Emitter<void>());
  /** The list of models changed (setModels): views rebuild their list. */
  readonly onDidChangeCatalog: Event<void> = this._onDidChangeCatalog.event;
  private readonly _onDidFinish = this._register(new Emitter<{ id: string }>());
  readonly onDidFinish: Event<{ id: string }> = this._onDidFinish.event;
  private readonly _onDidFail = this._register(new Emitter<DownloadFailure>());
  readonly onDidFail: Event<DownloadFailure> = this._onDidFail.event;
  /** A full check or a repair ended (for usage analytics and logs). */
  readonly onDidCheck: Event<IntegrityEvent>;

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
    this.downloadSettings = withDefaults(options.settings);
    this.healthSettings = { ...DEFAULT_HEALTH_SETTINGS, ...options.health };
    this.limiter = new SpeedLimiter(this.downloadSettings.speedLimitMBps);
    this.uses = this._register(new UseGuard());
    for (const m of options.models) this.models.set(m.id, m);
    this.queue = this._register(new DownloadQueue({
      runner: {
        run: async (id, signal, onProgress) => downloadModel({
          layout: this.layout, settings: () => this.downloadSettings, limiter: this.limiter, logger: this.logger,
          credentials: options.credentials, hfEndpoint: options.hfEndpoint, io: options.io, lockStaleMs: this.lockStaleMs,
          mode: this.checks.modeFor(id), localCopies: options.localCopies,
        }, await this.updates.entryToFetch(id, this.checks.wasRepair(id)), signal, onProgress),
        discard: (id) => this.updates.discard(id, this.lockStaleMs),
        remainingBytes: (id) => this.remainingBytes(id),
      },
      concurrency: () => this.downloadSettings.concurrency,
      pauseDuringGeneration: () => this.downloadSettings.pauseDuringGeneration,
      persistFile: options.persistQueue === false ? undefined : this.layout.queueFile,
      logger: this.logger,
    }));
    this.downloads = this.queue;
    this.checks = this._register(new ModelIntegrity({
      layout: this.layout, lockStaleMs: this.lockStaleMs, logger: this.logger, uses: this.uses,
      requireModel: (id) => this.requireModel(id),
      installedVersion: (id) => this.stateOf(id).installedVersion,
      queueItem: (id) => this.queue.get(id),
      enqueue: (id, priority) => this.queue.enqueue(id, priority),
      cancel: (id) => this.cancel(id),
      refresh: (ids) => this.refresh(ids),
      healthOf: (id) => { const s = this.stateOf(id); return { health: s.health, reasons: s.healthReasons }; },
      onDidFinish: this.onDidFinish, onDidFail: this.onDidFail, onDidChangeModel: this.onDidChangeModel,
    }));
    this.integrity = this.checks;
    this.updates = this._register(new ModelUpdates({
      layout: this.layout, logger: this.logger, uses: this.uses, models: () => this.getModels(), model: (id) => this.requireModel(id),
      state: (id) => this.stateOf(id), stored: (id) => this.stored.get(id), enqueue: (id, priority) => this.queue.enqueue(id, priority),
      refresh: (ids) => this.refresh(ids), onDidFail: this.onDidFail,
      reloadCatalogs: this.catalogReloader(options.reloadCatalogs),
      resolveRevision: async (repo, revision) => {
        const endpoint = options.hfEndpoint ?? hfEndpoint();
        return resolveHubRevision(repo, revision, { endpoint, auth: await credentialFor(options, endpoint), transport: this.downloadSettings.transport });
      },
    }, options.updates));
    this.onDidCheck = this.checks.onDidCheck;
    this._register(this.queue.onDidChange(({ id, kind }) => this.changed(id, kind)));
    // Downloads pause while a model generates (pauseDuringGeneration): generations register in the guard.
    this._register(this.uses.onDidChange(() => this.queue.setGenerationActive(this.uses.generationsRunning > 0)));
    // Rescan first so listeners see the store as it now is; meanwhile a finished (verified) model shows as ready.
    this._register(this.queue.onDidFinish(({ id }) => {
      // An update switches to the version just verified before the rescan, so the rescan sees the new one installed.
      const switched = this.updates.installFinished(id).catch((err: unknown) => this.logger.error(`switching versions failed: ${String(err)}`, id));
      this.settling.set(id, switched.then(() => this.refresh([id])).finally(() => {
        this.settling.delete(id);
        // Ready, with the paths of what the rescan found: the state change that was held back meanwhile.
        this.changed(id, 'state');
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
    this._onDidChangeCatalog.fire();
  }

  /** The download and health settings in effect. */
  get settings(): { readonly download: DownloadSettings; readonly health: HealthSettings } {
    return { download: this.downloadSettings, health: this.healthSettings };
  }

  /**
   * Applies settings live: the speed limit at once, concurrency at the next start, `health.*` (what counts
   * as not recently verified; the monitor reads it too) at once.
   */
  configure(changes: { readonly download?: Partial<DownloadSettings>; readonly health?: Partial<HealthSettings>; readonly updates?: Partial<UpdateSettings> }): void {
    if (changes.updates) {
      this.updates.configure(changes.updates);
      for (const id of this.models.keys()) this.changed(id, 'state');
    }
    if (changes.download) {
      this.downloadSettings = { ...this.downloadSettings, ...changes.download };
      this.limiter.setLimit(this.downloadSettings.speedLimitMBps);
      // A higher concurrency starts queued downloads now, not at the next state change.
      this.queue.kick();
    }
    if (changes.health) {
      this.healthSettings = { ...this.healthSettings, ...changes.health };
      for (const id of this.models.keys()) this.changed(id, 'health');
    }
  }

  /** Re-reads the store from disk (the store is the truth): the quick check. It never throws for one model's sake. */
  async refresh(ids?: readonly string[]): Promise<void> {
    for (const id of ids ?? [...this.models.keys()]) {
      const model = this.models.get(id);
      if (!model) continue;
      await this.updates.load(id);
      // A first download pinned to a hub commit is scanned in its own folder: it shows its progress, and resumes.
      const scanned = await scanInstalled(this.layout, this.updates.downloadTarget(id) ?? model).catch((err: unknown): StoredModel => ({
        id, version: model.version, files: [], bytesOnDisk: 0, ready: false, manifestError: `the store cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      }));
      this.stored.set(id, scanned);
      this.changed(id, 'files');
    }
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
      if (this.checks.isBusy(id)) throw new OperationRefusedError('busy', `${id} is being checked or repaired; try again when that has finished`);
    }
    for (const id of ids) {
      // Another version than the installed one downloads into its own folder and switches when verified.
      this.updates.downloadRequested(id).catch((err: unknown) => this.logger.error(`the update could not be recorded in installed.json: ${String(err)}`, id));
      this.queue.enqueue(id, priority);
    }
  }

  /** Stops the download (or repair) and deletes its partial data. */
  async cancel(id: string): Promise<void> {
    await this.queue.cancel(id);
    this.checks.cancelled(id);
    await this.refresh([id]);
  }

  /** The versions of a model on disk, the catalog's current one included when installed. */
  installedVersions(id: string): Promise<InstalledVersion[]> {
    return installedVersions(this.layout, this.requireModel(id).id);
  }

  /** Removes a version other than the installed and the catalog's ones (those go through integrity.remove(), with its guards). */
  async removeVersion(id: string, version: string): Promise<number> {
    const model = this.requireModel(id);
    const installed = this.stateOf(id).installedVersion;
    // The catalog's version goes through Remove Model, unless what is installed is that version at a commit or with other files.
    if (version === installed || (version === model.version && (installed === null || !isVariantOf(installed, model.version)))) {
      throw new OperationRefusedError('busy', `${version} is the current version of ${id}; use Remove Model`);
    }
    // A lease granted before a switch keeps pointing into the version it was given.
    if (this.uses.holdsVersion(id, version)) this.uses.refuse(id, `remove version ${version} of`);
    const freed = await removeInstalledVersion(this.layout, id, version);
    this.logger.info(`removed older version ${version}`, id);
    await this.refresh([id]);
    return freed;
  }

  /** Settles when no download is running or queued. */
  async whenIdle(): Promise<void> {
    await this.queue.whenIdle();
    await Promise.all(this.settling.values());
  }

  private changed(id: string, kind: ModelChange['kind']): void {
    // A finished download is rescanned first; its 'state' event follows the rescan, so it comes with its paths.
    if (this.settling.has(id) && (kind === 'state' || kind === 'progress')) return;
    if (kind === 'progress') {
      this.progressThrottle.push(id);
      return;
    }
    // Listeners re-read the whole state on any event: a progress event still pending would only repeat it.
    this.progressThrottle.cancel(id);
    this._onDidChangeModel.fire({ id, kind });
  }

  private stateOf(id: string): ModelState {
    return modelStateOf({
      model: this.requireModel(id), stored: this.stored.get(id), item: this.queue.get(id), settling: this.settling.has(id),
      held: this.updates.held.includes(id), hubUpdate: this.updates.hubUpdate(id), skipped: this.updates.skippedVersion(id), updateTo: this.updates.downloadTarget(id)?.version,
      lastRunWasRepair: this.checks.wasRepair(id), healthSettings: this.healthSettings, now: Date.now(),
    });
  }

  private remainingBytes(id: string): number | undefined {
    const total = catalogTotal(this.requireModel(id));
    return total !== undefined ? Math.max(0, total - (this.stored.get(id)?.bytesOnDisk ?? 0)) : undefined;
  }

  private catalogReloader(reload: AvailabilityEngineOptions['reloadCatalogs']): (() => Promise<void>) | undefined {
    return reload && (async () => this.setModels(await reload()));
  }

  private requireModel(id: string): ModelEntry {
    const m = this.models.get(id);
    if (!m) throw new Error(`unknown model id: ${id}`);
    return m;
  }
}
