import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AnalyticsEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { recordEngineEvents, toAnalyticsEvent } from '../../../../src/engine/usage/analytics/usageRecorder';
import { AvailabilityEngine } from '../../../../src/engine/availability/engine';
import { urlModel, waitFor } from '../../../support/engineFixtures';
import { FaultServer, generateData } from '../../../support/faultServer';

describe('usage recording', () => {
  it('maps model-request events onto analytics events', () => {
    assert.deepEqual(toAnalyticsEvent({ kind: 'fallback', modelId: 'small', requestedId: 'big', mode: 'alternative', compatibility: 81 }),
      { kind: 'fallback', modelId: 'big', otherModelId: 'small', detail: { mode: 'alternative', compatibility: 81 } });
    assert.deepEqual(toAnalyticsEvent({ kind: 'generation', modelId: 'm', ok: false, durationMs: 12, units: 3 }),
      { kind: 'generation', modelId: 'm', ok: false, durationMs: 12, units: 3 });
    assert.equal(toAnalyticsEvent({ kind: 'grant', modelId: 'm', requestedId: 'm', mode: 'ready', waitedMs: 5 }).otherModelId, undefined);
  });

  it('records downloads with their bytes, and checks and repairs with their outcome', async () => {
    const server = await FaultServer.start();
    server.addFile('a.bin', generateData(200 * 1024, 7));
    const store = await mkdtemp(path.join(os.tmpdir(), 'ma-rec-'));
    const engine = await AvailabilityEngine.create({ storeRoot: store, models: [urlModel(server, 'a', ['a.bin'])], settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false });
    const events: AnalyticsEvent[] = [];
    const subs = recordEngineEvents(engine, { record: (e) => events.push(e) });
    try {
      engine.download(['a']);
      await waitFor((l) => engine.onDidFinish(l), () => events.some((e) => e.kind === 'download'));
      await engine.integrity.verify('a');
      await engine.integrity.repair('a');
      assert.deepEqual(events.map((e) => [e.kind, e.ok]), [['download', true], ['check', true], ['repair', true]]);
      assert.equal(events[0].bytes, 200 * 1024);
    } finally {
      subs.forEach((s) => s.dispose());
      engine.dispose();
      await server.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});
