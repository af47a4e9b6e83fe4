import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { flipByte } from '../availability/integrityFixtures';
import { cli, startCli } from './cliRunner';

const PIECE = 1024 * 1024;
const PIECES = 6;
const DAMAGED = [1, 3, 4];

/** A repair killed with SIGKILL half-way through a piece, then run again (the 96 MiB case, at 1/16 scale). */
describe('CLI repair killed mid-piece', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-repair-kill-');
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('keeps the pieces it already has: about the damaged pieces plus at most one more in all', async () => {
    const data = generateData(PIECES * PIECE, 9);
    const served = server.addFile('w.bin', data);
    const store = path.join(dir, 'store');
    const catalog = path.join(dir, 'models.json');
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'w', name: 'W', version: '1', files: [{ path: 'w.bin', url: server.url('w.bin'), sha256: served.sha256, size: data.length }] }] }));
    const env = { MODEL_AVAILABILITY_PIECE_SIZE: String(PIECE) };
    const args = ['--store', store, '--catalog', catalog];
    assert.equal((await cli([...args, 'download', 'w'], env)).code, 0);
    const finalPath = path.join(store, 'models', 'w', '1', 'w.bin');
    for (const i of DAMAGED) await flipByte(finalPath, i * PIECE + 77);

    server.resetCounters();
    server.bytesPerSecondPerConnection = 1024 * 1024;
    const first = startCli([...args, 'repair', 'w'], env);
    while (server.bytesSent < PIECE / 2) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.done;
    const firstBytes = server.bytesSent;

    server.bytesPerSecondPerConnection = 0;
    const second = await cli([...args, 'repair', 'w'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const total = server.bytesSent;
    assert.ok(total <= (DAMAGED.length + 1) * PIECE, `fetched ${total} bytes in all (${firstBytes} before the kill) for ${DAMAGED.length} damaged pieces of ${PIECE}`);
    assert.equal((await cli([...args, 'verify', 'w'], env)).code, 0);
  });
});
