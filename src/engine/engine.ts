import type { ModelEntry } from './catalog/catalogTypes';
import { Emitter, type Event } from './base/event';
import { Disposable } from './base/lifecycle';
import { DownloadQueue, type DownloadPriority, type QueueProgress } from './download/downloadQueue';
import type { TransferIo } from './download/fileTransfer';
import { downloadModel } from './download/modelDownload';
import { removePartData } from './download/partState';
import { NULL_LOGGER, withDefaults, type DownloadSettings, type Logger } from './download/settings';
import { SpeedLimiter } from './net/speedLimiter';
import { scanModel, type StoredFileState, type StoredModel } from './store/storeScanner';
import { StoreLayout } from './store/storeLayout';

export type { DownloadPriority } from './download/downloadQueue';
export type { DownloadSettings, Logger } from './download/settings';

export type ModelStateName = 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';

export interface ModelFileState {
  readonly path: string;
  readonly localPath: string;
  readonly state: StoredFileState;
  readonly bytesOnDisk: number;
  readonly size?: number;
  readonly sha256?: string;
  /** Whether the sha256 came from the catalog or hub (false = we only know what we downloaded). */
  readonly sha256Expected?: boolean;
  readonly verifiedAt?: string;
}

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
}

/** The one entry point the extension and the CLI use: store state, the download queue, and their events. */
export class AvailabilityEngine extends Disposable {
  readonly layout: StoreLayout;
  private models = new Map<string, ModelEntry>();
  private stored = new Map<string, StoredModel>();
  private settings: DownloadSettings;
  private readonly limiter: SpeedLimiter;
  private readonly queue: DownloadQueue;
  private readonly logger: Logger;
  /** Models whose download just finished and whose store entry is being rescanned. */
  private readonly settling = new Map<string, Promise<void>>();

  private readonly _onDidChange = this._register(new Emitter<void>());
  /** Something about the models' states changed; throttled to a few events per second. */
  readonly onDidChange: Event<void> = this._onDidChange.event;
  private readonly _onDidFinish = this._register(new Emitter<{ id: string }>());
  readonly onDidFinish: Event<{ id: string }> = this._onDidFinish.event;
  private readonly _onDidFail = this._register(new Emitter<{ id: string; reason: string; kind: 'failed' | 'paused' }>());
  readonly onDidFail: Event<{ id: string; reason: string; kind: 'failed' | 'paused' }> = this._onDidFail.event;

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
    this.settings = withDefaults(options.settings);
    this.limiter = new SpeedLimiter(this.settings.speedLimitMBps);
    for (const m of options.models) this.models.set(m.id, m);
    this.queue = this._register(new DownloadQueue({
      runner: {
        run: (id, signal, onProgress) => downloadModel({
          layout: this.layout, settings: () => this.settings, limiter: this.limiter, logger: this.logger,
          hfToken: options.hfToken, hfEndpoint: options.hfEndpoint, io: options.io, lockStaleMs: options.lockStaleMs,
        }, this.requireModel(id), signal, onProgress),
        discard: (id) => this.discardPartial(id),
        remainingBytes: (id) => this.remainingBytes(id),
      },
      concurrency: () => this.settings.concurrency,
      pauseDuringGeneration: () => this.settings.pauseDuringGeneration,
      persistFile: options.persistQueue === false ? undefined : this.layout.queueFile,
      logger: this.logger,
    }));
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
    this._onDidChange.fire();
  }

  /** Re-reads the store from disk (the store is the truth). */
  async refresh(ids?: readonly string[]): Promise<void> {
    for (const id of ids ?? [...this.models.keys()]) {
      const model = this.models.get(id);
      if (model) this.stored.set(id, await scanModel(this.layout, model));
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
    for (const id of ids) this.requireModel(id);
    for (const id of ids) this.queue.enqueue(id, priority);
  }

  pause(id: string): void {
    this.queue.pause(id);
  }

  resume(id: string): void {
    this.queue.resume(id);
  }

  /** Stops the download and deletes its partial data. */
  async cancel(id: string): Promise<void> {
    await this.queue.cancel(id);
    await this.refresh([id]);
  }

  pauseAll(): void {
    this.queue.pauseAll();
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
      sha256Expected: f.manifest?.sha256Expected, verifiedAt: f.manifest?.verifiedAt,
    }));
    const model = this.requireModel(id);
    const catalogTotal = this.catalogTotal(model);
    // Partial data with no queue entry: a download interrupted elsewhere (e.g. a killed CLI) that can resume.
    let state: ModelStateName = stored?.ready ? 'ready' : stored?.files.some((f) => f.state === 'partial') ? 'paused' : 'missing';
    if (item) state = item.state === 'running' ? 'downloading' : item.state;
    else if (this.settling.has(id)) state = 'ready';
    const bytesOnDisk = item?.progress && item.state === 'running' ? item.progress.bytesDone : (stored?.bytesOnDisk ?? 0);
    return {
      id, state, bytesOnDisk, totalBytes: item?.progress?.total ?? catalogTotal, priority: item?.priority, progress: item?.progress,
      queuePosition: item?.queuePosition, waitEstimateSeconds: item?.waitEstimateSeconds, pausedReason: item?.pausedReason,
      error: item?.error, files,
    };
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
    for (const f of model.files) await removePartData(this.layout.filePath(model.id, model.version, f.path));
    this.logger.info('download cancelled; partial data removed', id);
  }

  private requireModel(id: string): ModelEntry {
    const m = this.models.get(id);
    if (!m) throw new Error(`unknown model id: ${id}`);
    return m;
  }
}
