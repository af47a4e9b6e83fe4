import type { IDisposable } from './lifecycle';

/**
 * Calls `emit(key)` at most once per `intervalMs` for each key: the first call goes out at once (leading),
 * calls within the interval collapse into one at its end (trailing), so the last one is never lost.
 * `flush(key)` sends at once, e.g. for a state change that must not wait.
 */
export class KeyedThrottle<K> implements IDisposable {
  private readonly last = new Map<K, number>();
  private readonly timers = new Map<K, NodeJS.Timeout>();

  constructor(private readonly intervalMs: number, private readonly emit: (key: K) => void) {}

  push(key: K): void {
    if (this.timers.has(key)) return;
    const wait = (this.last.get(key) ?? -Infinity) + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.send(key);
      return;
    }
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.send(key);
    }, wait));
  }

  /** Sends now and drops a pending trailing call (this one carries the newest state). */
  flush(key: K): void {
    this.cancel(key);
    this.send(key);
  }

  /** Drops a pending trailing call, e.g. because a newer event about the same thing went out another way. */
  cancel(key: K): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private send(key: K): void {
    this.last.set(key, Date.now());
    this.emit(key);
  }
}

/** A KeyedThrottle for one thing (e.g. a status bar item that redraws from all models). */
export function throttled(intervalMs: number, emit: () => void): { push(): void; flush(): void } & IDisposable {
  const t = new KeyedThrottle<0>(intervalMs, emit);
  return { push: () => t.push(0), flush: () => t.flush(0), dispose: () => t.dispose() };
}
