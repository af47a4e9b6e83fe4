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
 * What the storage policies propose now: the one place the command, the CLI and the panel ask. Models in
 * use (the engine's use guard) are never proposed.
 */
export function proposeCleanup(engine: AvailabilityEngine, usage: ReadonlyMap<string, ModelUseSummary>, policy: StoragePolicy, now: number): CleanupPlan {
  return planCleanup(installedModels(engine, usage), policy, now, engine.uses.inUseIds());
}

export function describeReason(r: CleanupReason): string {
  switch (r.kind) {
    case 'unused': return r.days === undefined ? 'never used' : `not used for ${r.days} days`;
    case 'rarelyUsed': return `used only ${r.uses} ${r.uses === 1 ? 'time' : 'times'}`;
    case 'overLimit': return 'over the storage limit (least recently used)';
  }
}
