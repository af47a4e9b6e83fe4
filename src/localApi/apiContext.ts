import type { AnalyticsStore, AvailabilityEngine, ModelRequests, ModelUseSummary, StoragePolicy } from '../engine';
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
}

export function usesOf(ctx: LocalApiContext): ReadonlyMap<string, ModelUseSummary> {
  const now = Date.now();
  return ctx.analytics ? ctx.analytics.read((db) => usageSummary(db, now, 'all')) : new Map();
}
