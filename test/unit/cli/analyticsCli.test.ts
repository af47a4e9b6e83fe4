import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { localNoon, openStore } from '../usage/analytics/analyticsFixtures';
import { cli } from './cliRunner';

interface CleanupJson { dryRun: boolean; proposals: { id: string; bytes: number; uses: number; reasons: string[] }[]; freedBytes: number; failed: unknown[] }

describe('CLI analytics and cleanup', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;
  let store: string;
  let catalog: string;
  let analytics: string;
  const run = (...args: string[]) => cli(['--store', store, '--catalog', catalog, ...args]);

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-analytics-');
    store = path.join(dir, 'store');
    analytics = path.join(dir, 'globalStorage');
    catalog = path.join(dir, 'models.json');
    const daily = server.addFile('daily.bin', generateData(4 * PIECE, 1));
    const old = server.addFile('old.bin', generateData(6 * PIECE, 2));
    await fs.writeFile(catalog, JSON.stringify({ models: [
      { id: 'daily-model', name: 'Daily', files: [{ path: 'daily.bin', url: server.url('daily.bin'), sha256: daily.sha256, size: daily.data.length }] },
      { id: 'old-model', name: 'Old', files: [{ path: 'old.bin', url: server.url('old.bin'), sha256: old.sha256, size: old.data.length }] },
    ] }));
    assert.equal((await run('download', 'daily-model', 'old-model')).code, 0);
    // What the extension would have recorded: one model used daily, the other once two months ago.
    await fs.mkdir(analytics, { recursive: true });
    const usage = await openStore(analytics);
    for (let d = 0; d < 25; d++) usage.record({ kind: 'generation', modelId: 'daily-model', ok: true, durationMs: 800, ts: localNoon(d) });
    usage.record({ kind: 'grant', modelId: 'old-model', ts: localNoon(60) });
    await usage.close();
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('analytics --json reports usage from the extension\'s database', async () => {
    const r = await run('analytics', '--json', '--period', 'all', '--analytics', analytics);
    assert.equal(r.code, 0, r.stderr);
    const snapshot = JSON.parse(r.stdout) as { usage: { modelId: string; uses: number }[] };
    assert.equal(snapshot.usage.find((u) => u.modelId === 'daily-model')?.uses, 25);
    assert.equal(snapshot.usage.find((u) => u.modelId === 'old-model')?.uses, 1);
  });

  it('cleanup --dry-run lists what the policies propose and removes nothing; cleanup removes it', async () => {
    // Both models were downloaded just now, which keepRecentDays counts as recent activity: 0 looks only at use.
    const policy = ['--keep-recent-days', '0', '--analytics', analytics];
    const dry = await run('cleanup', '--dry-run', '--json', ...policy);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as CleanupJson;
    assert.deepEqual(plan.proposals.map((p) => p.id), ['old-model']);
    assert.equal(plan.proposals[0].bytes, 6 * PIECE);
    assert.match(plan.proposals[0].reasons.join(' '), /not used for (59|60) days/);
    assert.equal(plan.freedBytes, 0);
    const listed = JSON.parse((await run('list', '--json')).stdout) as { id: string; state: string }[];
    assert.equal(listed.find((m) => m.id === 'old-model')?.state, 'ready', 'a dry run removes nothing');

    const pinned = JSON.parse((await run('cleanup', '--dry-run', '--json', '--pin', 'old-model', ...policy)).stdout) as CleanupJson;
    assert.deepEqual(pinned.proposals, [], 'a pinned model is never proposed');

    const real = await run('cleanup', ...policy);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /removed old-model/);
    assert.match(real.stdout, /Freed /);
    const after = JSON.parse((await run('list', '--json')).stdout) as { id: string; state: string }[];
    assert.equal(after.find((m) => m.id === 'old-model')?.state, 'missing');
    assert.equal(after.find((m) => m.id === 'daily-model')?.state, 'ready');
  });

  it('refuses to clean up without usage data, naming the option to use', async () => {
    const r = await run('cleanup', '--analytics', path.join(dir, 'nowhere'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no usage database found in .*nowhere; pass --analytics DIR/);
  });
});
