import { closeIds, OperationRefusedError, type DownloadPriority, type IDisposable, type ModelEntry } from '../engine';
import type { LocalApiContext } from './apiContext';
import { ApiError } from './apiError';
import { allModelStatuses, healthReasonsJson, modelStatus, type ModelStatusJson } from './modelStatus';
import { field } from './requestBody';
import type { ApiRequest, ApiResponse, Router } from './router';

const ACTIONS = ['start', 'pause', 'resume', 'cancel', 'priority'] as const;
const PRIORITIES: readonly DownloadPriority[] = ['high', 'normal', 'low'];

export function requireModel(ctx: LocalApiContext, id: string): ModelEntry {
  const models = ctx.engine.getModels();
  const model = models.find((m) => m.id === id);
  if (model) return model;
  const close = closeIds(id, models.map((m) => m.id));
  throw new ApiError(404, 'unknown_model', `no catalog lists a model with id '${id.slice(0, 100)}'${close.length ? `; did you mean: ${close.join(', ')}?` : ''}`);
}

export function statusOf(ctx: LocalApiContext, id: string): ModelStatusJson {
  const model = requireModel(ctx, id);
  const state = ctx.engine.getModelState(id);
  if (!state) throw new ApiError(404, 'unknown_model', `${id} left the catalog`);
  return modelStatus(model, state, ctx.uses().get(id));
}

const REFUSAL_CODES: Readonly<Record<OperationRefusedError['reason'], string>> = {
  downloading: 'downloading', inUse: 'in_use', busy: 'busy', otherProcess: 'other_process', noSpace: 'no_space', badTarget: 'bad_target',
};

/** Runs an engine operation; a refusal (being repaired, in use, another process) is 409 with the engine's reason. */
async function refusable<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OperationRefusedError) throw new ApiError(409, REFUSAL_CODES[err.reason], err.message);
    throw err;
  }
}

/** A paused download resumes; one with no queue entry (none yet, or partial data another process left) is queued. */
function startOrResume(ctx: LocalApiContext, id: string, priority: DownloadPriority | undefined): void {
  const before = ctx.engine.getModelState(id)?.state;
  if (before === 'paused' || before === 'failed') ctx.engine.downloads.resume(id);
  if (ctx.engine.getModelState(id)?.state === before) ctx.engine.download([id], priority ?? 'normal');
}

async function manageDownload(ctx: LocalApiContext, r: ApiRequest): Promise<ApiResponse> {
  const body = await r.body();
  const id = field.string(body, 'model_id', true) as string;
  const action = field.oneOf(body, 'action', ACTIONS, true);
  const priority = field.oneOf(body, 'priority', PRIORITIES, action === 'priority');
  // Accepted for the guide's scripts; retries follow the host's download.maxRetries setting.
  field.integer(body, 'max_retries', 0, 100);
  requireModel(ctx, id);
  const { engine } = ctx;
  const state = engine.getModelState(id)?.state;
  const inQueue = state === 'queued' || state === 'downloading';
  await refusable(async () => {
    switch (action) {
      case 'start':
        if (inQueue) {
          if (priority) engine.downloads.setPriority(id, priority);
          return;
        }
        return startOrResume(ctx, id, priority);
      case 'pause':
        if (!inQueue) throw new ApiError(409, 'not_downloading', `${id} is ${state}, not downloading or queued: nothing to pause`);
        return engine.downloads.pause(id);
      case 'resume':
        if (state !== 'paused' && state !== 'failed') throw new ApiError(409, 'not_paused', `${id} is ${state}, not paused: nothing to resume (use action=start)`);
        return startOrResume(ctx, id, priority);
      case 'cancel':
        if (!inQueue && state !== 'paused' && state !== 'failed') throw new ApiError(409, 'not_downloading', `${id} is ${state}: there is no download to cancel`);
        return engine.cancel(id);
      case 'priority':
        if (!inQueue && state !== 'paused') throw new ApiError(409, 'not_downloading', `${id} is ${state}: only a queued, running or paused download has a priority`);
        return engine.downloads.setPriority(id, priority as DownloadPriority);
    }
  });
  return { status: 202, body: statusOf(ctx, id) };
}

/** Health also ages with time (not recently verified), with no event: a cached answer lives at most this long. */
const STATUS_CACHE_MS = 1000;

export interface StatusCache extends IDisposable {
  json(): string;
  /** A request changed something: the engine's (throttled) change event may not have come yet. */
  invalidate(): void;
}

/** status/detailed's body, serialised once and kept until the engine's models change (scripts poll it). */
export function cachedStatusBody(ctx: LocalApiContext): StatusCache {
  let cached: { text: string; at: number; uses: ReadonlyMap<string, unknown> } | undefined;
  const sub = ctx.engine.onDidChangeModel(() => { cached = undefined; });
  return {
    json: () => {
      const uses = ctx.uses();
      if (!cached || cached.uses !== uses || Date.now() - cached.at > STATUS_CACHE_MS) {
        cached = { text: JSON.stringify({ models: allModelStatuses(ctx.engine, uses) }), at: Date.now(), uses };
      }
      return cached.text;
    },
    invalidate: () => { cached = undefined; },
    dispose: () => sub.dispose(),
  };
}

export function addModelRoutes(router: Router, ctx: LocalApiContext, detailed: StatusCache): void {
  router
    .add('GET', '/api/v1/models/status/detailed', async () => ({ status: 200, body: undefined, json: detailed.json() }))
    .add('GET', '/api/v1/models/{id}/status', async (r) => ({ status: 200, body: statusOf(ctx, r.params.id) }))
    .add('POST', '/api/v1/models/download/manage', (r) => manageDownload(ctx, r))
    .add('POST', '/api/v1/models/{id}/verify', async (r) => {
      requireModel(ctx, r.params.id);
      const report = await refusable(() => ctx.engine.integrity.verify(r.params.id));
      return { status: 200, body: { model_id: report.id, checked_at: report.checkedAt, health: report.health, health_reasons: healthReasonsJson(report.healthReasons), status: statusOf(ctx, r.params.id) } };
    })
    .add('POST', '/api/v1/models/{id}/repair', async (r) => {
      const id = r.params.id;
      requireModel(ctx, id);
      const result = await refusable(() => ctx.engine.integrity.repair(id));
      return { status: 200, body: { model_id: id, repaired: result.repaired, health: result.health, health_reasons: healthReasonsJson(result.healthReasons), error: result.error ?? null, status: statusOf(ctx, id) } };
    })
    .add('DELETE', '/api/v1/models/{id}', async (r) => {
      const id = r.params.id;
      requireModel(ctx, id);
      const freed = await refusable(() => ctx.engine.integrity.remove(id));
      return { status: 200, body: { model_id: id, freed_bytes: freed, status: statusOf(ctx, id) } };
    });
}
