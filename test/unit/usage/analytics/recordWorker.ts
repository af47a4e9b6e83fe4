// A child process for the multi-process tests (spawned with `node --import tsx`).
//   record <folder> <wasm> <count> <flushEvery>: records `count` events, saving every `flushEvery`.
//   saveLoop <folder> <wasm> <perSave>: records and saves forever, printing "saved <events in file>" after each save.
import { AnalyticsStore } from '../../../../src/engine/usage/analytics/analyticsStore';

async function main(): Promise<void> {
  const [mode, folder, wasmPath, a, b] = process.argv.slice(2);
  const store = await AnalyticsStore.open({ folder, wasmPath, saveDelayMs: 60_000, lockStaleMs: 2000, lockWaitMs: 60_000 });
  if (mode === 'record') {
    const count = Number(a);
    const flushEvery = Number(b);
    for (let i = 1; i <= count; i++) {
      store.record({ kind: 'generation', modelId: `model-${i % 7}`, ok: i % 10 !== 0, durationMs: 100 + (i % 50), units: 20 });
      if (i % flushEvery === 0) await store.flush();
    }
    await store.close();
    process.stdout.write('done\n');
    return;
  }
  const perSave = Number(a);
  process.stdout.write('ready\n');
  for (;;) {
    for (let i = 0; i < perSave; i++) store.record({ kind: 'grant', modelId: `model-${i % 5}` });
    await store.flush();
    const count = store.read((db) => Number(db.exec('SELECT count(*) FROM events')[0].values[0][0]));
    process.stdout.write(`saved ${count}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
