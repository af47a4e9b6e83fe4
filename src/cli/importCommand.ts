import {
  addToCatalogFile, findLocalModels, formatBytes, importCandidates, SOURCE_NAMES,
  type AvailabilityEngine, type ForeignLocation, type ImportCandidate, type ImportResult, type Logger,
} from '../engine';
import type { CliOptions } from './args';

/** One line of `import --json`. */
interface ImportLine {
  readonly source: string;
  readonly path: string;
  /** What the other tool calls the file and its model. */
  readonly name: string;
  readonly model: string;
  readonly sha256: string | null;
  readonly size: number;
  /** The catalog model it is, or null. */
  readonly matches: string | null;
  /** The store already held the matching file verified. */
  readonly installed: boolean;
  /** How it was (or, with --dry-run, would be) placed in the store. */
  readonly method: string;
  readonly imported: boolean;
  readonly problem?: string;
}

/**
 * `import`: finds models in other tools' stores, adopts each one a catalog lists (verified), and with
 * --add-to-catalog first writes entries for the found models no catalog lists. True unless a file that
 * should have been imported was not.
 */
export async function runImport(engine: AvailabilityEngine, opts: CliOptions, locations: readonly ForeignLocation[], out: NodeJS.WritableStream, logger: Logger): Promise<boolean> {
  let found = await findLocalModels(engine, locations);
  if (opts.addToCatalog && !opts.dryRun) {
    const matched = new Set(found.candidates.filter((c) => c.match).map((c) => c.found.path));
    const unlisted = found.models.filter((m) => !m.files.some((f) => matched.has(f.path)));
    const added = await addToCatalogFile(opts.addToCatalog, unlisted, new Set(engine.getModels().map((m) => m.id)));
    for (const s of added.skipped) logger.warn(`${s.name} was not added to ${opts.addToCatalog}: ${s.reason}`);
    if (added.models.length > 0) {
      logger.info(`added ${added.models.map((m) => m.id).join(', ')} to ${opts.addToCatalog}`);
      await engine.setModels([...engine.getModels(), ...added.models]);
      found = await findLocalModels(engine, locations);
    }
  }
  // On the command line the person asked for the import: a copy (another device) needs no second question.
  const results = opts.dryRun ? [] : await importCandidates(engine, found.candidates, { logger, allowCopy: async () => true });
  const lines = found.candidates.map((c) => lineOf(c, results.find((r) => r.candidate === c), found.models.find((m) => m.files.includes(c.found))?.name ?? ''));
  if (opts.json) out.write(JSON.stringify(lines, null, 2) + '\n');
  else printLines(lines, results, opts.dryRun, out);
  return results.every((r) => r.adopted);
}

function lineOf(c: ImportCandidate, result: ImportResult | undefined, model: string): ImportLine {
  return {
    source: c.found.source, path: c.found.path, name: c.found.name, model, sha256: c.found.sha256 ?? result?.adopted?.sha256 ?? null, size: c.found.size,
    matches: c.match?.modelId ?? null, installed: c.match?.installed ?? false, method: result?.adopted?.method ?? c.method, imported: result?.adopted !== undefined,
    ...(result?.problem && { problem: result.problem }),
  };
}

const VERB: Record<string, string> = { reflink: 'cloned', hardlink: 'linked', copy: 'copied' };

function printLines(lines: readonly ImportLine[], results: readonly ImportResult[], dryRun: boolean, out: NodeJS.WritableStream): void {
  if (lines.length === 0) {
    out.write('no models found on this machine (looked in the Hugging Face cache, Ollama and LM Studio; name more with --from DIR)\n');
    return;
  }
  for (const l of lines) {
    const status = l.imported ? VERB[l.method] : l.problem ? 'refused' : l.matches === null ? 'unlisted' : l.installed ? 'installed' : dryRun ? `would ${l.method === 'copy' ? 'copy' : 'link'}` : 'skipped';
    const target = l.matches ? `→ ${l.matches}` : '(no catalog lists it; --add-to-catalog FILE adds it)';
    out.write(`${status.padEnd(10)} ${l.source.padEnd(8)} ${l.model} ${l.name}  ${formatBytes(l.size)}  ${target}${l.problem ? `: ${l.problem}` : ''}\n`);
  }
  const adopted = results.flatMap((r) => (r.adopted ? [r.adopted] : []));
  if (adopted.length > 0) {
    const disk = adopted.reduce((s, a) => s + a.bytesCopied, 0);
    const sources = [...new Set(adopted.map((a) => SOURCE_NAMES[a.found.source]))].join(', ');
    out.write(`imported ${adopted.length} file(s) from ${sources}, verified: ${formatBytes(disk)} of extra disk, 0 bytes downloaded\n`);
  }
}
