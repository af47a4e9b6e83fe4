import { parseArgs, usageErrorLine, UsageError, USAGE } from './cli/args';
import { loadCliCatalog } from './cli/catalog';
import { listModels, printList, runDownload, stderrLogger, unknownIds } from './cli/commands';
import { cliCredentials } from './cli/credentials';
import { runRemove, runRepair, runVerify } from './cli/integrityCommands';
import { ProgressPrinter } from './cli/progressPrinter';
import { AvailabilityEngine, hfEndpoint, prestartFileWorkers, selectLocations } from './engine';
import { runImport } from './cli/importCommand';
import { runRollback, runUpdate, runUpdates } from './cli/updateCommands';

/**
 * Exit codes: 0 every requested model ended verified (download, repair, verify), removed, switched (update,
 * rollback), or every matched file was imported verified (import); 3 every one ended ready, but a file has no sha256 to verify it with;
 * 1 one did not; 2 usage or catalog error.
 */
async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${usageErrorLine(err)}\n`);
    return 2;
  }
  if (opts.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Their start takes longer than the catalogs, the store scan and the lock; it is done by the first bytes.
  if (opts.command === 'download' || opts.command === 'repair' || opts.command === 'update') prestartFileWorkers();
  const catalog = await loadCliCatalog(opts.catalogs, opts.builtin);
  for (const w of catalog.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const e of catalog.errors) process.stderr.write(`catalog error: ${e}\n`);
  // `list` shows what did load (and still exits 2); the others refuse to act on a partly loaded catalog.
  if (catalog.errors.length > 0 && opts.command !== 'list') return 2;
  const unknown = unknownIds(opts.ids, catalog.models.map((m) => m.id));
  if (unknown.length > 0) {
    for (const u of unknown) process.stderr.write(`model-availability: ${u}\n`);
    return 2;
  }
  const locations = await selectLocations(opts.from);
  const printer = opts.command === 'download' || opts.command === 'repair' || opts.command === 'update' ? new ProgressPrinter(process.stderr, opts.ids) : undefined;
  const engine = await AvailabilityEngine.create({
    storeRoot: opts.store,
    models: catalog.models,
    // serve keeps the queue across restarts as the extension does; the other commands run only what they were asked.
    persistQueue: opts.command === 'serve',
    // serve runs on: its update checks read the catalogs again (one-shot commands just read them).
    reloadCatalogs: opts.command === 'serve' ? async () => (await loadCliCatalog(opts.catalogs, opts.builtin)).models : undefined,
    // Test hook: tests shorten how long a killed process's lock blocks the next run.
    lockStaleMs: Number(process.env.MODEL_AVAILABILITY_LOCK_STALE_MS) || undefined,
    logger: stderrLogger(printer, process.stderr),
    credentials: cliCredentials(new URL(hfEndpoint()).origin),
    localCopies: async () => (opts.reuse ? locations : []),
    settings: {
      ...(opts.connections !== undefined && { connections: opts.connections }),
      ...(opts.speedLimitMBps !== undefined && { speedLimitMBps: opts.speedLimitMBps }),
      ...(opts.maxRetries !== undefined && { maxRetries: opts.maxRetries }),
      ...(process.env.MODEL_AVAILABILITY_PIECE_SIZE && { pieceSizeBytes: Number(process.env.MODEL_AVAILABILITY_PIECE_SIZE) }),
      ...(process.env.MODEL_AVAILABILITY_RETRY_BASE_MS && { retryBaseDelayMs: Number(process.env.MODEL_AVAILABILITY_RETRY_BASE_MS) }),
    },
  });
  try {
    if (opts.command === 'list') {
      printList(listModels(engine), opts.json, process.stdout);
      return catalog.errors.length > 0 ? 2 : 0;
    }
    if (opts.command === 'import') return (await runImport(engine, opts, locations, process.stdout, stderrLogger(undefined, process.stderr))) ? 0 : 1;
    if (opts.command === 'updates') return await runUpdates(engine, opts.json, process.stdout);
    if (opts.command === 'rollback') return await runRollback(engine, opts, process.stdout, process.stderr);
    if (opts.command === 'serve') {
      const { runServe } = await import('./cli/serveCommand');
      return await runServe(engine, opts, stderrLogger(undefined, process.stderr), process.stdout, process.stderr);
    }
    if (opts.command === 'remove') return (await runRemove(engine, opts.ids, process.stdout)) ? 0 : 1;
    if (opts.command === 'analytics' || opts.command === 'cleanup') {
      // Loaded only here: sql.js is a large module that the other commands never need.
      const { openCliAnalytics, runAnalytics, runCleanup } = await import('./cli/analyticsCommands');
      const { store, reason } = await openCliAnalytics(opts.analyticsDir);
      if (!store) {
        process.stderr.write(`model-availability: ${reason}\n`);
        return 2;
      }
      try {
        if (opts.command === 'analytics') {
          await runAnalytics(engine, store, opts, opts.store, process.stdout);
          return 0;
        }
        return (await runCleanup(engine, store, opts, process.stdout, process.stderr)) ? 0 : 1;
      } finally {
        await store.close();
      }
    }
    // Ctrl-C pauses downloads and repairs (partial data and its state stay for the next run) and stops checks.
    const interrupt = new AbortController();
    process.once('SIGINT', () => {
      interrupt.abort();
      engine.downloads.pauseAll();
      process.exitCode = 130;
      setTimeout(() => process.exit(130), 2000).unref();
    });
    if (opts.command === 'verify') return await runVerify(engine, opts, process.stdout, process.stderr, interrupt.signal);
    if (!printer) return 2;
    if (opts.command === 'update') return await runUpdate(engine, opts, process.stdout, process.stderr, printer);
    if (opts.command === 'repair') return await runRepair(engine, opts.ids, process.stdout, process.stderr, printer);
    return await runDownload(engine, opts, process.stdout, process.stderr, printer);
  } finally {
    engine.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`model-availability: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
