import { randomUUID } from 'node:crypto';
import { Disposable, type ModelLease } from '../engine';
import { ApiError } from './apiError';

export const DEFAULT_LEASE_TTL_SECONDS = 600;

interface HeldLease {
  readonly lease: ModelLease;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * The leases HTTP clients hold: engine leases (so they protect their model exactly as an extension's do),
 * each released when its TTL passes without a renew — a script that died does not hold a model forever.
 */
export class HttpLeases extends Disposable {
  private readonly held = new Map<string, HeldLease>();

  constructor() {
    super();
    this._register({ dispose: () => { for (const id of [...this.held.keys()]) this.release(id); } });
  }

  add(lease: ModelLease, ttlSeconds: number): { id: string; expiresAt: number } {
    const id = randomUUID();
    const expiresAt = Date.now() + ttlSeconds * 1000;
    this.held.set(id, { lease, expiresAt, timer: this.expiry(id, ttlSeconds) });
    return { id, expiresAt };
  }

  get(id: string): ModelLease {
    return this.mustGet(id).lease;
  }

  renew(id: string, ttlSeconds: number): number {
    const held = this.mustGet(id);
    clearTimeout(held.timer);
    held.expiresAt = Date.now() + ttlSeconds * 1000;
    held.timer = this.expiry(id, ttlSeconds);
    return held.expiresAt;
  }

  release(id: string): ModelLease {
    const held = this.mustGet(id);
    clearTimeout(held.timer);
    this.held.delete(id);
    held.lease.release();
    return held.lease;
  }

  private expiry(id: string, ttlSeconds: number): NodeJS.Timeout {
    const timer = setTimeout(() => { if (this.held.has(id)) this.release(id); }, ttlSeconds * 1000);
    timer.unref();
    return timer;
  }

  private mustGet(id: string): HeldLease {
    const held = this.held.get(id);
    if (!held) throw new ApiError(404, 'unknown_lease', `no lease '${id.slice(0, 60)}': it was released or its TTL passed; request the model again`);
    return held;
  }
}
