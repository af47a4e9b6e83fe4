import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPartState } from '../../../src/engine/store/partState';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { cli, startCli } from './cliRunner';

describe('CLI download after a SIGKILL', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-kill-');
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
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
