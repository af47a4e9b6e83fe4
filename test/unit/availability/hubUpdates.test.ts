import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

  it('an update stopped by the process ending resumes where it was; cancelled, its new version is removed', async () => {
    const cdn = await FaultServer.start();
    cdn.addFile(`${C1}-w.gguf`, generateData(64 * KiB, 1));
    cdn.addFile(`${C2}-w.gguf`, generateData(1024 * KiB, 2));
    const commits = new Map<string, readonly string[]>([[C1, ['w.gguf']], [C2, ['w.gguf']]]);
    const hub = await startBranchHub(cdn, commits, C1);
    const store = await mkdtemp(path.join(os.tmpdir(), 'ma-hubcancel-'));
    const model: ModelEntry = {
      id: 'm', name: 'M', version: '1.0.0', alternatives: [], origin: 'test',
      files: [{ path: 'w.gguf', source: { kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file: 'w.gguf' } }],
    };
    const open = () => AvailabilityEngine.create({ storeRoot: store, models: [model], hfEndpoint: hub.endpoint, settings: { pieceSizeBytes: 64 * KiB, retryBaseDelayMs: 10, maxRetries: 0, connections: 1 }, persistQueue: false });
    let engine = await open();
    const from = `1.0.0+${C1.slice(0, 7)}`;
    const to = `1.0.0+${C2.slice(0, 7)}`;
    const newFolder = path.join(store, 'models', 'm', to);
    const progressed = () => waitFor((l) => engine.onDidChangeModel(l), () => (engine.getModelState('m')?.update?.percent ?? 0) >= 25);
    try {
      engine.download(['m']);
      await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.state === 'ready');
      await engine.whenIdle();
      hub.moveMain(C2);
      cdn.bytesPerSecondPerConnection = 512 * KiB;
      await engine.updates.check();
      void engine.updates.update('m');
      await progressed();
      // The process ends mid-download (no cancel): the partial data stays, and so does what it was fetching.
      engine.dispose();
      engine = await open();
      assert.equal(engine.getModelState('m')?.installedVersion, from, 'the old version stays installed');
      assert.equal(engine.getModelState('m')?.state, 'ready');
      cdn.resetCounters();
      cdn.bytesPerSecondPerConnection = 0;
      assert.deepEqual((await engine.updates.check()).map((o) => o.to), [to]);
      assert.equal((await engine.updates.update('m')).status, 'switched');
      assert.ok(cdn.bytesSent < 1024 * KiB, `resumed: ${cdn.bytesSent} bytes fetched of ${1024 * KiB}`);
      assert.equal(engine.getModelState('m')?.installedVersion, to);

      await engine.updates.rollback('m', from);
      const C3 = 'c3'.repeat(20);
      cdn.addFile(`${C3}-w.gguf`, generateData(1024 * KiB, 3));
      commits.set(C3, ['w.gguf']);
      hub.moveMain(C3);
      cdn.bytesPerSecondPerConnection = 512 * KiB;
      const next = `1.0.0+${C3.slice(0, 7)}`;
      assert.deepEqual((await engine.updates.check()).map((o) => o.to), [next]);
      const outcome = engine.updates.update('m');
      await progressed();
      assert.ok(existsSync(path.join(store, 'models', 'm', next)), 'the update downloads into its own folder');
      await engine.cancel('m');
      assert.equal((await outcome).status, 'failed');
      assert.ok(!existsSync(path.join(store, 'models', 'm', next)), 'cancelled: nothing of the new version is left');
      assert.equal(JSON.parse(await readFile(path.join(store, 'models', 'm', 'installed.json'), 'utf8')).updatingTo, undefined);
      assert.equal(engine.getModelState('m')?.installedVersion, from);
      assert.ok(existsSync(newFolder), 'the versions on disk before stay');
    } finally {
      engine.dispose();
      await hub.close();
      await cdn.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});
