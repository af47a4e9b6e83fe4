import type { SqlValue } from 'sql.js';
import { kindCode, type AnalyticsDatabase } from './eventTypes';
import { periodFirstDay, type AnalyticsPeriod } from './period';

/** How much one model was asked for and used in a period; everything here comes from the daily roll-ups. */
export interface ModelUsage {
  readonly modelId: string;
  readonly requests: number;
  readonly grants: number;
  readonly fallbacks: number;
  readonly generations: number;
  /** Grants plus generations: what the storage policies count as "uses". */
  readonly uses: number;
  /** Last grant or generation ever (not only in the period), ms since the epoch. */
  readonly lastUsed: number | undefined;
}

const GRANT = kindCode('grant');
const GENERATION = kindCode('generation');

/** Usage per model in `period`, most used first; models with no events in the period are left out. */
export function usageByModel(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod): ModelUsage[] {
  const rows = db.exec(`
    WITH last AS (SELECT model_id, max(last_ts) AS last_used FROM daily WHERE kind IN (${GRANT}, ${GENERATION}) GROUP BY model_id)
    SELECT m.name,
      sum(CASE WHEN d.kind = ${kindCode('request')} THEN d.count ELSE 0 END),
      sum(CASE WHEN d.kind = ${GRANT} THEN d.count ELSE 0 END),
      sum(CASE WHEN d.kind = ${kindCode('fallback')} THEN d.count ELSE 0 END),
      sum(CASE WHEN d.kind = ${GENERATION} THEN d.count ELSE 0 END),
      last.last_used
    FROM daily d JOIN models m ON m.id = d.model_id LEFT JOIN last ON last.model_id = d.model_id
    WHERE d.day >= :firstDay
    GROUP BY d.model_id`, { ':firstDay': periodFirstDay(now, period) })[0]?.values ?? [];
  return rows.map((r) => {
    const [grants, generations] = [num(r[2]), num(r[4])];
    return {
      modelId: String(r[0]), requests: num(r[1]), grants, fallbacks: num(r[3]), generations,
      uses: grants + generations, lastUsed: r[5] === null ? undefined : num(r[5]),
    };
  }).sort((a, b) => b.uses - a.uses || a.modelId.localeCompare(b.modelId));
}

export interface ModelUseSummary {
  readonly useCount: number;
  readonly lastUsed: number | undefined;
}

/** Use count in `period` and last use ever, of every model ever used: the input of the storage policies. */
export function usageSummary(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod): Map<string, ModelUseSummary> {
  const summary = new Map<string, ModelUseSummary>();
  for (const u of usageByModel(db, now, 'all')) summary.set(u.modelId, { useCount: 0, lastUsed: u.lastUsed });
  for (const u of usageByModel(db, now, period)) summary.set(u.modelId, { useCount: u.uses, lastUsed: u.lastUsed });
  return summary;
}

export interface SuccessRate {
  readonly succeeded: number;
  readonly failed: number;
  /** succeeded / (succeeded + failed); undefined with no outcomes. */
  readonly rate: number | undefined;
}

export interface ModelSuccessRates {
  readonly modelId: string;
  readonly generations: SuccessRate;
  readonly downloads: SuccessRate;
  readonly repairs: SuccessRate;
}

export interface SuccessRates {
  readonly overall: Omit<ModelSuccessRates, 'modelId'>;
  readonly byModel: readonly ModelSuccessRates[];
}

const OUTCOME_KINDS = { generations: kindCode('generation'), downloads: kindCode('download'), repairs: kindCode('repair') } as const;

/** Success rates of generations, downloads and repairs in `period`, per model and overall. */
export function successRates(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod): SuccessRates {
  const rows = db.exec(`
    SELECT m.name, d.kind, sum(d.ok_count), sum(d.failed_count)
    FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.day >= :firstDay AND d.kind IN (${Object.values(OUTCOME_KINDS).join(', ')})
    GROUP BY d.model_id, d.kind`, { ':firstDay': periodFirstDay(now, period) })[0]?.values ?? [];
  const counts = new Map<string, Map<number, [number, number]>>();
  const totals = new Map<number, [number, number]>();
  for (const [name, kind, ok, failed] of rows) {
    const perModel = counts.get(String(name)) ?? new Map<number, [number, number]>();
    counts.set(String(name), perModel);
    perModel.set(num(kind), [num(ok), num(failed)]);
    const t = totals.get(num(kind)) ?? [0, 0];
    totals.set(num(kind), [t[0] + num(ok), t[1] + num(failed)]);
  }
  const rates = (byKind: Map<number, [number, number]>): Omit<ModelSuccessRates, 'modelId'> => ({
    generations: rate(byKind.get(OUTCOME_KINDS.generations)),
    downloads: rate(byKind.get(OUTCOME_KINDS.downloads)),
    repairs: rate(byKind.get(OUTCOME_KINDS.repairs)),
  });
  return {
    overall: rates(totals),
    byModel: [...counts].map(([modelId, byKind]) => ({ modelId, ...rates(byKind) })).sort((a, b) => a.modelId.localeCompare(b.modelId)),
  };
}

function rate(counts: [number, number] | undefined): SuccessRate {
  const [succeeded, failed] = counts ?? [0, 0];
  return { succeeded, failed, rate: succeeded + failed === 0 ? undefined : succeeded / (succeeded + failed) };
}

export function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
