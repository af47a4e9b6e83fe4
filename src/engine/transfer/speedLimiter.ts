import { sleep } from '../core/sleep';
/**
 * One token bucket shared by every transfer, so the limit applies to the sum of all downloads.
 * The rate can change while transfers run; waiting transfers pick it up on their next grant.
 */
export class SpeedLimiter {
  private bytesPerSecond: number;
  private tokens = 0;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(limitMBps: number) {
    this.bytesPerSecond = toBytes(limitMBps);
  }

  setLimit(limitMBps: number): void {
    this.refill();
    this.bytesPerSecond = toBytes(limitMBps);
    // A small burst allowance; a large saved-up bucket would overshoot the new limit.
    this.tokens = Math.min(this.tokens, this.burst());
  }

  get limited(): boolean {
    return this.bytesPerSecond > 0;
  }

  /** Resolves when `bytes` may be consumed. Callers take turns, so one large grant cannot starve others. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.limited) return Promise.resolve();
    const turn = this.queue.then(() => this.waitFor(bytes, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitFor(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (!this.limited) return;
      this.refill();
      if (this.tokens >= bytes || this.tokens >= this.burst()) {
        this.tokens -= bytes;
        return;
      }
      const needed = Math.min(bytes, this.burst()) - this.tokens;
      const waitMs = Math.max(5, Math.min(250, (needed / this.bytesPerSecond) * 1000));
      await sleep(waitMs, signal);
    }
  }

  private burst(): number {
    return Math.max(64 * 1024, this.bytesPerSecond / 10);
  }

  private refill(): void {
    const now = Date.now();
    if (this.bytesPerSecond > 0) {
      this.tokens = Math.min(this.burst(), this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    }
    this.last = now;
  }
}

function toBytes(mbps: number): number {
  // MB as the setting says it: 10^6 bytes.
  return mbps > 0 ? mbps * 1_000_000 : 0;
}
