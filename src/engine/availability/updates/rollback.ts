import { OperationRefusedError } from '../../core/operationRefused';
import { installedVersions, switchInstalledVersion } from '../../store/installedVersions';
import type { UpdateRecords } from '../../store/updateRecord';
import type { UpdateHost } from './updateTypes';

/** Why a rollback went back, as `models/<id>/updates.json` keeps it (Recommendations lists them). */
export interface RollbackWhy {
  readonly reason: string;
  readonly automatic: boolean;
  /** The version left behind is held back (not offered) until a newer one appears or it is asked for. */
  readonly holdBack?: boolean;
}

/**
 * Makes another version on disk the installed one (the newest other one unless `to`): no network, one
 * atomic write; the trial ends and the rollback is remembered with its reason. Returns the versions switched.
 */
export async function rollBack(host: UpdateHost, records: UpdateRecords, id: string, to: string | undefined, why: RollbackWhy): Promise<{ from: string | null; to: string }> {
  host.model(id);
  const from = host.state(id).installedVersion;
  const others = (await installedVersions(host.layout, id)).filter((v) => v.version !== from);
  const target = to ?? others[0]?.version;
  if (target === undefined) throw new OperationRefusedError('busy', `${id} has no other installed version to roll back to`);
  if (!others.some((v) => v.version === target)) {
    throw new OperationRefusedError('busy', `version ${target} of ${id} is not installed${others.length ? `; installed: ${others.map((v) => v.version).join(', ')}` : ''}`);
  }
  await switchInstalledVersion(host.layout, id, target);
  const at = new Date().toISOString();
  await records.change(id, (r) => ({
    trial: undefined,
    heldBack: why.holdBack && from !== null ? { version: from, reason: why.reason, at } : r.heldBack,
    rollbacks: [{ from, to: target, reason: why.reason, automatic: why.automatic, at }, ...r.rollbacks],
  }));
  host.logger.info(`rolled back from ${from ?? 'nothing'} to ${target}`, id);
  await host.refresh([id]);
  return { from, to: target };
}
