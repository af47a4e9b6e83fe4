import { getSystemErrorMap } from 'node:util';
import type { SlotHolder, SlotPool } from './slotPool';

/** Shared counters of a worker's ring: entries written (by the transfer) and entries done with (by the worker). */
export const HEAD = 0;
export const TAIL = 1;
/**
 * Flags, so that neither side pays for a wake-up nobody waits for: 1 while the worker sleeps, 1 while the
 * transfer waits for TAIL to move. Each side sets its flag before it compares the counter it waits on, the
 * other side moves that counter before it reads the flag (sequentially consistent), so no wake-up is missed.
 */
export const WORKER_WAITS = 2;
export const TRANSFER_WAITS = 3;
/**
 * What the worker sleeps on (a blocking Atomics.wait, so a wake-up is one futex call; waking a waitAsync posts
 * a task to the other thread, and cost the transfer 0.12 s per GiB): bumped when there are slots for it to
 * take or a message for it to read.
 */
export const SIGNAL = 4;
/** Set by the worker before TAIL passes an entry it could not handle: the entry's number + 1, and its errno. */
export const FAILED_ENTRY = 5;
export const FAILED_ERRNO = 6;
const COUNTERS = 7;
/** A ring entry: slot, length, file offset (float64: offsets pass 2^32), 1 when every byte before it is sealed. */
export const ENTRY = 4;
/**
 * An idle worker is woken once this many slots wait for it (or the pool runs short, or a message comes):
 * waking a sleeping thread cost the waker about 0.1 ms on this VM, and the worker then takes them in one go.
 */
const WAKE_BATCH = 8;
/**
 * Entries someone waits for (`done`) wake an idle worker after this long if fewer than WAKE_BATCH came: the
 * end of a body, a slow link. Waking it at once for each cost the transfer 45 ms of CPU per GiB. Until then
 * they are settled as the transfer pushes the next ones, which needs no wake-up either way: a wait on TAIL
 * for each, answered by the worker at each entry, cost the transfer about 25 ms per GiB and the worker as much.
 */
const FLUSH_MS = 3;

/**
 * The transfer's side of one worker's ring: each entry holds a reference to its slot until the worker has
 * moved TAIL past it. Entries never outnumber the slots (each holds one), so a ring of slotCount entries
 * cannot overflow.
 */
export class SlotRing implements SlotHolder {
  readonly memory: SharedArrayBuffer;
  readonly control = new SharedArrayBuffer(COUNTERS * Int32Array.BYTES_PER_ELEMENT);
  private readonly entries: Float64Array;
  private readonly counters = new Int32Array(this.control);
  private head = 0;
  /** Entries whose slot was given back to the pool. */
  private reclaimed = 0;
  private stopped = false;
  /** Callers of `done()`, oldest entry first. */
  private readonly waiting: { count: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Callers of `changed()`. */
  private readonly moved: (() => void)[] = [];
  /** A wait on TAIL is under way (for `changed()`, or for `done()` once nothing was pushed for FLUSH_MS). */
  private watching = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Nothing was pushed for FLUSH_MS: only a wait on TAIL settles the callers of `done()` now. */
  private flushed = false;

  constructor(private readonly pool: SlotPool) {
    this.memory = new SharedArrayBuffer(pool.slotCount * ENTRY * Float64Array.BYTES_PER_ELEMENT);
    this.entries = new Float64Array(this.memory);
    pool.addHolder(this);
  }

  /** Returns the entry's number + 1: what TAIL reaches when the worker is done with it (see `done`). */
  push(slot: number, length: number, offset: number, gapSealed: boolean): number {
    if (this.stopped) return this.head;
    this.pool.hold(slot, 1);
    const at = (this.head % this.pool.slotCount) * ENTRY;
    this.entries[at] = slot;
    this.entries[at + 1] = length;
    this.entries[at + 2] = offset;
    this.entries[at + 3] = gapSealed ? 1 : 0;
    Atomics.store(this.counters, HEAD, ++this.head);
    this.flushed = false;
    const tail = Atomics.load(this.counters, TAIL);
    this.settleDone(tail);
    if (this.head - tail >= WAKE_BATCH) this.wakeWorker();
    return this.head;
  }

  /**
   * Resolves once the worker is done with every entry up to `count` (a `push` result); rejects when it could
   * not handle one of them (an Error with the errno's code, as node:fs throws) or stopped before.
   */
  done(count: number): Promise<void> {
    if (Atomics.load(this.counters, TAIL) >= count) return this.outcome(count);
    if (this.stopped) return Promise.reject(new Error('the worker stopped'));
    this.scheduleFlush();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ count, resolve, reject });
      if (this.flushed) this.watchTail();
    });
  }

  reclaim(): void {
    this.releaseUpTo(Atomics.load(this.counters, TAIL));
  }

  changed(): Promise<unknown> {
    // The pool is short: the worker may be asleep on fewer than WAKE_BATCH slots.
    this.wakeWorker();
    if (Atomics.load(this.counters, TAIL) !== this.reclaimed || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.moved.push(resolve);
      this.watchTail();
    });
  }

  /** One wait on TAIL at a time, while anyone waits for it to move: each move settles the callers it reached. */
  private watchTail(): void {
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      let seen = Atomics.load(this.counters, TAIL);
      this.settleDone(seen);
      while (!this.stopped && (this.moved.length > 0 || (this.flushed && this.waiting.length > 0))) {
        Atomics.store(this.counters, TRANSFER_WAITS, 1);
        const wait = Atomics.waitAsync(this.counters, TAIL, seen);
        if (wait.async) await wait.value;
        Atomics.store(this.counters, TRANSFER_WAITS, 0);
        seen = Atomics.load(this.counters, TAIL);
        for (const wake of this.moved.splice(0)) wake();
        this.settleDone(seen);
      }
      this.watching = false;
    })();
  }

  private settleDone(tail: number): void {
    while (this.waiting.length > 0 && this.waiting[0].count <= tail) {
      const w = this.waiting.shift();
      if (w) this.outcome(w.count).then(w.resolve, w.reject);
    }
    if (this.stopped) for (const w of this.waiting.splice(0)) w.reject(new Error('the worker stopped'));
  }

  private outcome(count: number): Promise<void> {
    const failed = Atomics.load(this.counters, FAILED_ENTRY);
    if (failed === 0 || count < failed) return Promise.resolve();
    const errno = Atomics.load(this.counters, FAILED_ERRNO);
    const [code, message] = getSystemErrorMap().get(errno) ?? ['EIO', 'i/o error'];
    return Promise.reject(Object.assign(new Error(`${code}: ${message}`), { code, errno }));
  }

  private scheduleFlush(): void {
    if (this.flushTimer) this.flushTimer.refresh();
    else {
      this.flushTimer = setTimeout(() => {
        this.flushed = true;
        this.wakeWorker();
        this.watchTail();
      }, FLUSH_MS);
    }
  }

  private wakeWorker(): void {
    if (Atomics.load(this.counters, WORKER_WAITS) === 1) this.signal();
  }

  /** Wakes the worker whether or not it sleeps: after a message was posted to it. */
  signal(): void {
    Atomics.add(this.counters, SIGNAL, 1);
    Atomics.notify(this.counters, SIGNAL);
  }

  /** The worker stopped (done, failed or terminated): every slot it still held is given back now. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.flushTimer);
    this.releaseUpTo(this.head);
    this.pool.removeHolder(this);
    // Settles a changed() or done() still waiting: nothing moves TAIL now.
    Atomics.notify(this.counters, TAIL);
    for (const wake of this.moved.splice(0)) wake();
    this.settleDone(Atomics.load(this.counters, TAIL));
  }

  private releaseUpTo(end: number): void {
    while (this.reclaimed < end) {
      this.pool.release(this.entries[(this.reclaimed % this.pool.slotCount) * ENTRY]);
      this.reclaimed++;
    }
  }
}
