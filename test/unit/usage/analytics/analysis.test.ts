import * as assert from 'node:assert/strict';
import type { Database } from 'sql.js';
import { mergeEvents } from '../../../../src/engine/usage/analytics/eventMerge';
import type { AnalyticsEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { localDay } from '../../../../src/engine/usage/analytics/period';
import { dailyPerformance, performanceAlerts, performanceByModel } from '../../../../src/engine/usage/analytics/performanceQueries';
import { migrate } from '../../../../src/engine/usage/analytics/schema';
import { successRates, usageByModel, usageSummary } from '../../../../src/engine/usage/analytics/usageQueries';
import { DAY, localNoon, sql } from './analyticsFixtures';

const NOW = localNoon();

async function seeded(events: (AnalyticsEvent & { ts: number })[]): Promise<Database> {
  const db = new (await sql()).Database();
  migrate(db);
  mergeEvents(db, 'test', events.map((e, i) => ({ ...e, seq: i + 1 })));
  return db;
}

function times<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

describe('analytics queries', () => {
  it('usage per model and period counts grants and generations as uses, with the last use ever', async () => {
    const db = await seeded([
      ...times(3, () => ({ kind: 'generation' as const, modelId: 'a', ok: true, ts: NOW - DAY })),
      { kind: 'grant', modelId: 'a', ts: NOW - 2 * DAY },
      { kind: 'request', modelId: 'a', ts: NOW - 2 * DAY },
      { kind: 'fallback', modelId: 'a', otherModelId: 'b', ts: NOW - 2 * DAY },
      { kind: 'grant', modelId: 'b', ts: NOW - 10 * DAY },
      ...times(5, () => ({ kind: 'generation' as const, modelId: 'b', ok: true, ts: NOW - 10 * DAY })),
      { kind: 'generation', modelId: 'c', ok: true, ts: NOW - 200 * DAY },
      { kind: 'download', modelId: 'd', ok: true, ts: NOW - DAY },
    ]);
    assert.deepEqual(usageByModel(db, NOW, 7), [
      { modelId: 'a', requests: 1, grants: 1, fallbacks: 1, generations: 3, uses: 4, lastUsed: NOW - DAY },
      { modelId: 'd', requests: 0, grants: 0, fallbacks: 0, generations: 0, uses: 0, lastUsed: undefined },
    ]);
    assert.deepEqual(usageByModel(db, NOW, 30).map((u) => [u.modelId, u.uses, u.lastUsed]), [['b', 6, NOW - 10 * DAY], ['a', 4, NOW - DAY], ['d', 0, undefined]]);
    assert.deepEqual(usageByModel(db, NOW, 'all').map((u) => [u.modelId, u.uses]), [['b', 6], ['a', 4], ['c', 1], ['d', 0]]);
    const summary = usageSummary(db, NOW, 30);
    assert.deepEqual(summary.get('c'), { useCount: 0, lastUsed: NOW - 200 * DAY });
    assert.deepEqual(summary.get('b'), { useCount: 6, lastUsed: NOW - 10 * DAY });
  });

  it('success rates of generations, downloads and repairs, per model and overall', async () => {
    const db = await seeded([
      ...times(4, (i) => ({ kind: 'generation' as const, modelId: 'a', ok: i < 3, ts: NOW })),
      ...times(2, (i) => ({ kind: 'download' as const, modelId: 'a', ok: i < 1, bytes: 100, ts: NOW })),
      ...times(4, () => ({ kind: 'generation' as const, modelId: 'b', ok: true, ts: NOW })),
      { kind: 'repair', modelId: 'b', ok: false, ts: NOW },
      { kind: 'generation', modelId: 'b', ok: false, ts: NOW - 40 * DAY },
    ]);
    const rates = successRates(db, NOW, 30);
    assert.deepEqual(rates.overall, {
      generations: { succeeded: 7, failed: 1, rate: 7 / 8 },
      downloads: { succeeded: 1, failed: 1, rate: 0.5 },
      repairs: { succeeded: 0, failed: 1, rate: 0 },
    });
    assert.deepEqual(rates.byModel.map((m) => [m.modelId, m.generations.rate, m.downloads.rate, m.repairs.rate]), [['a', 0.75, 0.5, undefined], ['b', 1, undefined, 0]]);
    assert.deepEqual(successRates(db, NOW, 'all').byModel[1].generations, { succeeded: 4, failed: 1, rate: 0.8 });
  });

  it('performance per model: median, p95, throughput and success rate', async () => {
    const db = await seeded([
      ...times(100, (i) => ({ kind: 'generation' as const, modelId: 'a', ok: i % 4 !== 0, durationMs: i + 1, units: i % 2 === 0 ? 10 : undefined, ts: NOW - (i % 5) * DAY })),
      ...times(3, (i) => ({ kind: 'generation' as const, modelId: 'b', ok: true, durationMs: [500, 100, 300][i], ts: NOW })),
      { kind: 'generation', modelId: 'b', ok: true, durationMs: 9000, ts: NOW - 60 * DAY },
    ]);
    const perf = performanceByModel(db, NOW, 30);
    assert.deepEqual(perf.map((p) => p.modelId), ['b', 'a']);
    const [b, a] = perf;
    assert.equal(a.generations, 100);
    assert.equal(a.medianMs, 50.5);
    assert.equal(a.p95Ms, 95);
    // Units on the 50 odd durations 1, 3, …, 99 (sum 2500 ms): 500 units in 2.5 s.
    assert.equal(a.unitsPerSecond, 200);
    assert.equal(a.successRate, 0.75);
    assert.deepEqual([b.generations, b.medianMs, b.p95Ms, b.unitsPerSecond], [3, 300, 500, undefined]);
    assert.equal(performanceByModel(db, NOW, 90).find((p) => p.modelId === 'b')?.p95Ms, 9000);
  });

  it('a daily time series from the roll-ups', async () => {
    const db = await seeded([
      { kind: 'generation', modelId: 'a', ok: true, durationMs: 100, units: 50, ts: NOW - DAY },
      { kind: 'generation', modelId: 'a', ok: false, durationMs: 300, ts: NOW - DAY },
      { kind: 'generation', modelId: 'a', ok: true, durationMs: 200, units: 100, ts: NOW },
      { kind: 'grant', modelId: 'a', ts: NOW },
      { kind: 'generation', modelId: 'a', ok: true, durationMs: 200, ts: NOW - 9 * DAY },
    ]);
    const today = localDay(NOW);
    assert.deepEqual(dailyPerformance(db, NOW, 7), [
      { modelId: 'a', day: today - 1, generations: 2, meanMs: 200, minMs: 100, maxMs: 300, unitsPerSecond: 500, successRate: 0.5 },
      { modelId: 'a', day: today, generations: 1, meanMs: 200, minMs: 200, maxMs: 200, unitsPerSecond: 500, successRate: 1 },
    ]);
    assert.equal(dailyPerformance(db, NOW, 30).length, 3);
  });

  describe('performance alert', () => {
    /** 60 generations spread over the 30 baseline days, then 20 over the last 7 days. */
    function windows(baselineMs: number, recentMs: number, recentFailures = 0, baselineFailures = 0): (AnalyticsEvent & { ts: number })[] {
      return [
        ...times(100, (i) => ({ kind: 'generation' as const, modelId: 'm', ok: i >= baselineFailures, durationMs: baselineMs, ts: NOW - (7 + (i % 30)) * DAY })),
        ...times(100, (i) => ({ kind: 'generation' as const, modelId: 'm', ok: i >= recentFailures, durationMs: recentMs, ts: NOW - (i % 7) * DAY })),
      ];
    }

    it('fires when the last 7 days are 26% slower, not 24% or exactly 25%', async () => {
      assert.deepEqual(performanceAlerts(await seeded(windows(1000, 1240)), NOW), []);
      assert.deepEqual(performanceAlerts(await seeded(windows(1000, 1250)), NOW), []);
      const alerts = performanceAlerts(await seeded(windows(1000, 1260)), NOW);
      assert.equal(alerts.length, 1);
      assert.deepEqual({ ...alerts[0], change: Math.round(alerts[0].change * 100) }, { modelId: 'm', kind: 'slower', recent: 1260, baseline: 1000, change: 26 });
    });

    it('fires when the success rate drops by 26% relative, not 24%', async () => {
      assert.deepEqual(performanceAlerts(await seeded(windows(1000, 1000, 24)), NOW), []);
      const alerts = performanceAlerts(await seeded(windows(1000, 1000, 26)), NOW);
      assert.deepEqual(alerts.map((a) => [a.kind, a.recent, a.baseline]), [['lessSuccessful', 0.74, 1]]);
      // Relative: 80% → 60.8% is a 24% drop, 80% → 59.2% a 26% drop.
      const baseline80 = windows(1000, 1000, 0, 20).slice(0, 100);
      const recent = (failures: number) => times(250, (i) => ({ kind: 'generation' as const, modelId: 'm', ok: i >= failures, durationMs: 1000, ts: NOW - (i % 7) * DAY }));
      assert.deepEqual(performanceAlerts(await seeded([...baseline80, ...recent(98)]), NOW), []);
      assert.deepEqual(performanceAlerts(await seeded([...baseline80, ...recent(102)]), NOW).map((a) => [a.kind, a.recent, a.baseline]), [['lessSuccessful', 0.592, 0.8]]);
    });

    it('ignores events older than the 37 days and windows with too few samples', async () => {
      const old = times(20, () => ({ kind: 'generation' as const, modelId: 'm', ok: true, durationMs: 100, ts: NOW - 40 * DAY }));
      assert.deepEqual(performanceAlerts(await seeded([...old, ...windows(1000, 1000)]), NOW), []);
      const few = [...times(4, () => ({ kind: 'generation' as const, modelId: 'm', ok: false, durationMs: 5000, ts: NOW })), ...windows(1000, 1000).slice(0, 100)];
      assert.deepEqual(performanceAlerts(await seeded(few), NOW), []);
      assert.equal(performanceAlerts(await seeded(few), NOW, 4).length, 2);
    });
  });
});
