/** Calendar arithmetic in the local time zone: people read "last 7 days" as 7 calendar days. */

export const DAY_MS = 86_400_000;

/** Periods the panel offers; `all` covers everything ever recorded (through the daily roll-ups). */
export type AnalyticsPeriod = 7 | 30 | 90 | 'all';

/** The local calendar day of `ts`, as a day count since 1970-01-01. */
export function localDay(ts: number): number {
  const offsetMs = new Date(ts).getTimezoneOffset() * 60_000;
  return Math.floor((ts - offsetMs) / DAY_MS);
}

/** Milliseconds at local midnight starting `day`. */
export function localDayStart(day: number): number {
  const guess = day * DAY_MS;
  // The offset at midnight can differ from the offset of the UTC guess around a DST change.
  const offsetMs = new Date(guess).getTimezoneOffset() * 60_000;
  const start = guess + offsetMs;
  return localDay(start) === day ? start : guess + new Date(start).getTimezoneOffset() * 60_000;
}

/** The first day of a period of `days` calendar days ending today (today included). */
export function periodFirstDay(now: number, period: AnalyticsPeriod): number {
  return period === 'all' ? Number.MIN_SAFE_INTEGER : localDay(now) - (period - 1);
}
