import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPartState } from '../../../src/engine/store/partState';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { flipByte } from '../availability/integrityFixtures';
import { cli, startCli } from './cliRunner';

interface ListedModel { id: string; state: string; health: string | null; problems: string[]; healthReasons: { code: string; message: string }[] }
interface VerifyResult { id: string; health: string | null; files: { path: string; status: string; changedPieces?: number[] }[]; repaired?: string[] }

describe('CLI verify, repair and remove', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;
  let catalog: string;
  let store: string;
  const run = (...args: string[]) => cli(['--store', store, '--catalog', catalog, ...args]);

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-integrity-');
    store = path.join(dir, 'store');
    catalog = path.join(dir, 'models.json');
    const good = server.addFile('good.bin', generateData(8 * PIECE, 1));
    server.addFile('nosha.bin', generateData(2 * PIECE, 2));
    const big = server.addFile('big.bin', generateData(32 * PIECE, 3));
    await fs.writeFile(catalog, JSON.stringify({
      models: [
        { id: 'test-good', name: 'Good', version: '1', files: [{ path: 'good.bin', url: server.url('good.bin'), sha256: good.sha256, size: good.data.length }] },
        { id: 'test-nosha', name: 'No sha', version: '1', files: [{ path: 'nosha.bin', url: server.url('nosha.bin') }] },
        { id: 'test-big', name: 'Big', version: '1', files: [{ path: 'big.bin', url: server.url('big.bin'), sha256: big.sha256 }] },
      ],
    }));
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  const fileOf = (id: string, name: string): string => path.join(store, 'models', id, '1', name);

  async function list(): Promise<ListedModel[]> {
    const r = await run('list', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ListedModel[];
  }

  it('verify reports, exits 3 when only a missing sha256 keeps a model from green, 1 otherwise; repairs only with --repair', async () => {
    assert.equal((await run('download', 'test-good', 'test-nosha')).code, 3);
    const all = await run('verify');
    assert.equal(all.code, 3, 'the unverifiable model is yellow, and nothing else is wrong');
    assert.match(all.stdout, /^green +test-good$/m);
    assert.match(all.stdout, /^yellow +test-nosha +not verifiable: the catalog gives no sha256 for nosha\.bin$/m);
    assert.doesNotMatch(all.stderr, /test-nosha: full check: yellow: all files verified/);
    assert.match(all.stderr, /test-nosha: full check: yellow: not verifiable: the catalog gives no sha256 for nosha\.bin/);
    assert.equal((await run('verify', 'test-good')).code, 0);

    await flipByte(fileOf('test-good', 'good.bin'), 5 * PIECE + 7);
    server.resetCounters();
    const checked = await run('verify', 'test-good', '--json');
    assert.equal(checked.code, 1);
    const [report] = JSON.parse(checked.stdout) as VerifyResult[];
    assert.equal(report.health, 'red');
    assert.deepEqual(report.files[0].changedPieces, [5]);
    assert.equal(server.bytesSent, 0, 'verify alone repairs nothing');
    const listed = (await list()).find((m) => m.id === 'test-good');
    assert.equal(listed?.health, 'red');
    assert.deepEqual(listed?.healthReasons.map((r) => r.code), ['corrupt']);
    assert.match(listed?.problems[0] ?? '', /good\.bin is corrupt: 1 piece changed/);

    const repaired = await run('verify', 'test-good', '--repair', '--json');
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.deepEqual((JSON.parse(repaired.stdout) as VerifyResult[])[0].repaired, ['good.bin']);
    assert.equal(server.bytesSent, PIECE);
    assert.equal((await list()).find((m) => m.id === 'test-good')?.health, 'green');
  });

  it('repair resumes after SIGKILL and transfers only what was still missing', async () => {
    assert.equal((await run('download', 'test-big')).code, 0);
    const finalPath = fileOf('test-big', 'big.bin');
    for (let i = 5; i < 15; i++) await flipByte(finalPath, i * PIECE + 11);
    server.bytesPerSecondPerConnection = 128 * 1024;
    const first = startCli(['--store', store, '--catalog', catalog, 'repair', 'test-big', '--connections', '1']);
    // 22 good pieces are seeded; kill once a few repaired ones are recorded too.
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      if (((await readPartState(finalPath))?.completePieces.length ?? 0) >= 25) break;
    }
    first.child.kill('SIGKILL');
    await first.done;
    const kept = (await readPartState(finalPath))?.completePieces.length ?? 0;
    assert.ok(kept >= 25 && kept < 32, `kept ${kept}`);
    assert.equal((await list()).find((m) => m.id === 'test-big')?.health, 'red');
    server.resetCounters();
    server.bytesPerSecondPerConnection = 0;
    const second = await run('repair', 'test-big');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^repaired {2}test-big {2}big\.bin$/m);
    assert.equal(server.bytesSent, (32 - kept) * PIECE);
    assert.deepEqual(await fs.readFile(finalPath), server.files.get('big.bin')?.data);
    assert.equal((await run('verify', 'test-big')).code, 0);
  });

  it('a repair killed mid-piece keeps the pieces it already has: about the damaged pieces plus at most one more in all', async () => {
    const MiB = 1024 * 1024;
    const damaged = [1, 3, 4];
    const data = generateData(6 * MiB, 9);
    const served = server.addFile('w.bin', data);
    const wCatalog = path.join(dir, 'w.json');
    await fs.writeFile(wCatalog, JSON.stringify({ models: [{ id: 'w', name: 'W', version: '1', files: [{ path: 'w.bin', url: server.url('w.bin'), sha256: served.sha256, size: data.length }] }] }));
    // The 96 MiB file of 16 MiB pieces, at 1/16 scale.
    const env = { MODEL_AVAILABILITY_PIECE_SIZE: String(MiB) };
    const args = ['--store', store, '--catalog', wCatalog];
    assert.equal((await cli([...args, 'download', 'w'], env)).code, 0);
    const finalPath = fileOf('w', 'w.bin');
    for (const i of damaged) await flipByte(finalPath, i * MiB + 77);

    server.resetCounters();
    server.bytesPerSecondPerConnection = 1024 * 1024;
    const first = startCli([...args, 'repair', 'w'], env);
    while (server.bytesSent < MiB / 2) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.done;
    const firstBytes = server.bytesSent;

    server.bytesPerSecondPerConnection = 0;
    const second = await cli([...args, 'repair', 'w'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const total = server.bytesSent;
    assert.ok(total <= (damaged.length + 1) * MiB, `fetched ${total} bytes in all (${firstBytes} before the kill) for ${damaged.length} damaged pieces of ${MiB}`);
    assert.equal((await cli([...args, 'verify', 'w'], env)).code, 0);
  });

  it('remove deletes a model and reports the bytes freed', async () => {
    assert.equal((await run('download', 'test-good')).code, 0);
    const r = await run('remove', 'test-good');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^removed {2}test-good {2}52\d KB freed$/m);
    const listed = (await list()).find((m) => m.id === 'test-good');
    assert.equal(listed?.state, 'missing');
    assert.equal(listed?.health, null);
    await assert.rejects(fs.stat(fileOf('test-good', 'good.bin')));
  });

  it('rejects repair and remove without ids, and --repair on other commands', async () => {
    for (const args of [['repair'], ['remove'], ['list', '--repair']]) {
      const r = await run(...args);
      assert.equal(r.code, 2, args.join(' '));
    }
  });
});
