import { pieceHashMemory } from './pieceDigest';

/**
 * Slot references held by another thread, which gives them back by moving a counter in shared memory
 * instead of sending a message: the pool reclaims them when it runs short, and waits on the counter.
 */
export interface SlotHolder {
  /** Gives back to the pool every slot the other thread is done with. */
  reclaim(): void;
  /** Resolves when the other thread may have given slots back since the last reclaim. */
  changed(): Promise<unknown>;
}

/**
 * Fixed memory that a transfer's bytes pass through once: the socket reads into a slot, the slot is written
 * to the partial file and hashed by the hash workers from the same memory (shared with them), then reused.
 * Nothing is allocated per chunk, and memory stays bounded whatever the file size.
 */
export class SlotPool {
  /** The slots, then the store worker's piece-hash area (at `slotCount * slotSize`). */
  readonly memory: WebAssembly.Memory;
  private readonly view: Buffer;
  private readonly refs: Uint8Array;
  private readonly free: number[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly holders = new Set<SlotHolder>();
  /** Holders whose `changed()` is being waited on. */
  private readonly watched = new Set<SlotHolder>();

  constructor(readonly slotCount: number, readonly slotSize: number) {
    this.memory = pieceHashMemory(slotCount * slotSize);
    this.view = Buffer.from(this.memory.buffer);
    this.refs = new Uint8Array(slotCount);
    for (let i = 0; i < slotCount; i++) this.free.push(i);
  }

  /** A free slot, or undefined when all are in use (wait with `whenFree`). */
  acquire(): number | undefined {
    if (this.free.length === 0) this.reclaim();
    const slot = this.free.pop();
    if (slot !== undefined) this.refs[slot] = 1;
    return slot;
  }

  /** The slot's memory from `from` (bytes) to `to`. */
  bytes(slot: number, from = 0, to = this.slotSize): Buffer {
    const base = slot * this.slotSize;
    return this.view.subarray(base + from, base + to);
  }

  /** The slot is held by `count` more users (a write, the hashers); each calls `release`. */
  hold(slot: number, count: number): void {
    this.refs[slot] += count;
  }

  release(slot: number): void {
    if (this.refs[slot] === 0) throw new Error(`slot ${slot} released twice`);
    if (--this.refs[slot] > 0) return;
    this.free.push(slot);
    // Everyone waiting tries again: one that has ended meanwhile must not swallow the wake-up.
    for (const wake of this.waiters.splice(0)) wake();
  }

  addHolder(holder: SlotHolder): void {
    this.holders.add(holder);
  }

  /** The holder gave back all it held (or will hold nothing more): it is no longer asked. */
  removeHolder(holder: SlotHolder): void {
    this.holders.delete(holder);
    this.watched.delete(holder);
  }

  /** Resolves when a slot may be free (acquire again: another waiter may have taken it). */
  whenFree(): Promise<void> {
    if (this.free.length === 0) this.reclaim();
    if (this.free.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.watchHolders();
    });
  }

  private reclaim(): void {
    for (const holder of this.holders) holder.reclaim();
  }

  /** Until someone is no longer waiting, each holder's counter is watched: a move gives its slots back. */
  private watchHolders(): void {
    for (const holder of this.holders) {
      if (this.watched.has(holder)) continue;
      this.watched.add(holder);
      void holder.changed().then(() => {
        if (!this.watched.delete(holder)) return;
        holder.reclaim();
        if (this.waiters.length > 0) this.watchHolders();
      });
    }
  }
}
