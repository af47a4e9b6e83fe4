import { downloadedWords, hfEndpoint, onlyUnverifiable, unverifiableFiles, withFix, type Fix, type ModelEntry } from '../engine';
import type { AvailabilityEngine, Health, HealthReason, Logger, ModelState } from '../engine';
import type { CliOptions } from './args';
import { closeIds } from '../engine';
import { ProgressPrinter } from './progressPrinter';

export interface ListedModel {
  readonly id: string;
  readonly name: string;
  /** The catalog's version. */
  readonly version: string;
  /** The catalog it came from: a file path, a URL, or "built-in". */
  readonly catalog: string;
  /** The version on disk that requests get; null when nothing usable is installed. */
  readonly installedVersion: string | null;
  /** The version an update would bring, or null. */
  readonly updateAvailable: string | null;
  readonly state: ModelState['state'];
  readonly health: Health | null;
  readonly bytesOnDisk: number;
  readonly files: { path: string; localPath: string; size: number | null; sha256: string | null; state: string }[];
  /** The health reasons' messages. */
  readonly problems: string[];
  readonly healthReasons: readonly HealthReason[];
}

export function listModels(engine: AvailabilityEngine): ListedModel[] {
  return engine.getModels().map((m: ModelEntry) => {
    const s = engine.getModelState(m.id);
    if (!s) throw new Error(`no state for ${m.id}`);
    return {
      id: m.id, name: m.name, version: m.version, installedVersion: s.installedVersion, updateAvailable: s.updateAvailable, catalog: m.origin, state: s.state, health: s.health, bytesOnDisk: s.bytesOnDisk,
      files: s.files.map((f) => ({ path: f.path, localPath: f.localPath, size: f.size ?? null, sha256: f.sha256 ?? null, state: f.state })),
      problems: s.healthReasons.map((r) => r.message),
      healthReasons: s.healthReasons,
    };
  });
}

export function printList(models: readonly ListedModel[], json: boolean, out: NodeJS.WritableStream): void {
  if (json) {
    out.write(JSON.stringify(models, null, 2) + '\n');
    return;
  }
  for (const m of models) {
    const problems = m.health === 'green' || m.problems.length === 0 ? '' : `  (${m.problems.join('; ')})`;
    out.write(`${m.id.padEnd(32)} ${m.state.padEnd(11)} ${String(m.health ?? '-').padEnd(6)} ${m.name}  [${m.catalog}]${problems}\n`);
  }
}

export function unknownIds(ids: readonly string[], known: readonly string[]): string[] {
  return ids.filter((id) => !known.includes(id)).map((id) => {
    const close = closeIds(id, known);
    return `unknown model id '${id}'${close.length ? `; did you mean: ${close.join(', ')}?` : ''}`;
  });
}

/** How a command's models ended, worst first: the exit code follows (see USAGE). */
export type Outcome = 'failed' | 'unverifiable' | 'verified';

export function exitCode(outcomes: readonly Outcome[]): number {
  return outcomes.includes('failed') ? 1 : outcomes.includes('unverifiable') ? 3 : 0;
}

/** Verified when green; unverifiable when only files without a sha256 keep it from green. */
export function outcomeOf(health: Health | null, reasons: readonly HealthReason[]): Outcome {
  return health === 'green' ? 'verified' : onlyUnverifiable(health, reasons) ? 'unverifiable' : 'failed';
}

/** A failure with its fix in the CLI's words (flags, environment variables, ~/.netrc). */
export function cliFailure(reason: string, fix: Fix | undefined): string {
  return withFix(reason, fix, 'cli', new URL(hfEndpoint()).origin);
}

/** Downloads the models and waits for each to end (see Outcome). */
export async function runDownload(engine: AvailabilityEngine, opts: CliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream, printer: ProgressPrinter): Promise<number> {
  const pending = new Set(opts.ids);
  const results = new Map<string, string>();
  const done = new Promise<void>((resolve) => {
    const settle = (id: string, result: string): void => {
      if (!pending.delete(id)) return;
      results.set(id, result);
      if (pending.size === 0) resolve();
    };
    engine.onDidFinish(({ id }) => settle(id, 'ok'));
    engine.onDidFail(({ id, reason, kind, fix }) => settle(id, `${kind === 'paused' ? 'paused' : 'failed'}: ${cliFailure(reason, fix)}`));
  });
  const sub = engine.onDidChangeModel(() => printer.update(engine.getModelStates()));
  engine.download(opts.ids);
  await done;
  sub.dispose();
  printer.update(engine.getModelStates());
  printer.finish();
  const outcomes: Outcome[] = [];
  for (const id of opts.ids) {
    const result = results.get(id) ?? 'unknown';
    const state = engine.getModelState(id);
    if (result === 'ok' && state?.state === 'ready') {
      out.write(`ready  ${id}  ${state.files.map((f) => f.localPath).join(' ')}\n`);
      const outcome = outcomeOf(state.health, state.healthReasons);
      if (outcome !== 'verified') err.write(`note: ${id}: ${downloadedWords(unverifiableFiles(state.healthReasons))}\n`);
      outcomes.push(outcome === 'verified' ? 'verified' : 'unverifiable');
    } else {
      outcomes.push('failed');
      out.write(`error  ${id}  ${result}\n`);
    }
  }
  return exitCode(outcomes);
}

export function stderrLogger(printer: ProgressPrinter | undefined, err: NodeJS.WriteStream): Logger {
  const line = (level: string, message: string, id?: string): void => {
    printer?.clear();
    err.write(`[${level}]${id ? ` ${id}:` : ''} ${message}\n`);
  };
  return {
    info: (m, id) => line('info', m, id),
    warn: (m, id) => line('warn', m, id),
    error: (m, id) => line('error', m, id),
  };
}
