import { eventKeyAt, kindCode, type AnalyticsDatabase } from './eventTypes';
import { localDay, localDayStart, periodFirstDay, periodStart, type AnalyticsPeriod } from './period';
import { num } from './usageQueries';

const GENERATION = kindCode('generation');

export interface ModelPerformance {
  readonly modelId: string;
  readonly generations: number;
  /** Percentiles of generation duration over the raw events still kept (see retention). */
  readonly medianMs: number | undefined;
  readonly p95Ms: number | undefined;
  /** Caller's units (e.g. tokens) per second, over generations that reported units. */
  readonly unitsPerSecond: number | undefined;
  readonly successRate: number | undefined;
}

/** Generation performance per model in `period`, slowest median first. */
export function performanceByModel(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod): ModelPerformance[] {
  const durations = durationsByModel(db, periodStart(now, period), Number.MAX_SAFE_INTEGER);
  const rows = db.exec(`
    SELECT m.name, sum(d.count), sum(d.ok_count), sum(d.failed_count), sum(d.sum_units), sum(d.units_duration_ms)
    FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.kind = ${GENERATION} AND d.day >= :firstDay
    GROUP BY d.model_id`, { ':firstDay': periodFirstDay(now, period) })[0]?.values ?? [];
  return rows.map(([name, count, ok, failed, units, unitsMs]) => {
    const sorted = durations.get(String(name));
    return {
      modelId: String(name),
      generations: num(count),
      medianMs: sorted && median(sorted),
      p95Ms: sorted && percentile(sorted, 0.95),
      unitsPerSecond: num(unitsMs) > 0 ? num(units) / (num(unitsMs) / 1000) : undefined,
      successRate: ratio(num(ok), num(ok) + num(failed)),
    };
  }).sort((a, b) => (b.medianMs ?? -1) - (a.medianMs ?? -1) || a.modelId.localeCompare(b.modelId));
}

export interface DailyPerformance {
  readonly modelId: string;
  /** Local calendar day, as days since 1970-01-01. */
  readonly day: number;
  readonly generations: number;
  readonly meanMs: number | undefined;
  readonly minMs: number | undefined;
  readonly maxMs: number | undefined;
  readonly unitsPerSecond: number | undefined;
  readonly successRate: number | undefined;
}

/** Generation performance per model and day (from the roll-ups, so it reaches past retention), oldest first. */
export function dailyPerformance(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod): DailyPerformance[] {
  const rows = db.exec(`
    SELECT m.name, d.day, d.count, d.ok_count, d.failed_count, d.duration_count, d.sum_duration_ms, d.min_duration_ms,
      d.max_duration_ms, d.sum_units, d.units_duration_ms
    FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.kind = ${GENERATION} AND d.day >= :firstDay
    ORDER BY d.day, m.name`, { ':firstDay': periodFirstDay(now, period) })[0]?.values ?? [];
  return rows.map(([name, day, count, ok, failed, durations, sumMs, minMs, maxMs, units, unitsMs]) => ({
    modelId: String(name), day: num(day), generations: num(count),
    meanMs: num(durations) > 0 ? num(sumMs) / num(durations) : undefined,
    minMs: minMs === null ? undefined : num(minMs), maxMs: maxMs === null ? undefined : num(maxMs),
    unitsPerSecond: num(unitsMs) > 0 ? num(units) / (num(unitsMs) / 1000) : undefined,
    successRate: ratio(num(ok), num(ok) + num(failed)),
  }));
}

export interface PerformanceAlert {
  readonly modelId: string;
  /** `slower`: median duration up; `lessSuccessful`: success rate down. */
  readonly kind: 'slower' | 'lessSuccessful';
  /** The last 7 days (today included). */
  readonly recent: number;
  /** The 30 days before those. */
  readonly baseline: number;
  /** Relative change, e.g. 0.3 for 30% slower or 30% less successful. */
  readonly change: number;
}

/** Alerts fire on a change of more than this (strictly). */
export const ALERT_THRESHOLD = 0.25;

/**
 * Models whose last 7 days are more than 25% slower (median generation duration) or less successful
 * (relative drop of the success rate) than the 30 days before. Each window needs `minSamples` generations,
 * so one slow call on a rarely used model does not raise an alert.
 */
export function performanceAlerts(db: AnalyticsDatabase, now: number, minSamples = 5): PerformanceAlert[] {
  const recentDay = localDay(now) - 6;
  const baselineDay = recentDay - 30;
  const recentStart = localDayStart(recentDay);
  const recentDurations = durationsByModel(db, recentStart, Number.MAX_SAFE_INTEGER);
  const baselineDurations = durationsByModel(db, localDayStart(baselineDay), recentStart);
  const outcomes = db.exec(`
    SELECT m.name, sum(CASE WHEN d.day >= :recent THEN d.ok_count END), sum(CASE WHEN d.day >= :recent THEN d.failed_count END),
      sum(CASE WHEN d.day < :recent THEN d.ok_count END), sum(CASE WHEN d.day < :recent THEN d.failed_count END)
    FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.kind = ${GENERATION} AND d.day >= :baseline
    GROUP BY d.model_id`, { ':recent': recentDay, ':baseline': baselineDay })[0]?.values ?? [];
  const alerts: PerformanceAlert[] = [];
  for (const [name, recentOk, recentFailed, baseOk, baseFailed] of outcomes) {
    const modelId = String(name);
    const recent = recentDurations.get(modelId);
    const baseline = baselineDurations.get(modelId);
    if (recent && baseline && recent.length >= minSamples && baseline.length >= minSamples) {
      const [r, b] = [median(recent), median(baseline)];
      if (b > 0 && (r - b) / b > ALERT_THRESHOLD) alerts.push({ modelId, kind: 'slower', recent: r, baseline: b, change: (r - b) / b });
    }
    const [rn, bn] = [num(recentOk) + num(recentFailed), num(baseOk) + num(baseFailed)];
    if (rn >= minSamples && bn >= minSamples) {
      const [r, b] = [num(recentOk) / rn, num(baseOk) / bn];
      if (b > 0 && (b - r) / b > ALERT_THRESHOLD) alerts.push({ modelId, kind: 'lessSuccessful', recent: r, baseline: b, change: (b - r) / b });
    }
  }
  return alerts.sort((a, b) => b.change - a.change);
}

/**
 * Sorted generation durations per model for events in [from, to). SQLite has no percentile function,
 * so the durations of one window come across as one string per model and are sorted here.
 */
function durationsByModel(db: AnalyticsDatabase, from: number, to: number): Map<string, Float64Array> {
  const rows = db.exec(`
    SELECT m.name, e.durations FROM (
      SELECT model_id, group_concat(duration_ms) AS durations FROM events
      WHERE key >= :from AND key < :to AND kind = ${GENERATION} AND duration_ms IS NOT NULL
      GROUP BY model_id) e JOIN models m ON m.id = e.model_id`,
  { ':from': eventKeyAt(from), ':to': to >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : eventKeyAt(to) })[0]?.values ?? [];
  return new Map(rows.map(([name, list]) => [String(name), Float64Array.from(String(list).split(','), Number).sort()]));
}

/** The middle value, or the mean of the two middle ones. */
export function median(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile: the smallest value with at least `p` of the values at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function ratio(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : part / whole;
}
