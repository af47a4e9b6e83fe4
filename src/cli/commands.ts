import type { ModelEntry } from '../engine';
import type { AvailabilityEngine, Health, HealthReason, Logger, ModelState } from '../engine';
import type { CliOptions } from './args';
import { closeIds } from '../engine';
import { ProgressPrinter } from './progressPrinter';

export interface ListedModel {
  readonly id: string;
  readonly name: string;
  readonly version: string;
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
      id: m.id, name: m.name, version: m.version, state: s.state, health: s.health, bytesOnDisk: s.bytesOnDisk,
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
    out.write(`${m.id.padEnd(32)} ${m.state.padEnd(11)} ${String(m.health ?? '-').padEnd(6)} ${m.name}${problems}\n`);
  }
}

export function unknownIds(ids: readonly string[], known: readonly string[]): string[] {
  return ids.filter((id) => !known.includes(id)).map((id) => {
    const close = closeIds(id, known);
    return `unknown model id '${id}'${close.length ? `; did you mean: ${close.join(', ')}?` : ''}`;
  });
}

/** Downloads the models and waits for each to end; true only when every one ended verified. */
export async function runDownload(engine: AvailabilityEngine, opts: CliOptions, out: NodeJS.WritableStream, printer: ProgressPrinter): Promise<boolean> {
  const pending = new Set(opts.ids);
  const results = new Map<string, string>();
  const done = new Promise<void>((resolve) => {
    const settle = (id: string, result: string): void => {
      if (!pending.delete(id)) return;
      results.set(id, result);
      if (pending.size === 0) resolve();
    };
    engine.onDidFinish(({ id }) => settle(id, 'ok'));
    engine.onDidFail(({ id, reason, kind }) => settle(id, `${kind === 'paused' ? 'paused' : 'failed'}: ${reason}`));
  });
  const sub = engine.onDidChange(() => printer.update(engine.getModelStates()));
  engine.download(opts.ids);
  await done;
  sub.dispose();
  printer.update(engine.getModelStates());
  printer.finish();
  let ok = true;
  for (const id of opts.ids) {
    const result = results.get(id) ?? 'unknown';
    const state = engine.getModelState(id);
    if (result === 'ok' && state?.state === 'ready') {
      out.write(`ready  ${id}  ${state.files.map((f) => f.localPath).join(' ')}\n`);
    } else {
      ok = false;
      out.write(`error  ${id}  ${result}\n`);
    }
  }
  return ok;
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
