import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'sql.js';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { Emitter } from '../../../src/engine/core/event';
import { AutoRollback, DEFAULT_AUTO_ROLLBACK } from '../../../src/engine/usage/autoRollback';
import { mergeEvents } from '../../../src/engine/usage/analytics/eventMerge';
import type { AnalyticsEvent } from '../../../src/engine/usage/analytics/eventTypes';
import { migrate } from '../../../src/engine/usage/analytics/schema';
import { MemoryLogger } from '../../support/downloadFixtures';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';
import { sql } from './analytics/analyticsFixtures';

const MINUTE = 60_000;

describe('automatic rollback on worse results', () => {
  let server: FaultServer;
  let store: string;
  let engine: AvailabilityEngine;
  let db: Database;
  let v1: ModelEntry;
  let next: Buffer;
  let seq = 0;
  const saved = new Emitter<void>();

  function seed(version: string, results: readonly boolean[], durationMs = 1000): void {
    const now = Date.now();
    mergeEvents(db, 'test', results.map((ok, i): AnalyticsEvent & { ts: number; seq: number } => ({ kind: 'generation', modelId: 'm', version, ok, durationMs, ts: now - (results.length - i) * MINUTE, seq: ++seq })));
  }

  beforeEach(async () => {
    server = await FaultServer.start();
    server.addFile('w.bin', generateData(64 * 1024, 1));
    next = generateData(64 * 1024, 2);
    server.addFile('w2.bin', next);
    store = await mkdtemp(path.join(os.tmpdir(), 'ma-autoroll-'));
    v1 = urlModel(server, 'm', ['w.bin']);
    engine = await AvailabilityEngine.create({ storeRoot: store, models: [v1], settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false });
    engine.download(['m']);
    await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.state === 'ready');
    await engine.whenIdle();
    await engine.setModels([v110()]);
    db = new (await sql()).Database();
    migrate(db);
    seq = 0;
  });

  afterEach(async () => {
    engine.dispose();
    db.close();
    await server.close();
    await rm(store, { recursive: true, force: true });
  });

  function v110(version = '1.1.0', data = next, file = 'w2.bin'): ModelEntry {
    return { ...v1, version, files: [{ ...v1.files[0], source: { kind: 'url', url: server.url(file) }, sha256: sha256Of(data) }] };
  }

  /** A restart: a new engine (and so new ModelUpdates) on the same store, as VS Code or the next CLI run makes it. */
  async function restart(models: ModelEntry[] = [v110()]): Promise<void> {
    engine.dispose();
    engine = await AvailabilityEngine.create({ storeRoot: store, models, settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false });
  }

  function watcher(logger = new MemoryLogger()): AutoRollback {
    return new AutoRollback({ updates: engine.updates, read: (q) => q(db), onDidSave: saved.event, settings: () => DEFAULT_AUTO_ROLLBACK, logger });
  }

  it('goes back when the new version fails 20 points more, says so with the figures, and holds that update back', async () => {
    const auto = watcher();
    seed('1.0.0', Array(10).fill(true));
    assert.equal((await engine.updates.update('m')).status, 'switched');
    seed('1.1.0', [true, false, true, false]);
    assert.deepEqual(await auto.evaluate(), [], 'four generations are not enough to judge');
    seed('1.1.0', [false]);
    const [made] = await auto.evaluate();
    assert.equal(made?.message, 'Rolled back m to 1.0.0: 3 of 5 generations failed with 1.1.0 (0 of 10 with 1.0.0)');
    assert.equal(engine.getModelState('m')?.installedVersion, '1.0.0');
    assert.equal(engine.getModelState('m')?.updateAvailable, null, 'the update is held back');
    assert.deepEqual(await auto.evaluate(), [], 'said once');
    // Asked for by name, it is installed again (from disk: the version was kept).
    assert.equal((await engine.updates.update('m')).status, 'switched');
    assert.equal(engine.getModelState('m')?.installedVersion, '1.1.0');
    auto.dispose();
  });

  it('goes back when the median duration is 50 % longer; keeps an update that does as well', async () => {
    const auto = watcher();
    seed('1.0.0', Array(6).fill(true), 1000);
    await engine.updates.update('m');
    seed('1.1.0', Array(5).fill(true), 1200);
    assert.deepEqual(await auto.evaluate(), [], '20 % slower is within bounds');
    seed('1.1.0', Array(10).fill(true), 2000);
    const [made] = await auto.evaluate();
    assert.match(made?.message ?? '', /^Rolled back m to 1\.0\.0: generations took 2000 ms \(median\) with 1\.1\.0, 1000 ms with 1\.0\.0$/);
    auto.dispose();
  });

  it('after a restart, a trial in progress goes on and a held-back update stays held back until a newer one appears', async () => {
    seed('1.0.0', Array(10).fill(true));
    assert.equal((await engine.updates.update('m')).status, 'switched');
    seed('1.1.0', [true, false]);
    await restart();
    const auto = watcher();
    seed('1.1.0', [false, false, true]);
    const [made] = await auto.evaluate();
    assert.match(made?.message ?? '', /^Rolled back m to 1\.0\.0: 3 of 5 generations failed with 1\.1\.0/, 'the trial begun before the restart was judged after it');
    auto.dispose();

    await restart();
    const s = engine.getModelState('m');
    assert.equal(s?.installedVersion, '1.0.0');
    assert.equal(s?.updateAvailable, null, 'still held back after a restart');
    assert.deepEqual(await engine.updates.check(), []);
    assert.deepEqual(engine.updates.rollbacksMade().map((r) => [r.id, r.from, r.to, r.automatic, r.reason]),
      [['m', '1.1.0', '1.0.0', true, '3 of 5 generations failed with 1.1.0 (0 of 10 with 1.0.0)']], 'the rollback is remembered with its reason');
    assert.deepEqual(engine.updates.trials(), [], 'no trial after the rollback');

    const newer = generateData(64 * 1024, 3);
    server.addFile('w3.bin', newer);
    await restart([v110('1.2.0', newer, 'w3.bin')]);
    assert.equal(engine.getModelState('m')?.updateAvailable, '1.2.0', 'a newer version is offered');
  });

  it('migrates a v3 database: old generations keep their rows, with no version', async () => {
    const old = new (await sql()).Database();
    migrate(old, 3);
    old.run("INSERT INTO models (id, name) VALUES (1, 'm'); INSERT INTO generation_events (key, model_id, ok, duration_ms) VALUES (256, 1, 1, 900)");
    migrate(old);
    assert.deepEqual(old.exec('SELECT count(*), count(version) FROM generation_events')[0].values[0], [1, 0]);
    old.close();
  });
});
