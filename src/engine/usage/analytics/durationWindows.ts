import { DurationHistogram, SortedDurations, type DurationSample } from './durationStats';
import { eventKeyAt, kindCode, type AnalyticsDatabase } from './eventTypes';
import { localDayStart } from './period';

const GENERATION = kindCode('generation');

/** Local calendar days [firstDay, endDay); `endDay` undefined: no end. */
export interface DayWindow {
  readonly firstDay: number;
  readonly endDay?: number;
}

/**
 * Up to this many generations in a window (all models together), percentiles come exactly from the raw
 * events; above it, from the daily histograms (within RELATIVE_ERROR). Reading raw durations costs about a
 * microsecond each; this bound keeps the exact path to a few milliseconds whatever the database holds.
 */
export const EXACT_SAMPLES = 5_000;

/**
 * Generation durations per model name in `window`. Exact when the window holds at most `exactUpTo`
 * generations and their raw events are all still kept; otherwise the daily histograms, which also reach
 * past retention (back to the first day recorded by a release that kept them).
 */
export function windowDurations(db: AnalyticsDatabase, window: DayWindow, exactUpTo = EXACT_SAMPLES): Map<string, DurationSample> {
  const histograms = new Map<string, DurationHistogram>();
  let total = 0;
  const rows = db.exec(`
    SELECT m.name, d.duration_hist FROM daily d JOIN models m ON m.id = d.model_id
    WHERE d.kind = ${GENERATION} AND d.day >= :first AND d.day < :end AND d.duration_hist IS NOT NULL`,
  { ':first': window.firstDay, ':end': window.endDay ?? Number.MAX_SAFE_INTEGER })[0]?.values ?? [];
  for (const [name, blob] of rows) {
    if (!(blob instanceof Uint8Array)) continue;
    let hist = histograms.get(String(name));
    if (!hist) histograms.set(String(name), hist = new DurationHistogram());
    const before = hist.count;
    hist.addEncoded(blob);
    total += hist.count - before;
  }
  if (total > exactUpTo) return histograms;
  // Raw rows can outnumber the histograms only where a day's histogram could not be back-filled.
  const samples = new Map<string, DurationSample>(histograms);
  for (const [name, exact] of exactDurations(db, window)) {
    if (exact.count >= (histograms.get(name)?.count ?? 0)) samples.set(name, exact);
  }
  return samples;
}

/**
 * Exact sorted durations per model name from the raw generations in `window` (only `model` if given).
 * SQLite has no percentile function, so each model's durations come across as one string and are sorted here.
 */
export function exactDurations(db: AnalyticsDatabase, window: DayWindow, model?: string): Map<string, SortedDurations> {
  const from = window.firstDay <= Number.MIN_SAFE_INTEGER ? Number.MIN_SAFE_INTEGER : eventKeyAt(localDayStart(window.firstDay));
  const to = window.endDay === undefined ? Number.MAX_SAFE_INTEGER : eventKeyAt(localDayStart(window.endDay));
  const rows = db.exec(`
    SELECT m.name, e.durations FROM (
      SELECT model_id, group_concat(duration_ms) AS durations FROM generation_events
      WHERE key >= :from AND key < :to AND duration_ms IS NOT NULL
        AND (:model IS NULL OR model_id = (SELECT id FROM models WHERE name = :model))
      GROUP BY model_id) e JOIN models m ON m.id = e.model_id`,
  { ':from': from, ':to': to, ':model': model ?? null })[0]?.values ?? [];
  return new Map(rows.map(([name, list]) => [String(name), new SortedDurations(Float64Array.from(String(list).split(','), Number).sort())]));
}
