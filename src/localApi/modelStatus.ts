import type { AvailabilityEngine, HealthReason, ModelEntry, ModelState, ModelUseSummary } from '../engine';

/** A model as the API shows it: the guide's snake_case fields. */
export interface ModelStatusJson {
  readonly model_id: string;
  readonly name: string;
  readonly version: string;
  readonly installed_version: string | null;
  /** The version an update would bring, or null. */
  readonly update_available: string | null;
  readonly state: ModelState['state'];
  readonly health: ModelState['health'];
  readonly health_reasons: readonly { code: HealthReason['code']; message: string; path: string | null }[];
  readonly progress: number | null;
  readonly bytes_done: number;
  readonly total_bytes: number | null;
  readonly speed_bps: number | null;
  readonly eta_seconds: number | null;
  readonly queue_position: number | null;
  readonly priority: ModelState['priority'] | null;
  readonly paused_reason: string | null;
  readonly error: string | null;
  readonly files: readonly { path: string; size: number | null; sha256: string | null; state: string; local_path: string }[];
  readonly last_used: string | null;
  readonly use_count: number;
}

export function healthReasonsJson(reasons: readonly HealthReason[]): ModelStatusJson['health_reasons'] {
  return reasons.map((r) => ({ code: r.code, message: r.message, path: r.path ?? null }));
}

/** 0–100, or null when the size is not known yet. */
function percent(state: ModelState): number | null {
  if (state.state === 'ready') return 100;
  const done = state.progress?.bytesDone ?? state.bytesOnDisk;
  const total = state.progress?.total ?? state.totalBytes;
  return total ? Math.min(100, Math.floor((done / total) * 1000) / 10) : null;
}

export function modelStatus(model: ModelEntry, state: ModelState, use: ModelUseSummary | undefined): ModelStatusJson {
  return {
    model_id: model.id, name: model.name, version: model.version,
    installed_version: state.installedVersion,
    update_available: state.updateAvailable,
    state: state.state, health: state.health,
    health_reasons: healthReasonsJson(state.healthReasons),
    ...progressFields(state),
    queue_position: state.queuePosition ?? null,
    priority: state.priority ?? null,
    paused_reason: state.pausedReason ?? null,
    error: state.error ?? null,
    files: state.files.map((f) => ({ path: f.path, size: f.size ?? null, sha256: f.sha256 ?? null, state: f.state, local_path: f.localPath })),
    last_used: use?.lastUsed !== undefined ? new Date(use.lastUsed).toISOString() : null,
    use_count: use?.useCount ?? 0,
  };
}

/** The fields the status and the `model_download_progress` message share. */
export function progressFields(state: ModelState): Pick<ModelStatusJson, 'progress' | 'bytes_done' | 'total_bytes' | 'speed_bps' | 'eta_seconds'> {
  return {
    progress: percent(state),
    bytes_done: state.progress?.bytesDone ?? state.bytesOnDisk,
    total_bytes: state.progress?.total ?? state.totalBytes ?? null,
    speed_bps: state.state === 'downloading' ? Math.round(state.progress?.speed ?? 0) : null,
    eta_seconds: state.state === 'downloading' ? state.progress?.etaSeconds ?? null : state.state === 'queued' ? state.waitEstimateSeconds ?? null : null,
  };
}

/** Every model's status; `uses` from the analytics database when there is one. */
export function allModelStatuses(engine: AvailabilityEngine, uses: ReadonlyMap<string, ModelUseSummary>): ModelStatusJson[] {
  return engine.getModels().flatMap((m) => {
    const s = engine.getModelState(m.id);
    return s ? [modelStatus(m, s, uses.get(m.id))] : [];
  });
}
