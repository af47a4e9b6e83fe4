import { promises as fs } from 'node:fs';
import type { ModelEntry, ModelFile } from '../catalog/catalogTypes';
import { discoverModels } from '../store/foreign/discovery';
import type { ForeignLocation, FoundFile, FoundModel } from '../store/foreign/foundFile';
import { withFileLock } from '../store/fileLock';
import { recordVerifiedFile } from '../store/manifestWriter';
import { hfEndpoint } from '../transfer/http/huggingFace';
import { hashPieces } from '../transfer/pieceHasher';
import type { Logger } from '../transfer/settings';
import { adoptFirstMatch, matchOf, type AdoptionMethod, type AdoptedFile, type WantedFile } from './adoption';
import type { AvailabilityEngine } from './engine';

/** A catalog file a found file is. */
export interface CatalogMatch {
  readonly modelId: string;
  readonly path: string;
  /** The store already holds it verified: nothing to import. */
  readonly installed: boolean;
}

export interface ImportCandidate {
  readonly found: FoundFile;
  readonly match?: CatalogMatch;
  /** How it would be placed: a hard link when it is on the store's device (or a reflink, which importing tries first), else a copy. */
  readonly method: AdoptionMethod;
}

export interface LocalModels {
  readonly models: readonly FoundModel[];
  readonly candidates: readonly ImportCandidate[];
}

/**
 * The models on this machine in other tools' stores, each file with the catalog file it is. A file the
 * layout gives no sha256 for is hashed only when its size equals a catalog file's.
 */
export async function findLocalModels(engine: AvailabilityEngine, locations: readonly ForeignLocation[], signal?: AbortSignal): Promise<LocalModels> {
  const models = await discoverModels(locations);
  const storeDevice = await fs.mkdir(engine.layout.root, { recursive: true }).then(() => fs.stat(engine.layout.root)).then((s) => s.dev);
  const candidates: ImportCandidate[] = [];
  for (const found of models.flatMap((m) => m.files)) {
    // Gone since the scan (another tool pruned it): not a candidate.
    const device = await fs.stat(found.path).then((s) => s.dev, () => undefined);
    if (device === undefined) continue;
    candidates.push({ found, match: await catalogMatch(engine, found, signal), method: device === storeDevice ? 'hardlink' : 'copy' });
  }
  return { models, candidates };
}

async function catalogMatch(engine: AvailabilityEngine, found: FoundFile, signal?: AbortSignal): Promise<CatalogMatch | undefined> {
  let hashed: string | undefined;
  for (const model of engine.getModels()) {
    for (const file of model.files) {
      const kind = matchOf(wantedOf(file), found);
      if (!kind) continue;
      if (kind === 'size') {
        hashed ??= (await hashPieces({ file: found.path, size: found.size, pieceSize: Math.max(1, found.size), whole: true, pieces: false, signal })).sha256;
        if (hashed !== file.sha256?.toLowerCase()) continue;
      }
      const installed = engine.getModelState(model.id)?.files.find((f) => f.path === file.path)?.state === 'ready';
      return { modelId: model.id, path: file.path, installed };
    }
  }
  return undefined;
}

function wantedOf(file: ModelFile): WantedFile {
  return { file, sha256: file.sha256?.toLowerCase(), size: file.size };
}

export interface ImportOptions {
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Asked before a byte-by-byte copy, with its size. */
  readonly allowCopy: (bytes: number, found: FoundFile) => Promise<boolean>;
  readonly onProgress?: (p: { readonly file: string; readonly bytesDone: number; readonly totalBytes: number }) => void;
}

export interface ImportResult {
  readonly candidate: ImportCandidate;
  readonly adopted?: AdoptedFile;
  /** Why it was not imported (refused as damaged, copy declined, installed meanwhile). */
  readonly problem?: string;
}

/** Adopts each matched, not yet installed file into the store (verified, under the file's download lock), then rescans. */
export async function importCandidates(engine: AvailabilityEngine, candidates: readonly ImportCandidate[], opts: ImportOptions): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  const touched = new Set<string>();
  for (const candidate of candidates) {
    const match = candidate.match;
    if (!match || match.installed) continue;
    const model = engine.getModels().find((m) => m.id === match.modelId);
    const file = model?.files.find((f) => f.path === match.path);
    if (!model || !file) continue;
    touched.add(model.id);
    results.push({ candidate, ...await importFile(engine, model, file, candidate.found, opts) });
  }
  if (touched.size > 0) await engine.refresh([...touched]);
  return results;
}

async function importFile(engine: AvailabilityEngine, model: ModelEntry, file: ModelFile, found: FoundFile, opts: ImportOptions): Promise<Omit<ImportResult, 'candidate'>> {
  const finalPath = engine.layout.filePath(model.id, model.version, file.path);
  const settings = engine.settings.download;
  const outcome = await withFileLock(finalPath, {
    staleMs: 10_000, signal: opts.signal ?? new AbortController().signal, onOtherProgress: () => undefined,
    onWaiting: () => opts.logger.info(`${file.path}: another process is downloading it; waiting`, model.id),
  }, async (signal) => adoptFirstMatch(wantedOf(file), [found], finalPath, {
    modelId: model.id, pieceSize: settings.pieceSizeBytes, logger: opts.logger, signal,
    allowCopy: (bytes) => opts.allowCopy(bytes, found),
    onBytes: (done) => opts.onProgress?.({ file: found.path, bytesDone: done, totalBytes: found.size }),
  }));
  if (outcome.kind === 'installedByOther') return { problem: 'another process installed it meanwhile' };
  const adopted = outcome.value;
  if (!adopted) return { problem: 'not imported: it did not verify, or the copy was declined (see the log)' };
  const now = new Date().toISOString();
  await recordVerifiedFile(engine.layout, model.id, model.version, {
    path: file.path, source: file.source, url: sourceUrl(file, found), size: adopted.size, sha256: adopted.sha256, sha256Expected: adopted.sha256Expected,
    pieceSize: adopted.pieceSize, pieces: adopted.pieces, pieceAlgorithm: adopted.pieceAlgorithm, verifiedAt: now, installedAt: now,
  });
  return { adopted };
}

/** The URL a download of this file would have used (commit-pinned for a hub file found in the cache). */
function sourceUrl(file: ModelFile, found: FoundFile): string {
  if (file.source.kind === 'url') return file.source.url;
  const { repo, revision, file: name } = file.source;
  return `${hfEndpoint()}/${repo}/resolve/${found.hub?.commit ?? revision}/${name.split('/').map(encodeURIComponent).join('/')}`;
}
