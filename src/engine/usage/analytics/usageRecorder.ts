import type { IDisposable } from '../../core/lifecycle';
import type { AvailabilityEngine } from '../../availability/engine';
import type { UsageEvent, UsageRecorder } from '../requests/usageEvents';
import type { AnalyticsEvent } from './eventTypes';

/** Where recorded events go: the AnalyticsStore (its `record` buffers, and drops everything while disabled). */
export interface AnalyticsSink {
  record(event: AnalyticsEvent): void;
}

/** Model requests' events as analytics events. */
export function toAnalyticsEvent(e: UsageEvent): AnalyticsEvent {
  switch (e.kind) {
    case 'request': return { kind: 'request', modelId: e.modelId, detail: { strategy: e.strategy } };
    case 'grant': return { kind: 'grant', modelId: e.modelId, otherModelId: e.requestedId !== e.modelId ? e.requestedId : undefined, durationMs: e.waitedMs, detail: { mode: e.mode } };
    case 'fallback': return { kind: 'fallback', modelId: e.requestedId, otherModelId: e.modelId, detail: { mode: e.mode, compatibility: e.compatibility } };
    case 'generation': return { kind: 'generation', modelId: e.modelId, ...(e.version ? { version: e.version } : {}), ok: e.ok, durationMs: e.durationMs, units: e.units };
    case 'release': return { kind: 'release', modelId: e.modelId, durationMs: e.heldMs };
  }
}

export function usageRecorder(sink: AnalyticsSink): UsageRecorder {
  return { record: (e) => sink.record(toAnalyticsEvent(e)) };
}

/** Records each finished or failed download with its bytes and outcome, and each check and repair. */
export function recordEngineEvents(engine: AvailabilityEngine, sink: AnalyticsSink): IDisposable[] {
  return [
    engine.onDidCheck((e) => sink.record({ kind: e.kind, modelId: e.id, ok: e.ok, durationMs: e.durationMs })),
    engine.onDidFinish(({ id }) => sink.record({ kind: 'download', modelId: id, ok: true, bytes: engine.getModelState(id)?.bytesOnDisk })),
    engine.onDidFail(({ id, reason, kind }) => sink.record({ kind: 'download', modelId: id, ok: false, detail: { reason, kind } })),
  ];
}
