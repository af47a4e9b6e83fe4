import { median, percentile, RATIO_ERROR } from './durationStats';
import { EXACT_SAMPLES, exactDurations, windowDurations, type DayWindow } from './durationWindows';
import { kindCode, type AnalyticsDatabase } from './eventTypes';
import { localDay, periodFirstDay, type AnalyticsPeriod } from './period';
import { num } from './usageQueries';

const GENERATION = kindCode('generation');

export interface ModelPerformance {
  readonly modelId: string;
  readonly generations: number;
  /**
   * Percentiles of generation duration in the period: exact for a period of few generations, else from the
   * daily histograms, within 1% (see `windowDurations`).
   */
  readonly medianMs: number | undefined;
  readonly p95Ms: number | undefined;
  /** Caller's units (e.g. tokens) per second, over generations that reported units. */
  readonly unitsPerSecond: number | undefined;
  readonly successRate: number | undefined;
}

/** Generation performance per model in `period`, slowest median first. */
export function performanceByModel(db: AnalyticsDatabase, now: number, period: AnalyticsPeriod, exactUpTo = EXACT_SAMPLES): ModelPerformance[] {
  const durations = windowDurations(db, { firstDay: periodFirstDay(now, period) }, exactUpTo);
  const rows = db.exec(`
    SELECT m.name, sum(d.count), sum(d.ok_count), sum(d.failed_count), sum(d.sum_units), sum(d.units_duration_ms)
    FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.kind = ${GENERATION} AND d.day >= :firstDay
    GROUP BY d.model_id`, { ':firstDay': periodFirstDay(now, period) })[0]?.values ?? [];
  return rows.map(([name, count, ok, failed, units, unitsMs]) => {
    const sample = durations.get(String(name));
    return {
      modelId: String(name),
      generations: num(count),
      medianMs: sample && median(sample),
      p95Ms: sample && percentile(sample, 0.95),
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
 * so one slow call on a rarely used model does not raise an alert. Medians from histograms are only
 * trusted when their error bound cannot cross the threshold; otherwise that model's raw events decide.
 */
export function performanceAlerts(db: AnalyticsDatabase, now: number, minSamples = 5, exactUpTo = EXACT_SAMPLES): PerformanceAlert[] {
  const recentDay = localDay(now) - 6;
  const baselineDay = recentDay - 30;
  const recentWindow: DayWindow = { firstDay: recentDay };
  const baselineWindow: DayWindow = { firstDay: baselineDay, endDay: recentDay };
  const recentDurations = windowDurations(db, recentWindow, exactUpTo);
  const baselineDurations = windowDurations(db, baselineWindow, exactUpTo);
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
    if (recent && baseline && recent.count >= minSamples && baseline.count >= minSamples) {
      let [r, b] = [median(recent), median(baseline)];
      if (!(recent.exact && baseline.exact) && straddlesThreshold(r, b)) {
        const exactRecent = exactDurations(db, recentWindow, modelId).get(modelId);
        const exactBaseline = exactDurations(db, baselineWindow, modelId).get(modelId);
        // Raw events past retention (a retention under 37 days) leave the estimate as the best there is.
        if (exactRecent && exactBaseline && exactRecent.count >= recent.count && exactBaseline.count >= baseline.count) {
          [r, b] = [median(exactRecent), median(exactBaseline)];
        }
      }
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
 * Whether medians `r` and `b`, each within RELATIVE_ERROR of the truth, leave it open which side of the
 * alert threshold the true change is on. A baseline estimated at 0 holds only durations ≤ 0: never an alert.
 */
function straddlesThreshold(r: number, b: number): boolean {
  if (b <= 0) return false;
  const limit = 1 + ALERT_THRESHOLD;
  return r / b / RATIO_ERROR <= limit && (r / b) * RATIO_ERROR > limit;
}

function ratio(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : part / whole;
}
