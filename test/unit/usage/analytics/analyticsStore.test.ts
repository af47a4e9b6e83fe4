import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AnalyticsStore, AnalyticsWarning } from '../../../../src/engine/usage/analytics/analyticsStore';
import { RELATIVE_ERROR } from '../../../../src/engine/usage/analytics/durationStats';
import { mergeEvents } from '../../../../src/engine/usage/analytics/eventMerge';
import type { PendingEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { performanceByModel } from '../../../../src/engine/usage/analytics/performanceQueries';
import { migrate, SCHEMA_VERSION } from '../../../../src/engine/usage/analytics/schema';
import { DAY, checkedEventCount, localNoon, openFile, openStore, scalar, sql, tempFolder } from './analyticsFixtures';

describe('AnalyticsStore', function () {
  let folder: string;
  let file: string;
  const stores: AnalyticsStore[] = [];

  async function store(options: Parameters<typeof openStore>[1] = {}): Promise<AnalyticsStore> {
    const s = await openStore(folder, options);
    stores.push(s);
    return s;
  }

  beforeEach(async () => {
    folder = await tempFolder();
    file = path.join(folder, 'analytics.sqlite');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await fs.rm(folder, { recursive: true, force: true });
  });

  it('buffers records in memory and writes them on flush, with their roll-ups', async () => {
    const s = await store();
    s.record({ kind: 'generation', modelId: 'a', ok: true, durationMs: 120, units: 60 });
    s.record({ kind: 'generation', modelId: 'a', ok: false, durationMs: 80 });
    s.record({ kind: 'fallback', modelId: 'a', otherModelId: 'b', detail: { reason: 'missing' } });
    assert.equal(s.pendingCount, 3);
    await assert.rejects(fs.stat(file));
    await s.flush();
    assert.equal(s.pendingCount, 0);
    assert.equal(await checkedEventCount(file), 3);
    const db = await openFile(file);
    try {
      assert.deepEqual(db.exec(`SELECT count, ok_count, failed_count, duration_count, sum_duration_ms, min_duration_ms, max_duration_ms, sum_units, units_duration_ms
        FROM daily WHERE kind = 3`)[0].values, [[2, 1, 1, 2, 200, 80, 120, 60, 120]]);
      assert.equal(scalar(db, "SELECT m.name FROM event_details d JOIN models m ON m.id = d.other_model_id"), 'b');
      assert.equal(scalar(db, 'SELECT detail FROM event_details'), '{"reason":"missing"}');
    } finally {
      db.close();
    }
  });

  it('saves by itself after the debounce delay', async () => {
    const s = await store({ saveDelayMs: 10 });
    const saved = new Promise<void>((resolve) => s.onDidSave(resolve));
    s.record({ kind: 'grant', modelId: 'a' });
    await saved;
    assert.equal(await checkedEventCount(file), 1);
  });

  it('merges into what another store saved instead of overwriting it, and sees it after its own save', async () => {
    const a = await store();
    const b = await store();
    a.record({ kind: 'grant', modelId: 'a' });
    await a.flush();
    b.record({ kind: 'grant', modelId: 'b' });
    b.record({ kind: 'grant', modelId: 'b' });
    await b.flush();
    a.record({ kind: 'grant', modelId: 'a' });
    await a.flush();
    assert.equal(await checkedEventCount(file), 4);
    assert.deepEqual(a.read((db) => db.exec('SELECT m.name, count(*) FROM events e JOIN models m ON m.id = e.model_id GROUP BY m.name ORDER BY m.name')[0].values), [['a', 2], ['b', 2]]);
  });

  it('reload() shows other processes saves', async () => {
    const a = await store();
    const b = await store();
    b.record({ kind: 'grant', modelId: 'b' });
    await b.flush();
    assert.equal(a.read((db) => scalar(db, 'SELECT count(*) FROM events')), 0);
    await a.reload();
    assert.equal(a.read((db) => scalar(db, 'SELECT count(*) FROM events')), 1);
  });

  it('merging the same batch twice adds it once', async () => {
    const db = new (await sql()).Database();
    migrate(db);
    const batch: PendingEvent[] = [1, 2, 3].map((seq) => ({ kind: 'grant', modelId: 'a', ts: 1_700_000_000_000, seq }));
    assert.equal(mergeEvents(db, 'p1', batch), 3);
    assert.equal(mergeEvents(db, 'p1', batch), 0);
    assert.equal(mergeEvents(db, 'p2', batch), 3);
    assert.equal(scalar(db, 'SELECT count(*) FROM events'), 6);
    assert.equal(scalar(db, 'SELECT sum(count) FROM daily'), 6);
    // Six events in the same millisecond got six distinct keys in that millisecond's slots.
    assert.equal(scalar(db, 'SELECT count(DISTINCT key / 256) FROM events'), 1);
    db.close();
  });

  it('re-applies its pragmas after each export', async () => {
    const s = await store();
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.equal(s.read((db) => scalar(db, 'PRAGMA journal_mode')), 'memory');
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.equal(await checkedEventCount(file), 2);
  });

  it('records nothing while disabled', async () => {
    const s = await store({ enabled: false });
    s.record({ kind: 'grant', modelId: 'a' });
    assert.equal(s.pendingCount, 0);
    await s.flush();
    await assert.rejects(fs.stat(file));
    s.enabled = true;
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.equal(await checkedEventCount(file), 1);
  });

  it('clear() deletes every event and roll-up, and another store does not bring them back', async () => {
    const a = await store();
    const b = await store();
    a.record({ kind: 'grant', modelId: 'a' });
    b.record({ kind: 'grant', modelId: 'b' });
    await a.flush();
    await b.flush();
    await a.clear();
    assert.equal(await checkedEventCount(file), 0);
    assert.equal(a.read((db) => scalar(db, 'SELECT count(*) FROM daily')), 0);
    b.record({ kind: 'grant', modelId: 'c' });
    await b.flush();
    assert.equal(await checkedEventCount(file), 1);
    assert.equal(b.read((db) => scalar(db, 'SELECT sum(count) FROM daily')), 1);
  });

  it('rolls old raw events up, deletes them after the retention period, and keeps their totals', async () => {
    const now = localNoon();
    const s = await store({ now: () => now, retentionDays: 90 });
    s.record({ kind: 'generation', modelId: 'a', ok: true, durationMs: 100, ts: now - 100 * DAY });
    s.record({ kind: 'generation', modelId: 'a', ok: false, durationMs: 300, ts: now - 95 * DAY });
    s.record({ kind: 'generation', modelId: 'a', ok: true, durationMs: 200, ts: now - DAY });
    await s.flush();
    const db = await openFile(file);
    try {
      assert.equal(scalar(db, 'SELECT count(*) FROM events'), 1);
      assert.deepEqual(db.exec('SELECT sum(count), sum(ok_count), sum(failed_count), sum(sum_duration_ms), min(min_duration_ms), max(max_duration_ms), count(*) FROM daily')[0].values,
        [[3, 2, 1, 600, 100, 300, 3]]);
    } finally {
      db.close();
    }
  });

  it('upgrades a version 1 file, back-filling the daily roll-ups', async () => {
    const db = new (await sql()).Database();
    migrate(db, 1);
    const ts = localNoon(2);
    db.exec(`INSERT INTO models (id, name) VALUES (1, 'a'), (2, 'b');
      INSERT INTO events (key, kind, model_id, ok, duration_ms, units) VALUES
        (${ts * 256}, 3, 1, 1, 100, 10), (${ts * 256 + 1}, 3, 1, 0, 300, NULL), (${(ts + 1) * 256}, 5, 2, 1, NULL, NULL);
      INSERT INTO event_details (key, bytes) VALUES (${(ts + 1) * 256}, 5000);`);
    await fs.writeFile(file, db.export());
    db.close();

    const s = await store();
    assert.deepEqual(s.startupWarnings, []);
    assert.equal(s.read((d) => scalar(d, 'PRAGMA user_version')), SCHEMA_VERSION);
    assert.deepEqual(s.read((d) => d.exec('SELECT model_id, kind, count, ok_count, failed_count, sum_duration_ms, sum_units, units_duration_ms, sum_bytes, last_ts FROM daily ORDER BY model_id')[0].values),
      [[1, 3, 2, 1, 1, 400, 10, 100, 0, ts], [2, 5, 1, 1, 0, 0, 0, 0, 5000, ts + 1]]);
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.equal(await checkedEventCount(file), 4);
  });

  it('upgrades a version 2 file: events keep every field, percentiles stay right exactly and from histograms', async () => {
    const db = new (await sql()).Database();
    migrate(db, 1);
    const ts = localNoon(3);
    const durations = Array.from({ length: 101 }, (_, i) => ((i * 37) % 1000) + 1);
    const generations = durations.map((ms, i) => `(${(ts - (i % 3) * DAY) * 256 + i}, 3, 1, ${i % 4 === 0 ? 0 : 1}, ${ms}, ${i % 2 === 0 ? 10 : 'NULL'})`);
    db.exec(`INSERT INTO models (id, name) VALUES (1, 'a'), (2, 'b');
      INSERT INTO events (key, kind, model_id, ok, duration_ms, units) VALUES ${generations.join(', ')},
        (${(ts + 1) * 256}, 5, 2, 1, 60000, NULL), (${(ts + 2) * 256}, 6, 2, 0, 500, NULL), (${(ts + 3) * 256}, 1, 2, NULL, NULL, NULL);
      INSERT INTO event_details (key, bytes) VALUES (${(ts + 1) * 256}, 5000);`);
    migrate(db, 2);
    await fs.writeFile(file, db.export());
    db.close();

    const s = await store();
    assert.deepEqual(s.startupWarnings, []);
    assert.equal(s.read((d) => scalar(d, 'PRAGMA user_version')), SCHEMA_VERSION);
    assert.deepEqual(s.read((d) => d.exec('SELECT e.kind, e.ok, e.duration_ms, e.units, d.bytes FROM events e LEFT JOIN event_details d ON d.key = e.key WHERE e.model_id = 2 ORDER BY e.key')[0].values),
      [[5, 1, 60000, null, 5000], [6, 0, 500, null, null], [1, null, null, null, null]]);
    assert.equal(s.read((d) => scalar(d, 'SELECT count(*) FROM generation_events')), 101);
    const sorted = [...durations].sort((a, b) => a - b);
    const [exact] = s.read((d) => performanceByModel(d, Date.now(), 30));
    assert.deepEqual([exact.modelId, exact.generations, exact.medianMs, exact.p95Ms], ['a', 101, sorted[50], sorted[95]]);
    const [estimated] = s.read((d) => performanceByModel(d, Date.now(), 30, 0));
    assert.ok(Math.abs((estimated.medianMs ?? 0) - sorted[50]) <= RELATIVE_ERROR * sorted[50]);
    assert.ok(Math.abs((estimated.p95Ms ?? 0) - sorted[95]) <= RELATIVE_ERROR * sorted[95]);
    s.record({ kind: 'generation', modelId: 'a', ok: true, durationMs: 5 });
    await s.flush();
    assert.equal(await checkedEventCount(file), 105);
    const saved = await openFile(file);
    try {
      assert.equal(scalar(saved, 'PRAGMA page_size'), 16_384);
    } finally {
      saved.close();
    }
  });

  for (const [name, damage] of [
    ['garbage bytes', async () => { await fs.writeFile(file, Buffer.from('this is not a database at all, just some bytes'.repeat(200))); }],
    ['damaged pages', async () => {
      const db = new (await sql()).Database();
      migrate(db);
      mergeEvents(db, 'x', Array.from({ length: 5000 }, (_, i) => ({ kind: 'grant' as const, modelId: `m${i % 50}`, ts: 1_700_000_000_000 + i, seq: i + 1 })));
      const bytes = db.export();
      db.close();
      // Overwrite page 3 onwards with junk, leaving a valid header so the file still opens.
      bytes.fill(0x5a, 8192 * 2 + 100, 8192 * 6);
      await fs.writeFile(file, bytes);
    }],
  ] as const) {
    it(`moves a database with ${name} aside, keeps it, warns once and starts a new one`, async () => {
      await damage();
      const original = await fs.readFile(file);
      const s = await store();
      const later: AnalyticsWarning[] = [];
      s.onDidWarn((w) => later.push(w));
      assert.equal(s.startupWarnings.length, 1);
      const [warning] = s.startupWarnings;
      assert.equal(warning.kind, 'corrupt');
      assert.ok(warning.movedTo?.startsWith(`${file}.corrupt-`));
      assert.deepEqual(await fs.readFile(warning.movedTo ?? ''), original);
      s.record({ kind: 'grant', modelId: 'a' });
      await s.flush();
      assert.equal(await checkedEventCount(file), 1);
      assert.deepEqual(later, []);
    });
  }

  it('moves aside a file that became unreadable while running, warns through onDidWarn, and saves its events', async () => {
    const s = await store();
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    const warnings: AnalyticsWarning[] = [];
    s.onDidWarn((w) => warnings.push(w));
    await fs.writeFile(file, 'garbage'.repeat(1000));
    s.record({ kind: 'grant', modelId: 'b' });
    await s.flush();
    assert.deepEqual(warnings.map((w) => w.kind), ['corrupt']);
    assert.equal(await checkedEventCount(file), 1);
    assert.equal(s.read((db) => scalar(db, "SELECT name FROM models")), 'b');
  });

  it('does not write into a database from a newer schema', async () => {
    const db = new (await sql()).Database();
    migrate(db);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    await fs.writeFile(file, db.export());
    db.close();
    const before = await fs.readFile(file);
    const s = await store();
    assert.deepEqual(s.startupWarnings.map((w) => w.kind), ['newerSchema']);
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.deepEqual(await fs.readFile(file), before);
  });

  it('takes over a lock left behind by a dead process', async () => {
    await fs.mkdir(`${file}.lock`);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(`${file}.lock`, old, old);
    const s = await store();
    s.record({ kind: 'grant', modelId: 'a' });
    await s.flush();
    assert.equal(await checkedEventCount(file), 1);
  });

  it('keeps events pending when the lock cannot be had, and saves them later', async () => {
    await fs.mkdir(`${file}.lock`);
    const s = await store({ lockWaitMs: 200, lockStaleMs: 60_000 });
    s.record({ kind: 'grant', modelId: 'a' });
    await assert.rejects(s.flush());
    assert.equal(s.pendingCount, 1);
    await fs.rm(`${file}.lock`, { recursive: true });
    await s.flush();
    assert.equal(await checkedEventCount(file), 1);
  });

  it('close() saves what is pending', async () => {
    const s = await openStore(folder);
    s.record({ kind: 'grant', modelId: 'a' });
    await s.close();
    assert.equal(await checkedEventCount(file), 1);
    assert.throws(() => s.read(() => 0));
  });
});
