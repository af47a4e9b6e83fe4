import { OperationRefusedError, type DownloadPriority, type UpdateOffer } from '../engine';
import type { LocalApiContext } from './apiContext';
import { ApiError } from './apiError';
import { requireModel, statusOf } from './modelHandlers';
import { field } from './requestBody';
import type { Router } from './router';

const PRIORITIES: readonly DownloadPriority[] = ['high', 'normal', 'low'];

export function offerJson(o: UpdateOffer): object {
  return { model_id: o.id, from: o.from, to: o.to, bytes_to_download: o.bytesToDownload, source: o.source, notes: o.notes ?? null };
}

function refused(err: unknown): never {
  if (err instanceof OperationRefusedError) throw new ApiError(409, 'refused', err.message);
  throw err;
}

/** Updates and rollback: the same engine.updates the extension and the CLI use. */
export function addUpdateRoutes(router: Router, ctx: LocalApiContext): void {
  const { updates } = ctx.engine;
  router
    .add('GET', '/api/v1/models/updates', async () => ({ status: 200, body: { updates: (await updates.offers()).map(offerJson) } }))
    .add('POST', '/api/v1/models/updates/check', async () => ({ status: 200, body: { updates: (await updates.check()).map(offerJson) } }))
    .add('POST', '/api/v1/models/{id}/update', async (r) => {
      const id = r.params.id;
      requireModel(ctx, id);
      const priority = field.oneOf(await r.body(), 'priority', PRIORITIES, false);
      const state = ctx.engine.getModelState(id);
      const to = state?.updateAvailable;
      if (!state?.installedVersion || !to) throw new ApiError(409, 'no_update', `${id} has no update to install${state?.installedVersion ? ` (${state.installedVersion} is current)` : ' (it is not installed)'}`);
      // Answers at once: model_updated (or download_failed) on /ws tells how it ended; the old version stays usable meanwhile.
      // A failure reaches clients as download_failed; the update's own promise has nothing more to say.
      void updates.update(id, priority ?? 'low').catch(() => undefined);
      return { status: 202, body: { model_id: id, from: state.installedVersion, to, status: statusOf(ctx, id) } };
    })
    .add('POST', '/api/v1/models/{id}/rollback', async (r) => {
      const id = r.params.id;
      requireModel(ctx, id);
      const to = field.string(await r.body(), 'to', false);
      const change = await updates.rollback(id, to).catch(refused);
      return { status: 200, body: { model_id: id, from: change.from, to: change.to, status: statusOf(ctx, id) } };
    });
}
