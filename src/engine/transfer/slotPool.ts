/**
 * Fixed memory that a transfer's bytes pass through once: the socket reads into a slot, the slot is written
 * to the partial file and hashed by the hash workers from the same memory (shared with them), then reused.
 * Nothing is allocated per chunk, and memory stays bounded whatever the file size.
 */
export class SlotPool {
  readonly memory: SharedArrayBuffer;
  private readonly view: Buffer;
  private readonly refs: Uint8Array;
  private readonly free: number[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(readonly slotCount: number, readonly slotSize: number) {
    this.memory = new SharedArrayBuffer(slotCount * slotSize);
    this.view = Buffer.from(this.memory);
    this.refs = new Uint8Array(slotCount);
    for (let i = 0; i < slotCount; i++) this.free.push(i);
  }

  /** A free slot, or undefined when all are in use (wait with `whenFree`). */
  acquire(): number | undefined {
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

  /** Resolves when a slot may be free (acquire again: another waiter may have taken it). */
  whenFree(): Promise<void> {
    if (this.free.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
