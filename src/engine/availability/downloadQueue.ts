import { Emitter, type Event } from '../core/event';
import { Disposable, toDisposable } from '../core/lifecycle';
import { DownloadError, toDownloadError } from '../core/downloadError';
import { SpeedMeter } from '../transfer/speedMeter';
import { QueueFile } from './queueFile';
import { queueSnapshot, type MutableItem } from './queueSnapshot';
import type { DownloadFailure, DownloadPriority, DownloadQueueOptions, QueueChange, QueueItem } from './queueTypes';

export type {
  DownloadFailure, DownloadPriority, DownloadQueueOptions, QueueChange, QueueItem, QueueItemState, QueueProgress, QueueRunner,
} from './queueTypes';

const RANK: Record<DownloadPriority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Models waiting to download, in priority order, with `concurrency` running. It survives restarts through
 * `queue.json` (running and queued items come back queued, paused ones paused).
 */
export class DownloadQueue extends Disposable {
  private readonly items = new Map<string, MutableItem>();
  private nextOrder = 0;
  private generationActive = false;
  private readonly file: QueueFile | undefined;

  private readonly _onDidChange = this._register(new Emitter<QueueChange>());
  /** Every change, unthrottled: the engine throttles per model. */
  readonly onDidChange: Event<QueueChange> = this._onDidChange.event;
  private readonly _onDidFinish = this._register(new Emitter<{ id: string }>());
  readonly onDidFinish: Event<{ id: string }> = this._onDidFinish.event;
  private readonly _onDidFail = this._register(new Emitter<DownloadFailure>());
  readonly onDidFail: Event<DownloadFailure> = this._onDidFail.event;

  constructor(private readonly opts: DownloadQueueOptions) {
    super();
    this.file = opts.persistFile !== undefined ? new QueueFile(opts.persistFile, opts.logger) : undefined;
    this._register(toDisposable(() => {
      for (const item of this.items.values()) item.controller?.abort(new DownloadError('aborted', 'shutting down'));
    }));
  }

  /** Loads queue.json, keeping only models that still exist; call once before enqueueing. */
  async restore(known: ReadonlySet<string>): Promise<void> {
    if (!this.file) return;
    for (const saved of await this.file.read(known)) {
      if (!this.items.has(saved.id)) this.items.set(saved.id, { ...saved, order: this.nextOrder++ });
    }
    this.pump();
  }

  /** Forgets items whose models no longer exist (catalog changed). */
  retain(ids: ReadonlySet<string>): void {
    for (const item of [...this.items.values()]) {
      if (!ids.has(item.id) && item.state !== 'running') {
        this.items.delete(item.id);
        this.changedOrder(item.id);
      }
    }
  }

  enqueue(id: string, priority: DownloadPriority = 'normal'): void {
    const item = this.items.get(id);
    if (item && (item.state === 'running' || item.state === 'queued')) {
      if (item.priority !== priority) this.setPriority(id, priority);
      return;
    }
    this.items.set(id, { id, priority, state: 'queued', order: this.nextOrder++ });
    this.startOrAnnounce(id);
  }

  /** `reason`: why, when it is not the person's own Pause (a generation running, a full disk). */
  pause(id: string, reason?: string): void {
    const item = this.items.get(id);
    if (!item || item.state === 'paused' || item.state === 'failed') return;
    item.state = 'paused';
    item.pausedReason = reason;
    item.controller?.abort(new DownloadError('aborted', reason ?? 'paused'));
    this.changedOrder(id);
    this.pump();
  }

  resume(id: string): void {
    const item = this.items.get(id);
    if (!item || (item.state !== 'paused' && item.state !== 'failed')) return;
    // If it is still winding down after a pause, pump() starts it again once that finishes.
    item.state = 'queued';
    item.pausedReason = undefined;
    item.error = undefined;
    item.failureCode = undefined;
    item.heldByGeneration = false;
    this.startOrAnnounce(id);
  }

  /** Starts what may start; a queued item that did not start is told as queued (one that did, as running). */
  private startOrAnnounce(id: string): void {
    this.pump();
    if (this.items.get(id)?.state === 'queued') this.changedOrder(id);
  }

  /** Stops the download and deletes its partial data. */
  async cancel(id: string): Promise<void> {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    item.controller?.abort(new DownloadError('aborted', 'cancelled'));
    await item.running;
    await this.opts.runner.discard(id);
    this.changedOrder(id);
    this.pump();
  }

  pauseAll(reason?: string): void {
    for (const item of this.items.values()) this.pause(item.id, reason);
  }

  resumeAll(): void {
    for (const item of this.items.values()) if (item.state === 'paused') this.resume(item.id);
  }

  setPriority(id: string, priority: DownloadPriority): void {
    const item = this.items.get(id);
    if (!item) return;
    item.priority = priority;
    this.changedOrder(id);
    this.pump();
  }

  /** Puts the given ids first, in this order, within their priority. */
  reorder(ids: readonly string[]): void {
    const first = -this.nextOrder - ids.length;
    ids.forEach((id, i) => {
      const item = this.items.get(id);
      if (item) item.order = first + i;
    });
    this.changedOrder();
    this.pump();
  }

  /** While a generation runs, transfers stop (keeping their data) and restart after it, if so configured. */
  setGenerationActive(active: boolean): void {
    if (this.generationActive === active) return;
    this.generationActive = active;
    if (active && this.opts.pauseDuringGeneration()) {
      for (const item of this.items.values()) {
        if (item.state === 'running' || item.state === 'queued') {
          this.pause(item.id, 'paused while a model generates');
          item.heldByGeneration = true;
        }
      }
    } else if (!active) {
      for (const item of this.items.values()) if (item.heldByGeneration) this.resume(item.id);
    }
  }

  get(id: string): QueueItem | undefined {
    return this.snapshot().find((i) => i.id === id);
  }

  snapshot(): QueueItem[] {
    return queueSnapshot(this.ordered(), (id) => this.opts.runner.remainingBytes(id));
  }

  /** Settles when nothing is running or queued (the CLI waits on this). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if ([...this.items.values()].some((i) => i.state === 'running' || i.state === 'queued' || i.running)) return false;
        resolve();
        return true;
      };
      if (check()) return;
      const sub = this.onDidChange(() => { if (check()) sub.dispose(); });
    });
  }

  private ordered(): MutableItem[] {
    return [...this.items.values()].sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.order - b.order);
  }

  /** Starts what may start now, e.g. after `concurrency` went up. */
  kick(): void {
    this.pump();
  }

  private pump(): void {
    if (this.isDisposed) return;
    let running = [...this.items.values()].filter((i) => i.running).length;
    for (const item of this.ordered()) {
      if (running >= Math.max(1, this.opts.concurrency())) break;
      if (item.state !== 'queued' || item.running) continue;
      this.start(item);
      running++;
    }
  }

  private start(item: MutableItem): void {
    const controller = new AbortController();
    item.controller = controller;
    item.state = 'running';
    item.meter = new SpeedMeter();
    item.progress = undefined;
    this.changedOrder(item.id);
    this.opts.logger.info(`download started`, item.id);
    item.running = this.opts.runner.run(item.id, controller.signal, (p) => {
      item.progress = p;
      item.meter?.sample(p.bytesDone);
      this._onDidChange.fire({ id: item.id, kind: 'progress' });
    }).then(
      () => this.settle(item, undefined),
      (err: unknown) => this.settle(item, toDownloadError(err)),
    );
  }

  private settle(item: MutableItem, err: DownloadError | undefined): void {
    item.running = undefined;
    item.controller = undefined;
    item.meter = undefined;
    const current = this.items.get(item.id) === item;
    if (!err) {
      if (current) this.items.delete(item.id);
      this._onDidFinish.fire({ id: item.id });
    } else if (err.kind === 'aborted') {
      // Paused or cancelled: the state was already set by whoever aborted it.
      if (current && item.state === 'running') item.state = 'queued';
      this.opts.logger.info(`download stopped: ${err.message}`, item.id);
    } else if (err.kind === 'diskFull') {
      item.state = 'paused';
      item.pausedReason = err.message;
      item.failureCode = err.code;
      this.opts.logger.error(`download paused: ${err.message}`, item.id);
      this._onDidFail.fire({ id: item.id, reason: err.message, code: err.code, kind: 'paused' });
    } else {
      item.state = 'failed';
      item.error = err.message;
      item.failureCode = err.code;
      this.opts.logger.error(`download failed: ${err.message}`, item.id);
      this._onDidFail.fire({ id: item.id, reason: err.message, code: err.code, kind: 'failed', fix: err.fix });
    }
    this.changedOrder(item.id);
    this.pump();
  }

  /**
   * A state transition of `id` (one that left the queue included): persists the queue and tells about it;
   * the other items' positions and wait estimates moved, which counts as progress.
   */
  private changedOrder(id?: string): void {
    this.persist();
    if (id !== undefined) this._onDidChange.fire({ id, kind: 'state' });
    for (const other of [...this.items.keys()]) if (other !== id) this._onDidChange.fire({ id: other, kind: 'progress' });
  }

  private persist(): void {
    // After dispose the next process may already own queue.json: late settles must not overwrite it.
    if (!this.file || this.isDisposed) return;
    this.file.save(this.ordered()
      .filter((i) => i.state !== 'failed')
      // Held by a generation is not a person's pause: after a restart it goes on.
      .map((i) => ({ id: i.id, priority: i.priority, state: i.state === 'paused' && !i.heldByGeneration ? 'paused' as const : 'queued' as const, pausedReason: i.heldByGeneration ? undefined : i.pausedReason })));
  }

  /** Resolves when queue.json reflects every change so far. */
  flush(): Promise<void> {
    return this.file?.flush() ?? Promise.resolve();
  }
}
