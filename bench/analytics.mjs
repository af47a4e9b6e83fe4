// Analytics benchmark: one million recorded events, then the panel's queries, one save, the file size.
// Run: `node bench/analytics.mjs` (loads the TypeScript sources through tsx; no build needed).
// Prints each figure with its target and PASS or MISS, and exits 0 either way (`npm run bench` reports a miss,
// it does not stop on one); `--strict` exits 1 on a miss. `--json` prints the figures as JSON.
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { tsImport } from 'tsx/esm/api';

const EVENTS = 1_000_000;
const MODELS = 20;
const DAYS = 90;
const TARGETS = { queriesMs: 200, saveMs: 50, fileMB: 20 };

const here = import.meta.url;
const { AnalyticsStore } = await tsImport('../src/engine/usage/analytics/analyticsStore.ts', here);
const { mergeEvents } = await tsImport('../src/engine/usage/analytics/eventMerge.ts', here);
const { migrate } = await tsImport('../src/engine/usage/analytics/schema.ts', here);
const { buildAnalyticsSnapshot } = await tsImport('../src/engine/usage/analytics/analyticsSnapshot.ts', here);
const require = createRequire(here);
const initSqlJs = require('sql.js');
const wasmPath = path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm');

/** A realistic mix: each use is request, grant, two generations, release; some downloads, checks and repairs. */
function makeEvents(now) {
  const cycle = ['request', 'grant', 'generation', 'generation', 'release'];
  const events = new Array(EVENTS);
  for (let i = 0; i < EVENTS; i++) {
    const ts = now - DAYS * 86_400_000 + Math.floor((i / EVENTS) * DAYS * 86_400_000);
    const modelId = `org/model-${(i * 7) % MODELS}`;
    const kind = i % 997 === 0 ? ['download', 'check', 'repair'][i % 3] : cycle[i % cycle.length];
    const e = { kind, modelId, ts, seq: i + 1 };
    if (kind === 'generation') Object.assign(e, { ok: i % 23 !== 0, durationMs: 200 + ((i * 7919) % 4000), units: 20 + (i % 500) });
    else if (kind === 'download') Object.assign(e, { ok: true, durationMs: 60_000, bytes: 2_000_000_000 });
    else if (kind === 'check' || kind === 'repair') Object.assign(e, { ok: i % 2 === 0, durationMs: 5000 });
    events[i] = e;
  }
  return events;
}

function timed(fn) {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

function medianOf(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'ma-bench-analytics-'));
const file = path.join(folder, 'analytics.sqlite');
try {
  const now = Date.now();
  const SQL = await initSqlJs({ locateFile: () => wasmPath });
  const seed = new SQL.Database();
  migrate(seed);
  const insert = timed(() => mergeEvents(seed, 'bench', makeEvents(now)));
  await fs.writeFile(file, seed.export());
  seed.close();

  const open = performance.now();
  const store = await AnalyticsStore.open({ folder, wasmPath, saveDelayMs: 60_000 });
  const openMs = performance.now() - open;

  // Everything the panel computes from the database for one period (usage, rates, performance, daily
  // durations, preload, alerts); no catalog models, so only the database's share is measured.
  const noCleanup = { proposals: [], totalBytes: 0, freedBytes: 0, stillOverBytes: 0 };
  const panelQueries = () => store.read((db) => buildAnalyticsSnapshot({
    db, recordingEnabled: true, now, period: 30, models: [], freeBytes: undefined, cleanup: noCleanup,
  }));
  const firstQueries = timed(panelQueries).ms;
  const queryRuns = Array.from({ length: 5 }, () => timed(panelQueries).ms);

  // A save as it happens in use: 100 new events, lock, merge, export, temp file + fsync + rename.
  const saveRuns = [];
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 100; j++) store.record({ kind: 'grant', modelId: 'org/model-1' });
    const start = performance.now();
    await store.flush();
    saveRuns.push(performance.now() - start);
  }
  await store.close();
  const fileMB = (await fs.stat(file)).size / 1e6;

  const figures = {
    events: EVENTS,
    insertOneTransactionMs: Math.round(insert.ms),
    openWithIntegrityCheckMs: Math.round(openMs),
    queriesFirstMs: Math.round(firstQueries),
    queriesMedianMs: Math.round(medianOf(queryRuns)),
    saveMedianMs: Math.round(medianOf(saveRuns)),
    fileMB: Number(fileMB.toFixed(2)),
  };
  const met = {
    queries: figures.queriesMedianMs <= TARGETS.queriesMs,
    save: figures.saveMedianMs <= TARGETS.saveMs,
    fileSize: figures.fileMB <= TARGETS.fileMB,
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ figures, targets: TARGETS, met }));
  } else {
    const verdict = (ok) => (ok ? 'PASS' : 'MISS');
    console.log(`analytics: ${EVENTS.toLocaleString('en')} events inserted in one transaction in ${figures.insertOneTransactionMs} ms; open with integrity_check ${figures.openWithIntegrityCheckMs} ms`);
    console.log(`analytics: panel queries (30 days) ${figures.queriesMedianMs} ms (first run ${figures.queriesFirstMs} ms), target <= ${TARGETS.queriesMs} ms ${verdict(met.queries)}`);
    console.log(`analytics: one save ${figures.saveMedianMs} ms (median of ${saveRuns.length}), target <= ${TARGETS.saveMs} ms ${verdict(met.save)}`);
    console.log(`analytics: database file ${figures.fileMB} MB, target <= ${TARGETS.fileMB} MB ${verdict(met.fileSize)}`);
  }
  if (process.argv.includes('--strict') && (!met.queries || !met.save || !met.fileSize)) process.exitCode = 1;
} finally {
  await fs.rm(folder, { recursive: true, force: true });
}
