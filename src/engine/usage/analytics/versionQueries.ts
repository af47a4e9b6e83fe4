import { eventKeyAt, type AnalyticsDatabase } from './eventTypes';
import { DAY_MS } from './period';

/** How one version of a model did: its generations, failures and median duration. */
export interface VersionResults {
  readonly version: string;
  readonly generations: number;
  readonly failed: number;
  /** Of the generations with a duration; undefined when none had one. */
  readonly medianMs?: number;
}

/** Results per version of one model over the last `days` days (generations recorded with their version only). */
export function resultsByVersion(db: AnalyticsDatabase, modelId: string, now: number, days: number): Map<string, VersionResults> {
  const rows = db.exec(`
    SELECT version, count(*), count(CASE WHEN ok = 0 THEN 1 END), group_concat(duration_ms) FROM generation_events
    WHERE key >= :from AND version IS NOT NULL AND model_id = (SELECT id FROM models WHERE name = :model)
    GROUP BY version`, { ':from': eventKeyAt(now - days * DAY_MS), ':model': modelId })[0]?.values ?? [];
  return new Map(rows.map(([version, count, failed, durations]) => {
    const sorted = durations === null ? [] : String(durations).split(',').map(Number).sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const medianMs = sorted.length === 0 ? undefined : sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
    return [String(version), { version: String(version), generations: Number(count), failed: Number(failed), ...(medianMs === undefined ? {} : { medianMs }) }];
  }));
}
