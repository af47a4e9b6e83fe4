import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import builtinCatalog from './builtinCatalog.json';

export { builtinCatalog };
import { DEFAULT_MODEL_VERSION, type FileSource, type ModelEntry, type ModelFile } from './catalogTypes';
import { writeFileAtomic } from '../core/atomicFile';
import { withFix, type Fix, type Surface } from '../core/fixes';
import { proxyFor } from '../core/proxy';
import type { Agents } from 'got';
import { DOCUMENT_PATH, formatJsonPath, schemaIssues, type JsonPath } from './catalogValidation';

export type CatalogSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'builtin' };

export interface TextPosition { readonly line: number; readonly character: number }
/** Zero-based, like VS Code's Range. */
export interface TextRange { readonly start: TextPosition; readonly end: TextPosition }

export interface CatalogProblem {
  /** The catalog file path, URL, or "built-in". */
  readonly origin: string;
  readonly jsonPath: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** Where in the file, when the origin is a file we parsed. */
  readonly range?: TextRange;
  /** What to do about it, phrased by each surface (core/fixes). */
  readonly fix?: Fix;
}

export interface CatalogLoadResult {
  readonly models: ModelEntry[];
  readonly problems: CatalogProblem[];
  /** Every origin that was read, including those that failed: views use it to clear old problems. */
  readonly origins: string[];
}

export const BUILTIN_ORIGIN = 'built-in';

/** The problem without its origin (a diagnostic's text): the JSON path unless it is the whole document, the message, the fix. */
export function problemMessage(p: CatalogProblem, surface: Surface): string {
  return `${p.jsonPath === DOCUMENT_PATH ? '' : `${p.jsonPath}: `}${withFix(p.message, p.fix, surface, '')}`;
}

/** file:line:col: path: message; fix — in the surface's words. */
export function formatProblem(p: CatalogProblem, surface: Surface): string {
  const where = p.range ? `${p.origin}:${p.range.start.line + 1}:${p.range.start.character + 1}` : p.origin;
  return `${where}: ${problemMessage(p, surface)}`;
}

export function sourceOrigin(source: CatalogSource): string {
  return source.kind === 'file' ? source.path : source.kind === 'url' ? source.url : BUILTIN_ORIGIN;
}

class Locator {
  private lineStarts: number[] = [0];
  constructor(text: string, private readonly root: Node | undefined) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  position(offset: number): TextPosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo, character: offset - this.lineStarts[lo] };
  }

  range(offset: number, length: number): TextRange {
    return { start: this.position(offset), end: this.position(offset + Math.max(length, 1)) };
  }

  /** The closest existing node for a path (a missing property points at its parent object). */
  rangeOf(path: JsonPath, onKey = false): TextRange | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(this.root, [...path.slice(0, n)]);
      if (!node) continue;
      const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
      const target = onKey && n === path.length && key ? key : n < path.length && node.type === 'object' && node.parent?.type === 'property' ? node.parent.children?.[0] ?? node : node;
      // A whole object is a poor highlight: point at its key, or at its first line.
      const len = target.type === 'object' || target.type === 'array' ? 1 : target.length;
      return this.range(target.offset, len);
    }
    return undefined;
  }
}

interface RawFile { path: string; url?: string; hf?: { repo: string; revision?: string; file: string }; sha256?: string; size?: number }
interface RawModel extends Omit<ModelEntry, 'files' | 'origin' | 'alternatives' | 'version' | 'name'> {
  name?: string; version?: string; alternatives?: string[]; files: RawFile[];
}

function toEntry(raw: RawModel, origin: string): ModelEntry {
  const files: ModelFile[] = raw.files.map((f) => {
    // The schema guarantees exactly one of url and hf.
    const source: FileSource = f.hf
      ? { kind: 'hf', repo: f.hf.repo, revision: f.hf.revision ?? 'main', file: f.hf.file }
      : { kind: 'url', url: f.url ?? '' };
    return { path: f.path, source, sha256: f.sha256?.toLowerCase(), size: f.size };
  });
  return {
    ...raw,
    name: raw.name ?? raw.id,
    version: raw.version ?? DEFAULT_MODEL_VERSION,
    alternatives: raw.alternatives ?? [],
    files,
    origin,
  };
}

/** Parses one catalog; every problem names the origin, the JSON path and the reason. Valid models load even when siblings do not. */
export function parseCatalog(text: string, origin: string): ParsedCatalog {
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: true });
  const locator = new Locator(text, root);
  if (parseErrors.length > 0 || !root) {
    const e = parseErrors[0];
    return {
      models: [],
      problems: [{
        origin, jsonPath: DOCUMENT_PATH, severity: 'error',
        message: e ? `is not valid JSON (${printParseErrorCode(e.error)})` : 'is empty: a catalog is {"models": [...]}',
        fix: e ? { kind: 'catalogSyntax' } : undefined,
        range: e ? locator.range(e.offset, e.length) : undefined,
      }],
    };
  }
  return validateParsed(JSON.parse(text) as unknown, origin, locator);
}

interface ParsedCatalog {
  models: ModelEntry[];
  problems: CatalogProblem[];
  /** Where each model sits in its file, so problems found while merging can point at it. */
  where?: (model: ModelEntry, ...rest: (string | number)[]) => { jsonPath: string; range?: TextRange };
}

function validateParsed(value: unknown, origin: string, locator?: Locator): ParsedCatalog {
  const problems: CatalogProblem[] = [];
  const badModels = new Set<number>();
  let documentBroken = false;
  for (const issue of schemaIssues(value)) {
    problems.push({ origin, jsonPath: formatJsonPath(issue.path), message: issue.message, severity: 'error', range: locator?.rangeOf(issue.path, issue.onKey) });
    if (issue.path[0] === 'models' && typeof issue.path[1] === 'number') badModels.add(issue.path[1]);
    else documentBroken = true;
  }
  if (documentBroken) return { models: [], problems };

  const models: ModelEntry[] = [];
  const firstIndex = new Map<string, number>();
  (value as { models: RawModel[] }).models.forEach((raw, i) => {
    if (badModels.has(i)) return;
    const earlier = firstIndex.get(raw.id);
    if (earlier !== undefined) {
      problems.push({ origin, jsonPath: `models[${i}].id`, severity: 'error', message: `duplicates the id '${raw.id}' of models[${earlier}]; ids must be unique`, range: locator?.rangeOf(['models', i, 'id']) });
      return;
    }
    const paths = new Set<string>();
    for (const [j, f] of raw.files.entries()) {
      // Two files that differ only in case collide on Windows and macOS.
      const key = f.path.toLowerCase();
      if (paths.has(key)) {
        problems.push({ origin, jsonPath: `models[${i}].files[${j}].path`, severity: 'error', message: `'${f.path}' is listed twice in this model`, range: locator?.rangeOf(['models', i, 'files', j, 'path']) });
        return;
      }
      paths.add(key);
    }
    firstIndex.set(raw.id, i);
    models.push(toEntry(raw, origin));
  });
  const where = (model: ModelEntry, ...rest: (string | number)[]) => {
    const path = ['models', firstIndex.get(model.id) ?? 0, ...rest];
    return { jsonPath: formatJsonPath(path), range: locator?.rangeOf(path) };
  };
  return { models, problems, where };
}

export type FetchText = (url: string) => Promise<string>;

async function defaultFetchText(url: string): Promise<string> {
  const { default: got } = await import('got');
  return got(url, { http2: false, timeout: { request: 20_000 }, retry: { limit: 2 }, agent: await proxyAgents(new URL(url)) }).text();
}

/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY for catalog URLs, as the download client honours them (core/proxy).
 * The proxy-agent packages: maintained (TooTallNate/proxy-agents, used by npm and VS Code), and got takes
 * node:http agents, so a CONNECT tunnel need not be written twice.
 */
async function proxyAgents(url: URL): Promise<Agents> {
  const proxy = proxyFor(url);
  if (!proxy) return {};
  if (url.protocol === 'https:') {
    const { HttpsProxyAgent } = await import('https-proxy-agent');
    return { https: new HttpsProxyAgent(proxy) };
  }
  const { HttpProxyAgent } = await import('http-proxy-agent');
  return { http: new HttpProxyAgent(proxy) };
}

export interface LoadOptions {
  readonly fetchText?: FetchText;
  /** Where the last good copy of each URL catalog is kept, so its models stay listed while offline. */
  readonly cacheDir?: string;
}

function cacheFile(cacheDir: string, url: string): string {
  return path.join(cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 24)}.json`);
}

async function fetchCatalog(url: string, origin: string, options: LoadOptions): Promise<ParsedCatalog> {
  try {
    const text = await (options.fetchText ?? defaultFetchText)(url);
    const parsed = parseCatalog(text, origin);
    if (options.cacheDir && parsed.problems.length === 0) await writeFileAtomic(cacheFile(options.cacheDir, url), text).catch(() => undefined);
    return parsed;
  } catch (err) {
    const reason = `could not be fetched (${(err as Error).message})`;
    const cached = options.cacheDir ? await readFile(cacheFile(options.cacheDir, url), 'utf8').catch(() => undefined) : undefined;
    if (cached === undefined) {
      return { models: [], problems: [{ origin, jsonPath: DOCUMENT_PATH, severity: 'error', message: reason, fix: { kind: 'catalogUrl' } }] };
    }
    // Offline is not a reason to hide models that are already downloaded: use the last good copy.
    const parsed = parseCatalog(cached, origin);
    return { ...parsed, problems: [...parsed.problems, { origin, jsonPath: DOCUMENT_PATH, severity: 'warning', message: reason, fix: { kind: 'catalogOffline' } }] };
  }
}

async function readSource(source: CatalogSource, options: LoadOptions): Promise<ParsedCatalog> {
  const origin = sourceOrigin(source);
  if (source.kind === 'builtin') return validateParsed(builtinCatalog, origin);
  if (source.kind === 'url') {
    if (!/^https?:\/\//i.test(source.url)) {
      return { models: [], problems: [{ origin, jsonPath: DOCUMENT_PATH, severity: 'error', message: 'is not an http(s) URL; catalogs come from files or http(s) URLs' }] };
    }
    return fetchCatalog(source.url, origin, options);
  }
  let text: string;
  try {
    text = await readFile(source.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT';
    const reason = missing ? 'does not exist' : `could not be read (${(err as Error).message})`;
    return { models: [], problems: [{ origin, jsonPath: DOCUMENT_PATH, severity: 'error', message: reason, fix: missing ? { kind: 'catalogPath' } : undefined }] };
  }
  return parseCatalog(text, origin);
}

/**
 * Loads and merges catalogs in order. An id defined twice is an error that names both places — except
 * that a catalog may override a built-in model. A broken catalog never stops the others from loading.
 */
export async function loadCatalogs(sources: readonly CatalogSource[], options: LoadOptions = {}): Promise<CatalogLoadResult> {
  const results = await Promise.all(sources.map((s) => readSource(s, options)));
  const models: ModelEntry[] = [];
  const problems: CatalogProblem[] = [];
  const byId = new Map<string, ModelEntry>();
  const whereOf = new Map<ModelEntry, ParsedCatalog['where']>();
  results.forEach((r, i) => {
    problems.push(...r.problems);
    const origin = sourceOrigin(sources[i]);
    for (const m of r.models) {
      whereOf.set(m, r.where);
      const prev = byId.get(m.id);
      // A catalog may override a built-in model, whichever order they load in.
      if (prev && m.origin === BUILTIN_ORIGIN) continue;
      if (prev && prev.origin !== BUILTIN_ORIGIN) {
        const at = r.where?.(m, 'id') ?? { jsonPath: 'id' };
        problems.push({ origin, ...at, severity: 'error', message: `duplicates the id '${m.id}' already defined in ${prev.origin}; rename one of them` });
        continue;
      }
      if (prev) models.splice(models.indexOf(prev), 1);
      byId.set(m.id, m);
      models.push(m);
    }
  });
  for (const m of models) {
    for (const alt of m.alternatives) {
      if (!byId.has(alt)) {
        const at = whereOf.get(m)?.(m, 'alternatives', m.alternatives.indexOf(alt)) ?? { jsonPath: 'alternatives' };
        problems.push({ origin: m.origin, ...at, severity: 'warning', message: `names '${alt}', which no catalog defines` });
      }
    }
  }
  return { models, problems, origins: sources.map(sourceOrigin) };
}
