import { eventKeyAt, type AnalyticsDatabase } from './eventTypes';
import { DAY_MS } from './period';

/** How one version of a model did: its generations, failures and median duration. */
export interface VersionResults {
  readonly version: string;
  readonly generations: number;
  readonly failed: number;
  /** Of the generations with a duration; undefined when none had one. */
  readonly medianMs?: number;
  /** The event key of its first generation: versions sort in the order they were used. */
  readonly firstKey: number;
}

/** Results per version of one model over the last `days` days (generations recorded with their version only). */
export function resultsByVersion(db: AnalyticsDatabase, modelId: string, now: number, days: number): Map<string, VersionResults> {
  return new Map((versionResults(db, now - days * DAY_MS).get(modelId) ?? []).map((r) => [r.version, r]));
}

/** Results per version of every model since `fromTs`, oldest version first: what before and after an update looked like. */
export function versionResults(db: AnalyticsDatabase, fromTs: number): Map<string, VersionResults[]> {
  const rows = db.exec(`
    SELECT m.name, g.version, count(*), count(CASE WHEN g.ok = 0 THEN 1 END), group_concat(g.duration_ms), min(g.key)
    FROM generation_events g JOIN models m ON m.id = g.model_id
    WHERE g.key >= :from AND g.version IS NOT NULL
    GROUP BY m.name, g.version ORDER BY min(g.key)`, { ':from': eventKeyAt(Math.max(0, fromTs)) })[0]?.values ?? [];
  const byModel = new Map<string, VersionResults[]>();
  for (const [model, version, count, failed, durations, firstKey] of rows) {
    const sorted = durations === null ? [] : String(durations).split(',').map(Number).sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const medianMs = sorted.length === 0 ? undefined : sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
    const results: VersionResults = { version: String(version), generations: Number(count), failed: Number(failed), firstKey: Number(firstKey), ...(medianMs === undefined ? {} : { medianMs }) };
    byModel.set(String(model), [...(byModel.get(String(model)) ?? []), results]);
  }
  return byModel;
}
