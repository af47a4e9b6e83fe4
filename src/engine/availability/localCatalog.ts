import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseCatalog } from '../catalog/catalogLoader';
import type { ModelEntry } from '../catalog/catalogTypes';
import { writeJsonAtomic } from '../core/atomicFile';
import { SOURCE_NAMES, type FoundFile, type FoundModel } from '../store/foreign/foundFile';
import { hashPieces } from '../transfer/pieceHasher';

export interface CatalogAddition {
  /** The models written to the catalog file, as the catalog loader reads them back. */
  readonly models: readonly ModelEntry[];
  /** Found models that could not be written, and why. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

type RawFile = { path: string; sha256: string; size: number } & ({ url: string } | { hf: { repo: string; revision: string; file: string } });

/**
 * Writes catalog entries for found models into `file` (created, or extended keeping what it lists): an id,
 * a name, each file's sha256 and size, and where it can be downloaded again — the hub repo and commit for
 * the Hugging Face cache, the registry blob for Ollama, the repository LM Studio's folders are named after.
 * A file whose sha256 the layout does not tell is hashed. A plain folder gives no download source: skipped.
 */
export async function addToCatalogFile(file: string, found: readonly FoundModel[], takenIds: ReadonlySet<string>, signal?: AbortSignal): Promise<CatalogAddition> {
  const existing = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as { models?: unknown[] }, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return { models: [] };
    throw new Error(`cannot read the catalog ${file}: ${err.message}`);
  });
  if (!Array.isArray(existing.models)) throw new Error(`${file} is not a catalog (it has no "models" list)`);
  const ids = new Set([...takenIds, ...existing.models.map((m) => (m as { id?: string }).id ?? '')]);
  const entries: Record<string, unknown>[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const model of found) {
    const files: RawFile[] = [];
    for (const f of model.files) {
      const source = downloadSource(f);
      if (!source) break;
      const sha256 = f.sha256 ?? (await hashPieces({ file: f.path, size: f.size, pieceSize: Math.max(1, f.size), whole: true, pieces: false, signal })).sha256 ?? '';
      files.push({ path: catalogPath(f), sha256, size: f.size, ...source });
    }
    if (files.length < model.files.length) {
      skipped.push({ name: model.name, reason: `no download source is known for files in ${SOURCE_NAMES[model.source]}` });
      continue;
    }
    const id = uniqueId(model.name, ids);
    ids.add(id);
    const hub = model.files[0].hub;
    entries.push({
      id, name: model.name, version: hub ? hub.commit.slice(0, 12) : '1.0.0',
      description: `Found in ${SOURCE_NAMES[model.source]} (${model.root})`,
      ...(files.every((f) => f.path.endsWith('.gguf')) && { format: 'gguf' }),
      files,
    });
  }
  // Only entries the catalog loader accepts are written: a found file name the store cannot hold is named, not saved.
  const parsed = parseCatalog(JSON.stringify({ models: entries }), file);
  entries.forEach((e, i) => {
    if (parsed.models.some((m) => m.id === e.id)) return;
    const problems = parsed.problems.filter((p) => p.jsonPath.startsWith(`models[${i}]`)).map((p) => `${p.jsonPath.replace(`models[${i}].`, '')} ${p.message}`);
    skipped.push({ name: String(e.name), reason: problems.join('; ') || 'the catalog loader refused it' });
  });
  if (parsed.models.length === 0) return { models: [], skipped };
  const accepted = new Set(parsed.models.map((m) => m.id));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeJsonAtomic(file, { ...existing, models: [...existing.models, ...entries.filter((e) => accepted.has(String(e.id)))] });
  return { models: parsed.models, skipped };
}

function downloadSource(f: FoundFile): { url: string } | { hf: { repo: string; revision: string; file: string } } | undefined {
  if (f.hub) return { hf: { repo: f.hub.repo, revision: f.hub.commit, file: f.hub.path } };
  if (f.downloadUrl) return { url: f.downloadUrl };
  // LM Studio keeps a download from the hub as <publisher>/<repo>/<file>.
  const parts = f.name.split('/');
  if (f.source === 'lmstudio' && parts.length >= 3) return { hf: { repo: `${parts[0]}/${parts[1]}`, revision: 'main', file: parts.slice(2).join('/') } };
  return undefined;
}

function catalogPath(f: FoundFile): string {
  return f.hub?.path ?? path.posix.basename(f.name);
}

/** A catalog id from a found name: lower case, only [a-z0-9._-], unique among `taken`. */
function uniqueId(name: string, taken: ReadonlySet<string>): string {
  const base = name.toLowerCase().replace(/@.*$/, '').replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|-+$/g, '') || 'model';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}
