import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { MemoryLogger } from '../../support/downloadFixtures';
import { waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { startBranchHub } from '../../support/mockHub';

const KiB = 1024;
const C1 = 'a1'.repeat(20);
const C2 = 'b2'.repeat(20);

describe('hub updates: a branch that moved', () => {
  it('offers a moved branch (one request per repository), never a pinned file, nothing offline; rollback is no update', async () => {
    const cdn = await FaultServer.start();
    for (const [commit, seed] of [[C1, 1], [C2, 2]] as const) {
      cdn.addFile(`${commit}-w.gguf`, generateData(128 * KiB, seed));
      cdn.addFile(`${commit}-pinned.gguf`, generateData(32 * KiB, 10 + seed));
    }
    const hub = await startBranchHub(cdn, new Map([[C1, ['w.gguf', 'pinned.gguf']], [C2, ['w.gguf', 'pinned.gguf']]]), C1);
    const store = await mkdtemp(path.join(os.tmpdir(), 'ma-hubupd-'));
    const hf = (file: string, revision: string) => ({ kind: 'hf' as const, repo: 'org/tiny-GGUF', revision, file });
    const tracked: ModelEntry = {
      id: 'm', name: 'M', version: '1.0.0', alternatives: [], origin: 'test',
      files: [{ path: 'w.gguf', source: hf('w.gguf', 'main') }, { path: 'pinned.gguf', source: hf('pinned.gguf', C1) }],
    };
    const pinned: ModelEntry = { ...tracked, id: 'p', files: [{ path: 'pinned.gguf', source: hf('pinned.gguf', C1) }] };
    const logger = new MemoryLogger();
    const engine = await AvailabilityEngine.create({ storeRoot: store, models: [tracked, pinned], hfEndpoint: hub.endpoint, logger, settings: { pieceSizeBytes: 64 * KiB, retryBaseDelayMs: 10, maxRetries: 0 }, persistQueue: false });
    try {
      engine.download(['m', 'p']);
      await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelStates().every((s) => s.state === 'ready'));
      await engine.whenIdle();
      const revisionCalls = () => hub.requests.filter((r) => r.url.includes('/revision/') && r.url.includes('blobs=true'));
      assert.equal(engine.getModelState('m')?.installedVersion, `1.0.0+${C1.slice(0, 7)}`, 'the first download names the commit main pointed at');
      assert.equal(engine.getModelState('p')?.installedVersion, '1.0.0', 'a file pinned to a commit never moves: no commit in its version');
      assert.equal(revisionCalls().length, 1, 'the first download asked once for the repository, not at all for the pinned model');
      assert.deepEqual(await engine.updates.check(), [], 'main has not moved');
      assert.equal(revisionCalls().length, 2, 'one request for the repository, none for the pinned model');

      hub.moveMain(C2);
      const offers = await engine.updates.check();
      assert.deepEqual(offers, [{ id: 'm', from: `1.0.0+${C1.slice(0, 7)}`, to: `1.0.0+${C2.slice(0, 7)}`, source: 'hub', bytesToDownload: 128 * KiB }], 'only the tracked model; its pinned file does not move');
      assert.equal(engine.getModelState('m')?.updateAvailable, `1.0.0+${C2.slice(0, 7)}`);
      assert.equal(engine.getModelState('p')?.updateAvailable, null);

      cdn.resetCounters();
      const outcome = await engine.updates.update('m');
      assert.equal(outcome.status, 'switched', JSON.stringify(outcome));
      assert.equal(engine.getModelState('m')?.installedVersion, `1.0.0+${C2.slice(0, 7)}`);
      assert.equal(cdn.bytesSent, 128 * KiB, 'the pinned file was linked from the installed version');
      assert.deepEqual(await engine.updates.check(), [], 'installed now');

      await engine.updates.rollback('m');
      assert.equal(engine.getModelState('m')?.installedVersion, `1.0.0+${C1.slice(0, 7)}`);
      assert.deepEqual(await engine.updates.check(), [], 'the branch\'s file is an installed version\'s: a rollback is not an update');

      await hub.close();
      const before = logger.lines.length;
      assert.deepEqual(await engine.updates.check(), [], 'offline: nothing offered');
      const said = logger.lines.slice(before).filter((l) => l.startsWith('warn'));
      assert.equal(said.length, 1, `one log line says the hub could not be reached (${said.join(' | ')})`);
      assert.match(said[0], /org\/tiny-GGUF@main could not be resolved/);
    } finally {
      engine.dispose();
      await cdn.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});
