import type { FallbackStrategy, ModelLease } from '../engine';
import type { LocalApiContext } from './apiContext';
import { ApiError } from './apiError';
import { DEFAULT_LEASE_TTL_SECONDS } from './httpLeases';
import { requireModel } from './modelHandlers';
import { field, type BodyFields } from './requestBody';
import type { Router } from './router';

/** "ask" needs a person at VS Code's quick pick: over HTTP the caller picks. */
const HTTP_FALLBACKS: readonly Exclude<FallbackStrategy, 'ask'>[] = ['mock', 'alternative', 'queue', 'downloadAndRetry'];
const MAX_TTL_SECONDS = 24 * 3600;

function ttlOf(body: BodyFields): number {
  return field.integer(body, 'ttl_seconds', 1, MAX_TTL_SECONDS) ?? DEFAULT_LEASE_TTL_SECONDS;
}

function leaseJson(id: string, lease: ModelLease, ttlSeconds: number, expiresAt: number, ctx: LocalApiContext) {
  const coming = lease.upgrade ? ctx.engine.getModelState(lease.upgrade.modelId) : undefined;
  return {
    lease_id: id, ttl_seconds: ttlSeconds, expires_at: new Date(expiresAt).toISOString(),
    mode: lease.mode, model_id: lease.modelId, requested_id: lease.requestedId, paths: lease.paths,
    compatibility: lease.compatibility ?? null, quality_delta: lease.qualityDelta ?? null,
    eta_seconds: lease.upgrade?.etaSeconds ?? (coming?.state === 'downloading' ? coming.progress?.etaSeconds ?? null : null),
  };
}

export function addLeaseRoutes(router: Router, ctx: LocalApiContext): void {
  router
    .add('POST', '/api/v1/models/request', async (r) => {
      const body = await r.body();
      const id = field.string(body, 'model_id', true) as string;
      const fallback = field.oneOf(body, 'fallback', HTTP_FALLBACKS, false) ?? 'mock';
      const ttl = ttlOf(body);
      requireModel(ctx, id);
      let lease: ModelLease;
      try {
        lease = await ctx.requests.requestModel(id, { fallback, signal: r.signal });
      } catch (err) {
        throw new ApiError(409, 'unavailable', err instanceof Error ? err.message : String(err));
      }
      // The caller left while a queued request waited: nobody would hold (or renew) this lease.
      if (r.signal.aborted) {
        lease.release();
        throw new ApiError(408, 'client_gone', 'the client went away before the model was granted');
      }
      const held = ctx.leases.add(lease, ttl);
      return { status: 200, body: leaseJson(held.id, lease, ttl, held.expiresAt, ctx) };
    })
    .add('POST', '/api/v1/leases/{id}/renew', async (r) => {
      const ttl = ttlOf(await r.body());
      const expiresAt = ctx.leases.renew(r.params.id, ttl);
      return { status: 200, body: leaseJson(r.params.id, ctx.leases.get(r.params.id), ttl, expiresAt, ctx) };
    })
    .add('DELETE', '/api/v1/leases/{id}', async (r) => {
      const lease = ctx.leases.release(r.params.id);
      return { status: 200, body: { lease_id: r.params.id, model_id: lease.modelId, released: true } };
    })
    .add('POST', '/api/v1/leases/{id}/generations', async (r) => {
      const body = await r.body();
      const lease = ctx.leases.get(r.params.id);
      const ok = field.boolean(body, 'ok', true) as boolean;
      const durationMs = field.integer(body, 'duration_ms', 0, 7 * 24 * 3600 * 1000);
      if (durationMs === undefined) throw new ApiError(400, 'missing_field', "'duration_ms' is required");
      const units = body.units === undefined ? undefined : Number(body.units);
      if (units !== undefined && !(Number.isFinite(units) && units >= 0)) throw new ApiError(400, 'invalid_field', "'units' must be a number of 0 or more");
      lease.recordGeneration({ ok, durationMs, units });
      return { status: 201, body: { lease_id: r.params.id, model_id: lease.modelId, recorded: true } };
    });
}
