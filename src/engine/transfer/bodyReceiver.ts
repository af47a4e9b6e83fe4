import { DownloadError, toDownloadError } from '../core/downloadError';
import type { ByteSink, ResponseBody } from './http/responseBody';
import type { SpeedLimiter } from './speedLimiter';
import type { SlotPool } from './slotPool';

export interface ContentRange {
  readonly start: number;
  /** Inclusive, as in the header. */
  readonly end: number;
  readonly total?: number;
}

export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** Where a received body goes: the transfer's slots, its partial file and its hashers. */
export interface ReceiveTarget {
  readonly pool: SlotPool;
  readonly pieceSize: number;
  readonly stallMs: number;
  readonly limiter: SpeedLimiter;
  readonly signal: AbortSignal;
  /**
   * A sealed slot's bytes (all within one piece) for file offset `offset`: written and hashed off the event
   * loop, each slot as soon as it is sealed; resolves once they are on disk, and in order (each after every
   * slot stored before it).
   */
  store(slot: number, length: number, offset: number): Promise<void>;
  /** [offset, offset + length) is on disk. */
  written(offset: number, length: number): void;
  /** The body has landed up to file offset `pos` (in memory; progress only). */
  landed(pos: number): void;
}

/**
 * Receives a body for file offsets [start, end) through the slot pool: bytes land in a slot, a full slot (or
 * one that reaches a piece boundary or `end`) is sealed — handed over to be written and hashed —
 * and reading pauses while no slot is free, the speed limit says wait, or the disk is behind. Bytes that
 * arrived before a connection broke are still written. A watchdog fails the read when no bytes arrive for
 * `stallMs` while we wait on the network (time we paused ourselves does not count).
 * Returns the offset reached on disk.
 */
export async function receiveBody(body: ResponseBody, start: number, end: number, target: ReceiveTarget): Promise<number> {
  return new BodyReceiver(body, start, end, target).run();
}

type PauseReason = 'slots' | 'limit';

class BodyReceiver implements ByteSink {
  private slot: number | undefined;
  private fill = 0;
  /** File offset of the current slot's first byte. */
  private slotStart: number;
  private pos: number;
  private reached: number;
  private readonly paused = new Set<PauseReason>();
  private lastData = Date.now();
  private failure: unknown;
  /** A write failed: later writes may land, but nothing after the gap counts as on disk. */
  private writeFailed = false;
  private closed = false;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly body: ResponseBody, start: number, private readonly end: number, private readonly target: ReceiveTarget) {
    this.slotStart = start;
    this.pos = start;
    this.reached = start;
  }

  async run(): Promise<number> {
    const { signal, stallMs } = this.target;
    const onAbort = (): void => this.fail(signal.reason instanceof DownloadError ? signal.reason : new DownloadError('aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const watchdog = setInterval(() => {
      if (this.paused.size === 0 && Date.now() - this.lastData > stallMs) {
        this.fail(new DownloadError('retryable', `stalled: no data for ${Math.round(stallMs / 100) / 10} s`));
      }
    }, Math.max(50, Math.min(1000, stallMs / 4)));
    try {
      if (signal.aborted) onAbort();
      if (this.pos < this.end && this.failure === undefined) {
        await this.takeSlot();
        await this.body.readInto(this).catch((err: unknown) => { this.failure ??= toDownloadError(err); });
      }
    } finally {
      clearInterval(watchdog);
      signal.removeEventListener('abort', onAbort);
      this.closed = true;
      this.body.destroy();
      // What arrived before the end (or a break) is written all the same.
      if (this.slot !== undefined) {
        if (this.fill > 0) this.seal();
        else this.target.pool.release(this.slot);
        this.slot = undefined;
      }
      await this.lastWrite;
    }
    if (this.failure !== undefined) throw this.failure;
    return this.reached;
  }

  space(): Buffer {
    if (this.slot === undefined) throw new Error('no slot to read into');
    return this.target.pool.bytes(this.slot, this.fill, this.slotLimit());
  }

  landed(n: number): boolean {
    this.fill += n;
    this.pos += n;
    this.lastData = Date.now();
    this.target.landed(this.pos);
    if (this.fill === this.slotLimit()) {
      this.seal();
      if (this.pos >= this.end) {
        // Everything asked for is here; whatever else the server sends is not wanted.
        this.body.destroy();
        return false;
      }
      if (!this.tryTakeSlot()) {
        this.pauseFor('slots');
        void this.takeSlot().then(() => this.resumeFor('slots'));
      }
    }
    if (this.target.limiter.limited) {
      this.pauseFor('limit');
      this.target.limiter.take(n, this.target.signal).then(() => this.resumeFor('limit'), (err: unknown) => this.fail(err));
    }
    return this.paused.size === 0;
  }

  /** Bytes the current slot may take: up to its end, the piece boundary (a slot never spans two pieces) or `end`. */
  private slotLimit(): number {
    const pieceEnd = (Math.floor(this.slotStart / this.target.pieceSize) + 1) * this.target.pieceSize;
    return Math.min(this.target.pool.slotSize, pieceEnd - this.slotStart, this.end - this.slotStart);
  }

  private seal(): void {
    const slot = this.slot;
    if (slot === undefined) return;
    const length = this.fill;
    const offset = this.slotStart;
    this.slot = undefined;
    this.fill = 0;
    this.slotStart += length;
    const { pool } = this.target;
    // Settled in order, so what is on disk always ends at `reached`.
    const written = this.target.store(slot, length, offset);
    // Handled below, in order; until then a failure must not count as unhandled.
    written.catch(() => undefined);
    this.lastWrite = this.lastWrite.then(() => written).then(() => {
      pool.release(slot);
      if (this.writeFailed) return;
      this.reached = offset + length;
      this.target.written(offset, length);
    }, (err: unknown) => {
      pool.release(slot);
      this.writeFailed = true;
      this.fail(err);
    });
  }

  private tryTakeSlot(): boolean {
    this.slot = this.target.pool.acquire();
    return this.slot !== undefined;
  }

  private async takeSlot(): Promise<void> {
    while (!this.tryTakeSlot()) {
      await this.target.pool.whenFree();
      // Ended meanwhile: a slot taken now would never be given back.
      if (this.closed || this.failure !== undefined) return;
    }
  }

  private pauseFor(reason: PauseReason): void {
    if (this.paused.size === 0) this.body.pause();
    this.paused.add(reason);
  }

  private resumeFor(reason: PauseReason): void {
    if (!this.paused.delete(reason) || this.paused.size > 0 || this.failure !== undefined) return;
    this.lastData = Date.now();
    this.body.resume();
  }

  private fail(err: unknown): void {
    this.failure ??= toDownloadError(err);
    this.body.destroy();
  }
}
