import * as assert from 'node:assert/strict';
import type { Database } from 'sql.js';
import { DurationHistogram, RELATIVE_ERROR, SortedDurations, bucketOf, bucketValue, median, percentile } from '../../../../src/engine/usage/analytics/durationStats';
import { mergeEvents } from '../../../../src/engine/usage/analytics/eventMerge';
import type { AnalyticsEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { performanceAlerts, performanceByModel } from '../../../../src/engine/usage/analytics/performanceQueries';
import { migrate } from '../../../../src/engine/usage/analytics/schema';
import { DAY, localNoon, sql } from './analyticsFixtures';

const NOW = localNoon();

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function seeded(events: (AnalyticsEvent & { ts: number })[]): Promise<Database> {
  const db = new (await sql()).Database();
  migrate(db);
  mergeEvents(db, 'test', events.map((e, i) => ({ ...e, seq: i + 1 })));
  return db;
}

function generations(n: number, ms: (i: number) => number, ts: (i: number) => number): (AnalyticsEvent & { ts: number })[] {
  return Array.from({ length: n }, (_, i) => ({ kind: 'generation' as const, modelId: 'm', ok: true, durationMs: ms(i), ts: ts(i) }));
}

describe('duration histograms', () => {
  it('reads every whole millisecond back within 1%', () => {
    const next = random(1);
    const values = [0, 1, 2, 3, 50, 99, 100, 101, 1000, 1240, 1250, 1260, 86_400_000];
    for (let i = 0; i < 20_000; i++) values.push(Math.round(Math.exp(next() * Math.log(1e8))));
    for (const v of values) {
      const estimate = bucketValue(bucketOf(v));
      assert.ok(Math.abs(estimate - v) <= RELATIVE_ERROR * v, `${v} read back as ${estimate}`);
    }
  });

  it('encodes and decodes its counts, including counts past 2^31', () => {
    const h = new DurationHistogram();
    for (const v of [5, 5, 300, 4000, 0]) h.add(v);
    const copy = new DurationHistogram();
    copy.addEncoded(h.encode());
    copy.addEncoded(h.encode());
    assert.equal(copy.count, 10);
    assert.deepEqual([1, 2, 3, 5, 7, 9, 10].map((r) => copy.valueAt(r)), [0, 0, 5, 5, 300, 4000, 4000].map((v) => bucketValue(bucketOf(v))));
    const big = new DurationHistogram();
    big.addEncoded(Uint8Array.from([1, 0x80, 0x80, 0x80, 0x80, 0x10]));
    assert.equal(big.count, 2 ** 32);
    const again = new DurationHistogram();
    again.addEncoded(big.encode());
    assert.equal(again.count, 2 ** 32);
    assert.throws(() => new DurationHistogram().addEncoded(Uint8Array.from([3, 0x80])), /truncated/);
  });

  it('gives medians and p95s within 1% of the exact ones', () => {
    const next = random(2);
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(next() * 3000);
      const values = Float64Array.from({ length: n }, () => Math.round(200 + next() * next() * 20_000)).sort();
      const h = new DurationHistogram();
      for (const v of values) h.add(v);
      const exact = new SortedDurations(values);
      for (const [estimate, truth] of [[median(h), median(exact)], [percentile(h, 0.95), percentile(exact, 0.95)]]) {
        assert.ok(Math.abs(estimate - truth) <= RELATIVE_ERROR * truth, `n=${n}: ${estimate} vs ${truth}`);
      }
    }
  });
});

describe('percentiles from the daily histograms', () => {
  const recentDays = (i: number) => NOW - (i % 7) * DAY;
  const baselineDays = (i: number) => NOW - (7 + (i % 30)) * DAY;

  it('performance per model from histograms is within 1% of the exact figures', async () => {
    const next = random(3);
    const events = generations(2000, () => Math.round(100 + next() * 5000), (i) => NOW - (i % 20) * DAY);
    const db = await seeded(events);
    const [exact] = performanceByModel(db, NOW, 30);
    const [estimated] = performanceByModel(db, NOW, 30, 0);
    assert.equal(estimated.generations, 2000);
    for (const key of ['medianMs', 'p95Ms'] as const) {
      const [e, t] = [estimated[key] ?? NaN, exact[key] ?? NaN];
      assert.ok(Math.abs(e - t) <= RELATIVE_ERROR * t, `${key}: ${e} vs ${t}`);
    }
  });

  it('decides alerts at 24%, 25% and 26% slower exactly, even past the exact-sample limit', async () => {
    // exactUpTo 0 forces the histograms; their 1% could turn 24% into 26%, so close calls go to the raw events.
    for (const [recentMs, fires] of [[1240, false], [1250, false], [1251, true], [1260, true], [1249, false]] as const) {
      const db = await seeded([...generations(300, () => 1000, baselineDays), ...generations(300, () => recentMs, recentDays)]);
      const alerts = performanceAlerts(db, NOW, 5, 0);
      assert.deepEqual(alerts.map((a) => [a.kind, a.recent, a.baseline]), fires ? [['slower', recentMs, 1000]] : [], `recent ${recentMs} ms`);
    }
  });

  it('clear cases need no raw events: alerts from histograms alone, within their error', async () => {
    const db = await seeded([...generations(300, () => 1000, baselineDays), ...generations(300, () => 1500, recentDays)]);
    db.run('DELETE FROM generation_events');
    const alerts = performanceAlerts(db, NOW, 5, 0);
    assert.deepEqual(alerts.map((a) => a.kind), ['slower']);
    assert.ok(Math.abs(alerts[0].recent - 1500) <= RELATIVE_ERROR * 1500 && Math.abs(alerts[0].baseline - 1000) <= RELATIVE_ERROR * 1000);
    const calm = await seeded([...generations(300, () => 1000, baselineDays), ...generations(300, () => 1100, recentDays)]);
    calm.run('DELETE FROM generation_events');
    assert.deepEqual(performanceAlerts(calm, NOW, 5, 0), []);
  });
});
