import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPartState } from '../../../src/engine/store/partState';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { cli, startCli } from './cliRunner';

/**
 * Two "windows" on one store: a CLI process downloads; an engine in this process asked for the same model
 * follows the other process's progress instead of downloading too, and takes over when that process dies.
 */
describe('one download across processes', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-two-');
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('follows another process\'s download, then takes it over when that process is killed', async () => {
    const data = generateData(32 * PIECE, 5);
    const file = server.addFile('shared.bin', data);
    server.bytesPerSecondPerConnection = 256 * 1024;
    const store = path.join(dir, 'store');
    const catalog = path.join(dir, 'models.json');
    const model = { id: 'shared', name: 'Shared', version: '1', files: [{ path: 'shared.bin', url: server.url('shared.bin'), sha256: file.sha256, size: data.length }] };
    await fs.writeFile(catalog, JSON.stringify({ models: [model] }));
    const finalPath = path.join(store, 'models', 'shared', '1', 'shared.bin');

    const other = startCli(['--store', store, '--catalog', catalog, 'download', 'shared', '--connections', '1']);
    while (((await readPartState(finalPath))?.completePieces.length ?? 0) < 4) await new Promise((r) => setTimeout(r, 50));

    const engine = await AvailabilityEngine.create({
      storeRoot: store, persistQueue: false, lockStaleMs: 2000,
      models: [{ id: 'shared', name: 'Shared', version: '1', alternatives: [], origin: 't', files: [{ path: 'shared.bin', source: { kind: 'url', url: server.url('shared.bin') }, sha256: file.sha256, size: data.length }] }],
      settings: { pieceSizeBytes: PIECE, connections: 1, retryBaseDelayMs: 20 },
    });
    try {
      const following = new Promise<number>((resolve) => {
        const sub = engine.onDidChangeModel(() => {
          const p = engine.getModelState('shared')?.progress;
          if (p?.followingOtherProcess && p.bytesDone > 0) { sub.dispose(); resolve(p.bytesDone); }
        });
      });
      engine.download(['shared']);
      const seen = await following;
      assert.ok(seen >= 4 * PIECE, `shows the other process's progress (${seen} bytes)`);
      const requestsWhileFollowing = server.requestsFor('shared.bin').length;
      assert.equal(requestsWhileFollowing, 1, 'only the other process is downloading');

      other.child.kill('SIGKILL');
      await other.done;
      const kept = (await readPartState(finalPath))?.completePieces.length ?? 0;
      server.resetCounters();
      server.bytesPerSecondPerConnection = 0;
      await new Promise<void>((resolve) => {
        const sub = engine.onDidChangeModel(() => { if (engine.getModelState('shared')?.state === 'ready') { sub.dispose(); resolve(); } });
      });
      assert.equal(server.bytesSent, data.length - kept * PIECE, 'the takeover fetches only what the dead process had not');
      assert.deepEqual(await fs.readFile(finalPath), data);
    } finally {
      engine.dispose();
    }
  });

  it('takes over the dead process\'s lock at once (no wait for the stale timeout) and fetches only what is missing', async () => {
    const data = generateData(32 * PIECE, 4);
    const served = server.addFile('k.bin', data);
    const store = path.join(dir, 'store');
    const catalog = path.join(dir, 'models.json');
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'k', name: 'K', version: '1', files: [{ path: 'k.bin', url: server.url('k.bin'), sha256: served.sha256, size: data.length }] }] }));
    const finalPath = path.join(store, 'models', 'k', '1', 'k.bin');
    // The real stale timeout (10 s), not the tests' short one.
    const env = { MODEL_AVAILABILITY_LOCK_STALE_MS: '' };
    server.bytesPerSecondPerConnection = 256 * 1024;
    const first = startCli(['--store', store, '--catalog', catalog, 'download', 'k', '--connections', '1'], env);
    while (((await readPartState(finalPath))?.completePieces.length ?? 0) < 4) await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGKILL');
    await first.done;
    const kept = (await readPartState(finalPath))?.completePieces.length ?? 0;
    server.resetCounters();
    server.bytesPerSecondPerConnection = 0;
    const started = Date.now();
    const second = await cli(['--store', store, '--catalog', catalog, 'download', 'k'], env);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /another process is downloading it/, `waited for a dead process (${seconds} s):\n${second.stderr}`);
    assert.equal(server.bytesSent, data.length - kept * PIECE);
    assert.deepEqual(await fs.readFile(finalPath), data);
  });
});
