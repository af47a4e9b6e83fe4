import { formatBytes } from '../engine';
import { OperationRefusedError, type AvailabilityEngine, type CheckProgress, type FileCheck, type HealthReport, type RepairResult } from '../engine';
import type { CliOptions } from './args';
import { exitCode, outcomeOf, type Outcome } from './commands';
import type { ProgressPrinter } from './progressPrinter';

const PROGRESS_INTERVAL_MS = 2000;

interface VerifyOutput {
  readonly id: string;
  readonly health: HealthReport['health'];
  readonly healthReasons: HealthReport['healthReasons'];
  readonly checkedAt?: string;
  readonly files: readonly FileCheck[];
  readonly manifestError?: string;
  /** With --repair: what was fetched, and why a repair did not finish. */
  readonly repaired?: readonly string[];
  readonly repairError?: string;
  readonly error?: string;
}

/**
 * `verify`: a full check of the given models (all installed ones without ids); with --repair, a repair of
 * what it finds. The exit code follows how each ended (see Outcome).
 */
export async function runVerify(engine: AvailabilityEngine, opts: CliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, signal: AbortSignal): Promise<number> {
  const ids = opts.ids.length > 0 ? opts.ids : engine.getModelStates().filter((s) => s.health !== null).map((s) => s.id);
  if (ids.length === 0 && !opts.json) out.write('no installed models to verify\n');
  const results: VerifyOutput[] = [];
  for (const id of ids) {
    const onProgress = progressLine(id, err);
    try {
      if (opts.repair) {
        const r = await engine.integrity.repair(id, { signal, onProgress });
        results.push({ ...fromReport(id, r.check), health: r.health, healthReasons: r.healthReasons, repaired: r.repaired, repairError: r.error });
      } else {
        results.push(fromReport(id, await engine.integrity.verify(id, { signal, onProgress })));
      }
    } catch (e) {
      const s = engine.getModelState(id);
      results.push({ id, health: s?.health ?? null, healthReasons: s?.healthReasons ?? [], files: [], error: messageOf(e) });
    }
    if (!opts.json) printVerify(results[results.length - 1], out);
  }
  if (opts.json) out.write(JSON.stringify(results, null, 2) + '\n');
  return exitCode(results.map((r) => (r.error || r.repairError ? 'failed' : outcomeOf(r.health, r.healthReasons))));
}

/** `repair`: each model ends repaired (green), repaired but unverifiable (no sha256 for a file), or not. */
export async function runRepair(engine: AvailabilityEngine, ids: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream, printer: ProgressPrinter): Promise<number> {
  const sub = engine.onDidChangeModel(() => printer.update(engine.getModelStates()));
  const outcomes: Outcome[] = [];
  try {
    for (const id of ids) {
      let result: RepairResult;
      try {
        result = await engine.integrity.repair(id, { onProgress: progressLine(id, err) });
      } catch (e) {
        outcomes.push('failed');
        out.write(`error  ${id}  ${messageOf(e)}\n`);
        continue;
      }
      printer.update(engine.getModelStates());
      const outcome = result.error ? 'failed' : outcomeOf(result.health, result.healthReasons);
      outcomes.push(outcome);
      if (outcome === 'failed') {
        out.write(`error  ${id}  ${result.error ?? result.healthReasons.map((r) => r.message).join('; ')}\n`);
      } else {
        out.write(result.repaired.length > 0 ? `repaired  ${id}  ${result.repaired.join(' ')}\n` : `ok  ${id}  nothing to repair\n`);
        if (outcome === 'unverifiable') err.write(`note: ${id}: ${result.healthReasons.map((r) => r.message).join('; ')}\n`);
      }
    }
  } finally {
    sub.dispose();
    printer.finish();
  }
  return exitCode(outcomes);
}

/** `remove`: true when every model was removed (an in-use or downloading model is refused). */
export async function runRemove(engine: AvailabilityEngine, ids: readonly string[], out: NodeJS.WritableStream): Promise<boolean> {
  let ok = true;
  for (const id of ids) {
    try {
      const freed = await engine.integrity.remove(id);
      out.write(`removed  ${id}  ${formatBytes(freed)} freed\n`);
    } catch (e) {
      ok = false;
      out.write(`${e instanceof OperationRefusedError ? 'refused' : 'error'}  ${id}  ${messageOf(e)}\n`);
    }
  }
  return ok;
}

function fromReport(id: string, report: HealthReport | undefined): VerifyOutput {
  return report
    ? { id, health: report.health, healthReasons: report.healthReasons, checkedAt: report.checkedAt, files: report.files, manifestError: report.manifestError }
    : { id, health: null, healthReasons: [], files: [] };
}

function printVerify(r: VerifyOutput, out: NodeJS.WritableStream): void {
  const reasons = r.error ? [r.error] : r.healthReasons.map((x) => x.message);
  out.write(`${String(r.health ?? 'missing').padEnd(7)} ${r.id}${reasons.length > 0 ? `  ${reasons.join('; ')}` : ''}\n`);
  for (const f of r.files) if (f.status !== 'ok') out.write(`        ${f.status.padEnd(12)} ${f.message}\n`);
  if (r.repaired?.length) out.write(`        repaired     ${r.repaired.join(' ')}\n`);
  if (r.repairError) out.write(`        repair failed: ${r.repairError}\n`);
}

/** A plain progress line on stderr every few seconds. */
function progressLine(id: string, err: NodeJS.WritableStream): (p: CheckProgress) => void {
  let last = Date.now();
  return (p) => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS || p.totalBytes === 0) return;
    last = now;
    err.write(`${id}: checking ${((100 * p.bytesDone) / p.totalBytes).toFixed(1)}% of ${formatBytes(p.totalBytes)}\n`);
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
