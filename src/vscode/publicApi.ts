import type { ModelAvailabilityApi, ModelLease as ApiLease, ModelSummary } from '../api';
import type { AvailabilityEngine } from '../engine';
import type { ModelLease } from '../engine';
import type { ModelRequests } from '../engine';

function toApiLease(lease: ModelLease): ApiLease {
  // Getters, so a lease that upgrades shows its new model to the caller.
  return {
    get modelId() { return lease.modelId; },
    get paths() { return lease.paths; },
    get requestedId() { return lease.requestedId; },
    get mode() { return lease.mode; },
    get compatibility() { return lease.compatibility; },
    get qualityDelta() { return lease.qualityDelta; },
    get upgrade() { return lease.upgrade; },
    onDidUpgrade: (listener) => lease.onDidUpgrade((g) => listener({ modelId: g.modelId, paths: g.paths })),
    get version() { return lease.version; },
    onDidInstallNewerVersion: (listener) => lease.onDidInstallNewerVersion((e) => listener({ ...e })),
    beginGeneration: () => lease.beginGeneration(),
    release: () => lease.release(),
    dispose: () => lease.release(),
  };
}

/** The object `activate()` returns: a thin, stable translation of the engine for other extensions. */
export function createPublicApi(engine: AvailabilityEngine, requests: ModelRequests): ModelAvailabilityApi {
  const summaries = (): ModelSummary[] => engine.getModels().map((m) => {
    const s = engine.getModelState(m.id);
    return {
      id: m.id, name: m.name, version: m.version, installedVersion: s?.installedVersion ?? null, updateAvailable: s?.updateAvailable ?? null, task: m.task, state: s?.state ?? 'missing',
      paths: s?.state === 'ready' ? s.files.map((f) => f.localPath) : [],
      progress: s?.progress ? { bytesDone: s.progress.bytesDone, total: s.progress.total, etaSeconds: s.progress.etaSeconds } : undefined,
      waitEstimateSeconds: s?.waitEstimateSeconds,
    };
  });
  return {
    apiVersion: 1,
    requestModel: async (id, options) => toApiLease(await requests.requestModel(id, options)),
    getModels: summaries,
    getStatus: () => {
      const models = summaries();
      return {
        models,
        activeDownloads: models.filter((m) => m.state === 'downloading').length,
        queuedDownloads: models.filter((m) => m.state === 'queued').length,
        leases: requests.leaseCount,
        generationsRunning: engine.uses.generationsRunning,
      };
    },
    onDidChangeModels: (listener) => engine.onDidChangeModel(() => listener()),
  };
}
