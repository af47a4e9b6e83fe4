import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { loadCatalogs } from '../../../src/engine/catalog/catalogLoader';
import { ModelRequests } from '../../../src/engine/usage/requests/modelRequests';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';

const KiB = 1024;

describe('model updates: switch when verified, keep the old meanwhile, roll back', () => {
  let server: FaultServer;
  let store: string;
  let engine: AvailabilityEngine;
  let v1: ModelEntry;

  /** Version `version` of model m: `a.bin` as served now, `b.bin` with `bData`. */
  function version(ver: string, bData: Buffer): ModelEntry {
    return { ...v1, version: ver, files: [v1.files[0], { ...v1.files[1], source: { kind: 'url', url: server.url(`b-${ver}.bin`) }, sha256: sha256Of(bData), size: bData.length }] };
  }

  beforeEach(async () => {
    server = await FaultServer.start();
    server.addFile('a.bin', generateData(256 * KiB, 1));
    server.addFile('b.bin', generateData(128 * KiB, 2));
    store = await mkdtemp(path.join(os.tmpdir(), 'ma-updates-'));
    v1 = urlModel(server, 'm', ['a.bin', 'b.bin']);
    engine = await AvailabilityEngine.create({ storeRoot: store, models: [v1], settings: { pieceSizeBytes: 64 * KiB, retryBaseDelayMs: 10, maxRetries: 1 }, persistQueue: false });
    engine.download(['m']);
    await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.state === 'ready');
    await engine.whenIdle();
  });

  afterEach(async () => {
    engine.dispose();
    await server.close();
    await rm(store, { recursive: true, force: true });
  });

  it('a catalog bump keeps the model ready and offers the update; the update fetches only the changed file and switches', async () => {
    const b2 = generateData(128 * KiB, 3);
    server.addFile('b-1.1.0.bin', b2);
    await engine.setModels([version('1.1.0', b2)]);
    const before = engine.getModelState('m');
    assert.equal(before?.state, 'ready');
    assert.equal(before?.installedVersion, '1.0.0');
    assert.equal(before?.updateAvailable, '1.1.0');
    assert.deepEqual(await engine.updates.check(), [{ id: 'm', from: '1.0.0', to: '1.1.0', source: 'catalog', bytesToDownload: 128 * KiB }]);

    const requests = new ModelRequests(engine, () => ({ strategy: 'queue', minCompatibility: 60, autoDownload: false }), async () => undefined);
    const lease = await requests.requestModel('m');
    const newer: string[] = [];
    lease.onDidInstallNewerVersion((e) => newer.push(e.version));
    server.resetCounters();
    server.bytesPerSecondPerConnection = 256 * KiB;
    const seen: string[] = [];
    const sub = engine.onDidChangeModel(() => { const s = engine.getModelState('m'); if (s?.update) seen.push(`${s.state} ${s.update.state}`); });
    const outcome = await engine.updates.update('m');
    sub.dispose();
    assert.deepEqual(outcome, { id: 'm', status: 'switched', from: '1.0.0', to: '1.1.0' });
    assert.ok(seen.includes('ready downloading'), `stays ready while the update downloads (${seen.join(', ')})`);
    assert.equal(server.bytesSent, 128 * KiB, 'only the changed file came over the network');
    assert.equal(server.requestsFor('a.bin').length, 0);
    const after = engine.getModelState('m');
    assert.equal(after?.installedVersion, '1.1.0');
    assert.equal(after?.updateAvailable, null);
    assert.equal(JSON.parse(await readFile(path.join(store, 'models', 'm', 'installed.json'), 'utf8')).version, '1.1.0');
    assert.deepEqual(newer, ['1.1.0'], 'the lease learnt of the newer version');
    assert.ok(lease.paths.every((p) => p.includes(`${path.sep}1.0.0${path.sep}`) && existsSync(p)), 'the lease keeps its old paths');
    const fresh = await requests.requestModel('m');
    assert.ok(fresh.paths.every((p) => p.includes(`${path.sep}1.1.0${path.sep}`)), 'new requests get the new version');
    lease.release();
    fresh.release();
    requests.dispose();
  });

  it('removes versions beyond keepPreviousVersions after a switch, except one a lease holds', async () => {
    const requests = new ModelRequests(engine, () => ({ strategy: 'queue', minCompatibility: 60, autoDownload: false }), async () => undefined);
    const lease = await requests.requestModel('m');
    for (const [i, ver] of ['1.1.0', '1.2.0'].entries()) {
      const data = generateData(16 * KiB, 10 + i);
      server.addFile(`b-${ver}.bin`, data);
      await engine.setModels([version(ver, data)]);
      assert.equal((await engine.updates.update('m')).status, 'switched');
    }
    assert.deepEqual((await engine.installedVersions('m')).map((v) => v.version).sort(), ['1.0.0', '1.1.0', '1.2.0'], '1.0.0 is leased');
    lease.release();
    const data = generateData(16 * KiB, 20);
    server.addFile('b-1.3.0.bin', data);
    await engine.setModels([version('1.3.0', data)]);
    await engine.updates.update('m');
    assert.deepEqual((await engine.installedVersions('m')).map((v) => v.version).sort(), ['1.2.0', '1.3.0']);
    requests.dispose();
  });

  it('an update that does not verify never becomes installed; rollback works with the server stopped', async () => {
    const bad = generateData(128 * KiB, 4);
    server.addFile('b-1.1.0.bin', bad);
    await engine.setModels([{ ...version('1.1.0', bad), files: [v1.files[0], { ...version('1.1.0', bad).files[1], sha256: sha256Of(generateData(128 * KiB, 5)) }] }]);
    const outcome = await engine.updates.update('m');
    assert.equal(outcome.status, 'failed');
    const s = engine.getModelState('m');
    assert.equal(s?.state, 'ready');
    assert.equal(s?.installedVersion, '1.0.0');
    assert.equal(s?.update?.state, 'failed');
    assert.match(s?.update?.reason ?? '', /sha256|checksum/i);

    const good = generateData(128 * KiB, 6);
    server.setContent('b-1.1.0.bin', good);
    await engine.setModels([version('1.1.0', good)]);
    assert.equal((await engine.updates.update('m')).status, 'switched');
    await server.close();
    const back = await engine.updates.rollback('m');
    assert.deepEqual(back, { id: 'm', from: '1.1.0', to: '1.0.0', reason: 'rollback' });
    assert.equal(engine.getModelState('m')?.state, 'ready');
    assert.equal(engine.getModelState('m')?.installedVersion, '1.0.0');
    await assert.rejects(engine.updates.rollback('m', '0.9.0'), /0\.9\.0 of m is not installed; installed: 1\.1\.0/);
    engine.updates.hold('m');
    assert.equal(engine.getModelState('m')?.updateAvailable, null, 'held: no offer');
    engine.updates.release('m');
    assert.equal(engine.getModelState('m')?.updateAvailable, '1.1.0');
    server = await FaultServer.start();
  });

  it('the catalog changing a file but not the version is an update, into its own folder; the installed files stay as they were', async () => {
    const b2 = generateData(96 * KiB, 7);
    server.setContent('b.bin', b2);
    const changed: ModelEntry = { ...v1, files: [v1.files[0], { ...v1.files[1], sha256: sha256Of(b2), size: b2.length }] };
    await engine.setModels([changed]);
    const before = engine.getModelState('m');
    assert.equal(before?.state, 'ready', 'the installed 1.0.0 stays ready: other content is not damage');
    assert.equal(before?.installedVersion, '1.0.0');
    const to = before?.updateAvailable ?? '';
    assert.match(to, /^1\.0\.0\+[0-9a-f]{7}$/, 'offered, under a version of its own');
    assert.deepEqual(await engine.updates.check(), [{ id: 'm', from: '1.0.0', to, source: 'catalog', bytesToDownload: b2.length }]);
    server.resetCounters();
    assert.deepEqual(await engine.updates.update('m'), { id: 'm', status: 'switched', from: '1.0.0', to });
    assert.equal(server.bytesSent, b2.length, 'only the changed file came over the network');
    const after = engine.getModelState('m');
    assert.equal(after?.installedVersion, to);
    assert.equal(after?.updateAvailable, null);
    assert.equal(after?.health, 'green');
    assert.ok(after?.files.every((f) => f.localPath.includes(`${path.sep}${to}${path.sep}`)));
    const old = await readFile(path.join(store, 'models', 'm', '1.0.0', 'weights', 'b.bin'));
    assert.equal(sha256Of(old), v1.files[1].sha256, 'the previous 1.0.0 keeps its own b.bin');
    assert.deepEqual((await engine.installedVersions('m')).map((v) => v.version).sort(), ['1.0.0', to].sort());
    await engine.updates.rollback('m', '1.0.0');
    assert.equal(engine.getModelState('m')?.health, 'green', 'the old files verify after going back');
  });

  it('cancelling an update removes the new version, partial and finished files alike; the old one stays installed', async () => {
    const b2 = generateData(512 * KiB, 8);
    server.addFile('b-1.1.0.bin', b2);
    await engine.setModels([version('1.1.0', b2)]);
    server.bytesPerSecondPerConnection = 128 * KiB;
    const outcome = engine.updates.update('m');
    await waitFor((l) => engine.onDidChangeModel(l), () => (engine.getModelState('m')?.update?.percent ?? 0) > 0);
    await engine.cancel('m');
    assert.equal((await outcome).status, 'failed');
    assert.ok(!existsSync(path.join(store, 'models', 'm', '1.1.0')), `no folder of 1.1.0 is left (${readdirSync(path.join(store, 'models', 'm')).join(', ')})`);
    assert.ok(!existsSync(path.join(store, 'models', 'm', '1.1.0.manifest.json')), 'nor its manifest (its a.bin was linked already)');
    assert.deepEqual((await engine.installedVersions('m')).map((v) => v.version), ['1.0.0']);
    const pointer = JSON.parse(await readFile(path.join(store, 'models', 'm', 'installed.json'), 'utf8')) as { version: string; updatingTo?: string };
    assert.deepEqual([pointer.version, pointer.updatingTo], ['1.0.0', undefined], 'no update is underway any more');
    const s = engine.getModelState('m');
    assert.equal(s?.state, 'ready');
    assert.equal(s?.installedVersion, '1.0.0');
    assert.equal(s?.updateAvailable, '1.1.0', 'still offered');
  });

  it('an update check re-reads URL catalogs: a version bumped on the server is offered without a reload', async () => {
    const catalogOf = (ver: string, data: Buffer) => JSON.stringify({ models: [{
      id: 'm', name: 'Model m', version: ver,
      files: [{ path: 'weights/a.bin', url: server.url('a.bin'), sha256: v1.files[0].sha256, size: v1.files[0].size },
        { path: 'weights/b.bin', url: server.url(ver === '1.0.0' ? 'b.bin' : `b-${ver}.bin`), sha256: sha256Of(data), size: data.length }],
    }] });
    server.addFile('catalog.json', Buffer.from(catalogOf('1.0.0', generateData(128 * KiB, 2))));
    const sources = [{ kind: 'url' as const, url: server.url('catalog.json') }];
    const watching = await AvailabilityEngine.create({
      storeRoot: store, models: (await loadCatalogs(sources)).models, persistQueue: false, reloadCatalogs: async () => (await loadCatalogs(sources)).models,
    });
    try {
      assert.equal(watching.getModelState('m')?.installedVersion, '1.0.0');
      assert.deepEqual(await watching.updates.check(), []);
      const b2 = generateData(64 * KiB, 9);
      server.addFile('b-1.2.0.bin', b2);
      server.setContent('catalog.json', Buffer.from(catalogOf('1.2.0', b2)));
      assert.deepEqual(await watching.updates.check(), [{ id: 'm', from: '1.0.0', to: '1.2.0', source: 'catalog', bytesToDownload: b2.length }]);
      assert.equal(watching.getModels()[0]?.version, '1.2.0', 'the models now are the re-read catalog\'s');
    } finally {
      watching.dispose();
    }
  });
});
