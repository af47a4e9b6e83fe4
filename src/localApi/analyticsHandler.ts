import { promises as fs } from 'node:fs';
import { buildAnalyticsSnapshot, proposeCleanup, usageSummary, type AnalyticsDatabase, type AnalyticsPeriod, type ModelFacts } from '../engine';
import type { LocalApiContext } from './apiContext';
import { ApiError } from './apiError';
import type { Router } from './router';

function periodOf(raw: string | null): AnalyticsPeriod {
  if (raw === null || raw === '30') return 30;
  if (raw === 'all') return 'all';
  if (raw === '7' || raw === '90') return Number(raw) as 7 | 90;
  throw new ApiError(400, 'invalid_field', `'period' must be 7, 30, 90 or all, not '${raw.slice(0, 20)}'`);
}

/** camelCase keys (the panel's snapshot) → the API's snake_case, all the way down. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]));
}

/** The analytics panel's data: usage, performance, storage and recommendations, for `period`. */
export function addAnalyticsRoutes(router: Router, ctx: LocalApiContext): void {
  router.add('GET', '/api/v1/models/analytics', async (r) => {
    const period = periodOf(r.url.searchParams.get('period'));
    const { engine, analytics } = ctx;
    const models: ModelFacts[] = engine.getModels().flatMap((m) => {
      const s = engine.getModelState(m.id);
      return s ? [{ id: m.id, name: m.name, state: s.state, bytesOnDisk: s.bytesOnDisk, files: s.files }] : [];
    });
    const freeBytes = await fs.statfs(ctx.storeRoot).then((s) => s.bavail * s.bsize, () => undefined);
    const now = Date.now();
    const policy = ctx.storagePolicy();
    const cleanup = await proposeCleanup(engine, analytics ? analytics.read((db) => usageSummary(db, now, 'all')) : new Map(), policy, now);
    const build = (db: AnalyticsDatabase | undefined) => buildAnalyticsSnapshot({
      db, recordingEnabled: analytics?.enabled ?? false, now, period, models, freeBytes, cleanup,
    });
    return { status: 200, body: snakeKeys(analytics ? analytics.read(build) : build(undefined)) };
  });
}
