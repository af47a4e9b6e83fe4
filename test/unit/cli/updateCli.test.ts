import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPartState } from '../../../src/engine/store/partState';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { localNoon, openStore } from '../usage/analytics/analyticsFixtures';
import { cli, startCli } from './cliRunner';

describe('CLI: updates, update, rollback', function () {
  this.timeout(90_000);
  let server: FaultServer;
  let dir: string;
  let catalog: string;
  let store: string;
  const run = (...args: string[]) => cli(['--store', store, '--catalog', catalog, '--no-builtin', ...args]);

  /** Version `version` of test-m: `same.bin` unchanged, `part.bin` as `partName` serves it. */
  async function writeCatalog(version: string, partName: string): Promise<void> {
    const same = server.files.get('same.bin');
    const part = server.files.get(partName);
    await fs.writeFile(catalog, JSON.stringify({
      models: [{
        id: 'test-m', name: 'M', version, notes: 'https://example.com/notes',
        files: [
          { path: 'same.bin', url: server.url('same.bin'), sha256: same?.sha256, size: same?.data.length },
          { path: 'part.bin', url: server.url(partName), sha256: part?.sha256, size: part?.data.length },
        ],
      }],
    }));
  }

  async function listed(): Promise<{ id: string; state: string; health: string | null; installedVersion: string | null; updateAvailable: string | null }> {
    const r = await run('list', '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Awaited<ReturnType<typeof listed>>[])[0];
  }

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-upd-');
    store = path.join(dir, 'store');
    catalog = path.join(dir, 'models.json');
    server.addFile('same.bin', generateData(8 * PIECE, 1));
    server.addFile('part-1.bin', generateData(4 * PIECE, 2));
    server.addFile('part-2.bin', generateData(32 * PIECE, 3));
    await writeCatalog('1.0.0', 'part-1.bin');
    assert.equal((await run('download', 'test-m')).code, 0);
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('a catalog bump keeps the model ready and lists the update; update fetches only the changed file; rollback works offline', async () => {
    await writeCatalog('2.0.0', 'part-2.bin');
    const before = await listed();
    assert.deepEqual([before.state, before.health, before.installedVersion, before.updateAvailable], ['ready', 'green', '1.0.0', '2.0.0']);
    const offers = await run('updates', '--json');
    assert.equal(offers.code, 0, offers.stderr);
    assert.deepEqual(JSON.parse(offers.stdout), [{ id: 'test-m', from: '1.0.0', to: '2.0.0', bytesToDownload: 32 * PIECE, source: 'catalog' }]);

    server.resetCounters();
    const updated = await run('update', 'test-m');
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /updated {2}test-m {2}1\.0\.0 -> 2\.0\.0/);
    assert.equal(server.bytesSent, 32 * PIECE, 'only the changed file was downloaded');
    assert.equal(server.requestsFor('same.bin').length, 0);
    const after = await listed();
    assert.deepEqual([after.state, after.installedVersion, after.updateAvailable], ['ready', '2.0.0', null]);

    await server.close();
    const back = await run('rollback', 'test-m');
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /rolled back {2}test-m {2}2\.0\.0 -> 1\.0\.0/);
    const rolled = await listed();
    assert.deepEqual([rolled.state, rolled.health, rolled.installedVersion], ['ready', 'green', '1.0.0']);
    const wrong = await run('rollback', 'test-m', '--to', '9');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /version 9 of test-m is not installed; installed: 2\.0\.0/);
    server = await FaultServer.start();
  });

  it('cleanup proposes the previous version first and never the installed one', async () => {
    await writeCatalog('2.0.0', 'part-2.bin');
    assert.equal((await run('update', 'test-m')).code, 0);
    // Used today (what the extension records); 2.5 MiB installed + 0.75 MiB kept for rollback, against a limit of about 2.97 MiB.
    const analytics = path.join(dir, 'globalStorage');
    await fs.mkdir(analytics, { recursive: true });
    const usage = await openStore(analytics);
    usage.record({ kind: 'generation', modelId: 'test-m', version: '2.0.0', ok: true, durationMs: 500, ts: localNoon(0) });
    await usage.close();
    const limit = ['--max-storage-gb', '0.0029', '--analytics', analytics];
    const dry = await run('cleanup', '--dry-run', '--json', ...limit);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { proposals: { id: string; version: string | null; bytes: number; reasons: string[] }[] };
    assert.deepEqual(plan.proposals.map((p) => [p.id, p.version, p.bytes]), [['test-m', '1.0.0', 12 * PIECE]]);
    assert.match(plan.proposals[0].reasons[0], /version 1\.0\.0, kept for rollback/);
    const real = await run('cleanup', ...limit);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /removed test-m 1\.0\.0 /);
    const after = await listed();
    assert.deepEqual([after.state, after.health, after.installedVersion], ['ready', 'green', '2.0.0']);
    assert.match((await run('rollback', 'test-m')).stderr, /no other installed version/);
  });

  it('SIGKILL during the update\'s download leaves the old version installed and green; the next update resumes', async () => {
    await writeCatalog('2.0.0', 'part-2.bin');
    server.bytesPerSecondPerConnection = 256 * 1024;
    const first = startCli(['--store', store, '--catalog', catalog, '--no-builtin', 'update', 'test-m', '--connections', '1']);
    const part = path.join(store, 'models', 'test-m', '2.0.0', 'part.bin');
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      if (((await readPartState(part))?.completePieces.length ?? 0) >= 8) break;
    }
    first.child.kill('SIGKILL');
    await first.done;
    const kept = (await readPartState(part))?.completePieces.length ?? 0;
    const meanwhile = await listed();
    assert.deepEqual([meanwhile.state, meanwhile.health, meanwhile.installedVersion], ['ready', 'green', '1.0.0']);
    server.bytesPerSecondPerConnection = 0;
    server.resetCounters();
    const second = await run('update', 'test-m');
    assert.equal(second.code, 0, second.stderr);
    assert.equal(server.bytesSent, (32 - kept) * PIECE, 'resumed: only the missing pieces');
    assert.equal((await listed()).installedVersion, '2.0.0');
  });

  it('update exits 1 when the new version fails (the old stays and says why), 2 for usage errors', async () => {
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'test-m', name: 'M', version: '2.0.0', files: [{ path: 'part.bin', url: server.url('gone.bin') }] }] }));
    const failed = await run('update', 'test-m', '--max-retries', '0');
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /error {2}test-m {2}.*1\.0\.0 stays installed/);
    assert.equal((await listed()).installedVersion, '1.0.0');
    assert.equal((await run('update')).code, 2);
    assert.equal((await run('update', 'test-m', '--all')).code, 2);
    assert.equal((await run('rollback')).code, 2);
  });
});
