import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { mergeEvents } from '../../../../src/engine/usage/analytics/eventMerge';
import type { PendingEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { migrate } from '../../../../src/engine/usage/analytics/schema';
import { WASM_PATH, checkedEventCount, openFile, scalar, sql, tempFolder } from './analyticsFixtures';

const WORKER = path.join(__dirname, 'recordWorker.ts');
const REPO = path.resolve(__dirname, '../../..');

function startWorker(args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(stderr);
    resolve(code);
  }));
  return { child, lines, exited };
}

async function waitForLine(lines: string[], wanted: string, exited: Promise<number | null>): Promise<void> {
  let done = false;
  void exited.then(() => { done = true; });
  while (!lines.includes(wanted)) {
    if (done) throw new Error(`worker exited before printing "${wanted}"`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AnalyticsStore across processes', function () {
  this.timeout(180_000);
  let folder: string;

  beforeEach(async () => { folder = await tempFolder(); });
  afterEach(async () => { await fs.rm(folder, { recursive: true, force: true }); });

  it('two processes recording 10,000 events each into one file end with exactly 20,000', async () => {
    const a = startWorker(['record', folder, WASM_PATH, '10000', '250']);
    const b = startWorker(['record', folder, WASM_PATH, '10000', '250']);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    const file = path.join(folder, 'analytics.sqlite');
    assert.equal(await checkedEventCount(file), 20_000);
    const db = await openFile(file);
    try {
      assert.deepEqual(db.exec('SELECT last_seq FROM origins ORDER BY id')[0].values, [[10_000], [10_000]]);
      assert.equal(scalar(db, "SELECT sum(count) FROM daily"), 20_000);
    } finally {
      db.close();
    }
  });

  it('a process killed with SIGKILL mid-save leaves a file that opens, passes integrity_check, and holds the old or the new version', async () => {
    const file = path.join(folder, 'analytics.sqlite');
    // A sizeable file makes each save take long enough to be interrupted while writing.
    const seed = new (await sql()).Database();
    migrate(seed);
    const now = Date.now();
    const events: PendingEvent[] = Array.from({ length: 50_000 }, (_, i) => ({ kind: 'generation', modelId: `m${i % 9}`, ok: true, durationMs: i % 900, units: i % 300, ts: now - i * 1000, seq: i + 1 }));
    mergeEvents(seed, 'seed', events);
    await fs.writeFile(file, seed.export());
    seed.close();

    const perSave = 200;
    let known = 50_000;
    for (let round = 0; round < 6; round++) {
      const w = startWorker(['saveLoop', folder, WASM_PATH, String(perSave)]);
      await waitForLine(w.lines, 'ready', w.exited);
      // Round 0 starts at once; later rounds first wait out the stale lock the killed process left.
      await new Promise((r) => setTimeout(r, (round === 0 ? 0 : 2500) + 50 + Math.random() * 400));
      w.child.kill('SIGKILL');
      await w.exited;
      const saved = w.lines.filter((l) => l.startsWith('saved ')).map((l) => Number(l.slice(6)));
      const lastSaved = saved.length > 0 ? saved[saved.length - 1] : known;
      const count = await checkedEventCount(file);
      assert.ok(count === lastSaved || count === lastSaved + perSave, `round ${round}: ${count} events, last reported save ${lastSaved}`);
      known = count;
    }
    assert.ok(known > 50_000, 'the workers saved nothing');
  });
});
