import { formatBytes, OperationRefusedError, type AvailabilityEngine } from '../engine';
import type { CliOptions } from './args';
import { cliFailure } from './commands';
import type { ProgressPrinter } from './progressPrinter';

/** `updates [--json]`: what the catalogs offer now. */
export async function runUpdates(engine: AvailabilityEngine, json: boolean, out: NodeJS.WritableStream): Promise<number> {
  const offers = await engine.updates.check();
  if (json) {
    out.write(JSON.stringify(offers.map(({ id, from, to, bytesToDownload, source }) => ({ id, from, to, bytesToDownload, source })), null, 2) + '\n');
  } else if (offers.length === 0) {
    out.write('every installed model is up to date\n');
  } else {
    for (const o of offers) out.write(`${o.id.padEnd(32)} ${o.from} -> ${o.to}  (${formatBytes(o.bytesToDownload)} to download)${o.notes ? `  ${o.notes}` : ''}\n`);
  }
  return 0;
}

/** `update [<id>...] [--all]`: 0 when every named model switched (or was up to date), 1 when any did not. */
export async function runUpdate(engine: AvailabilityEngine, opts: CliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, printer: ProgressPrinter): Promise<number> {
  const ids = opts.all ? (await engine.updates.check()).map((o) => o.id) : opts.ids;
  if (ids.length === 0) out.write('every installed model is up to date\n');
  const sub = engine.onDidChangeModel(() => printer.update(engine.getModelStates()));
  let failed = false;
  try {
    const outcomes = await Promise.all(ids.map((id) => engine.updates.update(id).catch((e: unknown) => {
      if (!(e instanceof OperationRefusedError)) throw e;
      return { id, status: 'refused' as const, reason: e.message };
    })));
    printer.finish();
    for (const o of outcomes) {
      if (o.status === 'switched') out.write(`updated  ${o.id}  ${o.from} -> ${o.to}\n`);
      else if (o.status === 'upToDate') out.write(`current  ${o.id}  ${o.version} is the catalog's version\n`);
      else {
        failed = true;
        const why = o.status === 'failed' ? cliFailure(o.reason, o.fix) : o.reason;
        const kept = engine.getModelState(o.id)?.installedVersion;
        out.write(`error  ${o.id}  ${why}${kept ? `; ${kept} stays installed (run update again to resume)` : ''}\n`);
      }
    }
  } finally {
    sub.dispose();
  }
  if (failed) err.write('model-availability: not every model was updated\n');
  return failed ? 1 : 0;
}

/** `rollback <id> [--to VERSION]`: no network. */
export async function runRollback(engine: AvailabilityEngine, opts: CliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    const change = await engine.updates.rollback(opts.ids[0], opts.to);
    out.write(`rolled back  ${change.id}  ${change.from ?? '-'} -> ${change.to}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof OperationRefusedError)) throw e;
    err.write(`model-availability: ${e.message}${opts.to ? '' : '; name one with --to VERSION'}\n`);
    return 1;
  }
}
