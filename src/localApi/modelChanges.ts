import type { AvailabilityEngine, IDisposable, ModelState } from '../engine';

/** What changed about one model (the shape of the engine's coming `onDidChangeModel`). */
export interface ModelChange {
  readonly id: string;
  readonly kind: 'state' | 'progress' | 'health' | 'files';
}

/**
 * The API's one subscription to the engine's model changes. Until the engine says which model changed,
 * this compares each model's state with what it was at the last change event.
 */
export function subscribeModelChanges(engine: AvailabilityEngine, listener: (change: ModelChange) => void): IDisposable {
  const last = new Map<string, ModelState>();
  for (const s of engine.getModelStates()) last.set(s.id, s);
  return engine.onDidChange(() => {
    for (const s of engine.getModelStates()) {
      const before = last.get(s.id);
      last.set(s.id, s);
      if (!before || before.state !== s.state) listener({ id: s.id, kind: 'state' });
      else if (before.health !== s.health) listener({ id: s.id, kind: 'health' });
      else if (before.progress?.bytesDone !== s.progress?.bytesDone) listener({ id: s.id, kind: 'progress' });
      else if (before.bytesOnDisk !== s.bytesOnDisk || before.files.length !== s.files.length) listener({ id: s.id, kind: 'files' });
    }
  });
}
