import type { AnalyticsStore, AvailabilityEngine, IDisposable, ModelRequests, ModelUseSummary, StoragePolicy } from '../engine';
import { usageSummary } from '../engine';
import type { HttpLeases } from './httpLeases';

/** What the handlers translate to: the same engine, requests and analytics the host (VS Code or `serve`) uses. */
export interface LocalApiContext {
  readonly engine: AvailabilityEngine;
  readonly requests: ModelRequests;
  readonly leases: HttpLeases;
  /** undefined when the analytics database could not be opened. */
  readonly analytics: AnalyticsStore | undefined;
  /** The model store's folder (free space for analytics). */
  readonly storeRoot: string;
  /** The storage policy behind the analytics recommendations (the host's settings). */
  readonly storagePolicy: () => StoragePolicy;
  /** Each model's use count and last use (the status's `use_count`, `last_used`). */
  readonly uses: () => ReadonlyMap<string, ModelUseSummary>;
}

/** The analytics database's use summary, queried again only after the database changed (a save or a reload). */
export function cachedUses(analytics: AnalyticsStore | undefined): { uses: () => ReadonlyMap<string, ModelUseSummary> } & IDisposable {
  let cached: ReadonlyMap<string, ModelUseSummary> | undefined;
  const sub = analytics?.onDidSave(() => { cached = undefined; });
  return {
    uses: () => (cached ??= analytics ? analytics.read((db) => usageSummary(db, Date.now(), 'all')) : new Map()),
    dispose: () => sub?.dispose(),
  };
}
