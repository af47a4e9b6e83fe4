import * as path from 'node:path';
import { DEFAULT_STORAGE_POLICY, HealthMonitor, ModelRequests, usageRecorder, recordEngineEvents, type AvailabilityEngine, type Logger } from '../engine';
import { loadOrCreateToken, LocalApiServer, portOwner } from '../localApi';
import type { CliOptions } from './args';
import { openCliAnalytics } from './analyticsCommands';

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 4_500;

/**
 * `serve`: the local API over the same engine as the extension (persisted queue, scheduled health checks,
 * the extension's analytics database) until SIGINT or SIGTERM; then downloads pause (resumable) and
 * analytics is saved. Resolves with the exit code.
 */
export async function runServe(engine: AvailabilityEngine, opts: CliOptions, logger: Logger, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { store: analytics, reason } = await openCliAnalytics(opts.analyticsDir, true);
  if (!analytics) err.write(`model-availability: usage is not recorded: ${reason}\n`);
  const disposables = analytics ? recordEngineEvents(engine, analytics) : [];
  // Over HTTP nobody answers the "ask" prompt: callers name their fallback (default mock).
  const requests = new ModelRequests(engine, () => ({ strategy: 'mock', minCompatibility: 60, autoDownload: true }), async () => undefined, analytics ? usageRecorder(analytics) : undefined);
  const monitor = new HealthMonitor({ engine, logger });
  const tokenFile = path.join(opts.store, 'api-token');
  const { token, source } = await loadOrCreateToken(tokenFile);
  let api: LocalApiServer;
  try {
    api = await LocalApiServer.start({
      context: { engine, requests, analytics, storeRoot: opts.store, storagePolicy: () => DEFAULT_STORAGE_POLICY },
      port: opts.port, token, allowedOrigins: [], log: (line) => logger.info(line),
    });
  } catch (e) {
    monitor.dispose();
    requests.dispose();
    await analytics?.close();
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const owner = await portOwner(opts.port);
    err.write(`model-availability: port ${opts.port} on 127.0.0.1 is in use${owner ? ` by ${owner}` : ''}; stop it or pass --port N\n`);
    return 2;
  }
  out.write(`Model Availability API on ${api.url} (WebSocket ${api.url.replace('http', 'ws')}/ws)\ntoken: ${source === tokenFile ? `in ${tokenFile}` : source}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
  err.write(`model-availability: ${signal}: stopping\n`);
  await api.close();
  monitor.dispose();
  // Paused, not cancelled: the partial data and queue.json stay, and the next run (or `download`) fetches the rest.
  engine.downloads.pauseAll('paused when serve stopped');
  await engine.whenIdle();
  await engine.downloads.flush();
  requests.dispose();
  for (const d of disposables) d.dispose();
  await analytics?.close();
  return 0;
}
