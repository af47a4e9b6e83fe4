import type { AvailabilityEngine } from '../../availability/engine';
import { planCleanup, type CleanupPlan, type CleanupReason, type InstalledModel, type StoragePolicy } from './cleanupPolicy';
import type { ModelUseSummary } from './usageQueries';

/** The models on disk with their size and use, as the storage policy sees them. */
export function installedModels(engine: AvailabilityEngine, usage: ReadonlyMap<string, ModelUseSummary>): InstalledModel[] {
  return engine.getModelStates()
    // Only installed models: partial downloads and repairs in progress are never cleanup material.
    .filter((s) => s.state === 'ready' && s.bytesOnDisk > 0)
    .map((s) => {
      // Stores from before installedAt was recorded fall back to the last check (which makes a model look newer: the safe side).
      const installed = s.files.map((f) => Date.parse(f.installedAt ?? f.verifiedAt ?? '')).filter((t) => !Number.isNaN(t));
      const u = usage.get(s.id);
      return {
        modelId: s.id,
        sizeBytes: s.bytesOnDisk,
        lastUsed: u?.lastUsed,
        useCount: u?.useCount ?? 0,
        installedAt: installed.length ? Math.min(...installed) : undefined,
      };
    });
}

/**
 * The versions kept on disk besides the installed one (for rollback), each with its model's use. Not the
 * catalog's version when an older one is installed: that one is an update waiting, and goes with the model.
 */
async function previousVersions(engine: AvailabilityEngine, usage: ReadonlyMap<string, ModelUseSummary>): Promise<InstalledModel[]> {
  const found: InstalledModel[] = [];
  const wanted = new Map(engine.getModels().map((m) => [m.id, m.version]));
  for (const s of engine.getModelStates()) {
    if (s.installedVersion === null) continue;
    const u = usage.get(s.id);
    for (const v of await engine.installedVersions(s.id)) {
      if (v.version === s.installedVersion || v.version === wanted.get(s.id)) continue;
      const installedAt = Date.parse(v.installedAt);
      found.push({ modelId: s.id, version: v.version, sizeBytes: v.bytes, lastUsed: u?.lastUsed, useCount: u?.useCount ?? 0, installedAt: Number.isNaN(installedAt) ? undefined : installedAt });
    }
  }
  return found;
}

/**
 * What the storage policies propose now: the one place the command, the CLI, the panel and the local API
 * ask. Previous versions come first; models in use (the engine's use guard) are never proposed.
 */
export async function proposeCleanup(engine: AvailabilityEngine, usage: ReadonlyMap<string, ModelUseSummary>, policy: StoragePolicy, now: number): Promise<CleanupPlan> {
  const models = [...installedModels(engine, usage), ...(await previousVersions(engine, usage))];
  return planCleanup(models, policy, now, engine.uses.inUseIds());
}

/** Removes what one proposal names: a previous version, or the model (its installed version). Bytes freed. */
export function removeProposed(engine: AvailabilityEngine, p: Pick<InstalledModel, 'modelId' | 'version'>): Promise<number> {
  return p.version === undefined ? engine.integrity.remove(p.modelId) : engine.removeVersion(p.modelId, p.version);
}

export function describeReason(r: CleanupReason): string {
  switch (r.kind) {
    case 'unused': return r.days === undefined ? 'never used' : `not used for ${r.days} days`;
    case 'rarelyUsed': return `used only ${r.uses} ${r.uses === 1 ? 'time' : 'times'}`;
    case 'overLimit': return 'over the storage limit (least recently used)';
    case 'previousVersion': return `version ${r.version}, kept for rollback (not the installed one)`;
  }
}
