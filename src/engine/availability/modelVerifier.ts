import { promises as fs } from 'node:fs';
import type { ModelEntry } from '../catalog/catalogTypes';
import { updateManifestFiles } from '../store/manifestWriter';
import { loadManifest } from '../store/storeScanner';
import { partPath, type ManifestFile, type StoreLayout } from '../store/storeLayout';
import { PIECE_ALGORITHM } from '../transfer/pieceDigest';
import { hashPieces, type PieceHashResult } from '../transfer/pieceHasher';

/** What a full check found for one file. */
export type FileCheckStatus = 'ok' | 'unverifiable' | 'missing' | 'incomplete' | 'truncated' | 'grown' | 'changed';

export interface FileCheck {
  readonly path: string;
  readonly localPath: string;
  readonly status: FileCheckStatus;
  /** Indices of the pieces whose digest differs from the manifest (status `changed`). */
  readonly changedPieces?: readonly number[];
  readonly pieceCount?: number;
  readonly pieceSize?: number;
  /** Bytes on disk. */
  readonly size?: number;
  readonly expectedSize?: number;
  readonly sha256?: string;
  readonly expectedSha256?: string;
  readonly message: string;
}

export interface CheckProgress {
  readonly bytesDone: number;
  readonly totalBytes: number;
  readonly file?: string;
}

export interface VerifyOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: CheckProgress) => void;
  /** Sleep between pieces (background checks). */
  readonly pauseBetweenPiecesMs?: number;
}

export interface ModelCheck {
  readonly files: readonly FileCheck[];
  readonly manifestError?: string;
}

interface Target {
  readonly path: string;
  readonly localPath: string;
  readonly entry?: ManifestFile;
  readonly catalogSha256?: string;
  readonly size?: number;
}

/**
 * The full check: the sha256 of each whole file and, where it differs, the digest of every piece (to name the
 * changed ones), in worker threads, against the manifest.
 * It records the outcome in the manifest — verifiedAt for good files, the changed pieces for damaged ones
 * (so the damage survives a restart and a repair knows what to fetch). An unreadable manifest is reported
 * and left alone: only a repair rewrites it.
 */
export async function checkModel(layout: StoreLayout, model: ModelEntry, opts: VerifyOptions = {}): Promise<ModelCheck> {
  const { manifest, error: manifestError } = await loadManifest(layout, model.id, model.version);
  const targets: Target[] = [];
  for (const f of model.files) {
    const localPath = layout.filePath(model.id, model.version, f.path);
    const found = manifest?.files.find((m) => m.path === f.path);
    const entry = found && (f.sha256 === undefined || found.sha256 === f.sha256.toLowerCase()) ? found : undefined;
    const size = await fs.stat(localPath).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
    targets.push({ path: f.path, localPath, entry, catalogSha256: f.sha256?.toLowerCase(), size });
  }
  const totalBytes = targets.reduce((s, t) => s + (needsHash(t) ? (t.size ?? 0) : 0), 0);
  let before = 0;
  const files: FileCheck[] = [];
  const rehashed = new Map<string, PieceHashResult>();
  for (const t of targets) {
    files.push(await checkFile(t, opts, rehashed, (done) => opts.onProgress?.({ bytesDone: before + done, totalBytes, file: t.path })));
    if (needsHash(t)) before += t.size ?? 0;
  }
  opts.onProgress?.({ bytesDone: totalBytes, totalBytes });
  if (!manifestError) await recordCheck(layout, model, targets, files, rehashed);
  return { files, manifestError };
}

/** Hashed: an installed file of the right size, or a file with no manifest entry that the catalog's sha256 can prove. */
function needsHash(t: Target): boolean {
  if (t.size === undefined) return false;
  return t.entry ? t.size === t.entry.size : t.catalogSha256 !== undefined;
}

/** `rehashed` gets the pieces in the current algorithm of each file whose manifest has older ones (recorded if it verifies). */
async function checkFile(t: Target, opts: VerifyOptions, rehashed: Map<string, PieceHashResult>, onBytes: (done: number) => void): Promise<FileCheck> {
  const base = { path: t.path, localPath: t.localPath, size: t.size, expectedSize: t.entry?.size, expectedSha256: t.entry?.sha256 ?? t.catalogSha256 };
  if (t.size === undefined) {
    const partial = await fs.stat(partPath(t.localPath)).then(() => true, () => false);
    return partial
      ? { ...base, status: 'incomplete', message: `${t.path} is incomplete (partial data on disk)` }
      : { ...base, status: 'missing', message: `${t.path} is missing` };
  }
  const { entry } = t;
  if (!entry) {
    if (!t.catalogSha256) return { ...base, status: 'missing', message: `${t.path} is on disk but not in the manifest, and the catalog has no sha256 to check it against` };
    const { sha256 } = await hashPieces({ file: t.localPath, size: t.size, pieceSize: Math.max(1, t.size), whole: true, pieces: false, ...hashOptions(opts, onBytes) });
    return sha256 === t.catalogSha256
      ? { ...base, sha256, status: 'ok', message: `${t.path} matches the catalog's sha256 (not in the manifest: repair records it)` }
      : { ...base, sha256, status: 'changed', message: `${t.path} does not match the catalog's sha256` };
  }
  if (t.size < entry.size) return { ...base, status: 'truncated', message: `${t.path} is truncated: ${t.size} of ${entry.size} bytes` };
  if (t.size > entry.size) return { ...base, status: 'grown', message: `${t.path} is longer than it should be: ${t.size} instead of ${entry.size} bytes` };
  const pieceAlgorithm = entry.pieceAlgorithm ?? 'sha256';
  // Pieces of an older algorithm are hashed anew alongside (a second worker, a much cheaper hash than sha256).
  const rehash = pieceAlgorithm !== PIECE_ALGORITHM;
  const whole = await hashPieces({ file: t.localPath, size: entry.size, pieceSize: entry.pieceSize, whole: true, pieces: rehash, ...hashOptions(opts, onBytes) });
  const { sha256 } = whole;
  if (rehash && sha256 === entry.sha256) rehashed.set(t.path, whole);
  const changedPieces: number[] = [];
  // The manifest's piece hashes were taken from the content whose sha256 it records: when the whole file
  // matches, every piece does. Only a mismatch needs the piece hashes, to name the changed pieces — so a
  // healthy file costs one sha256 pass, the same work as `openssl dgst -sha256`.
  if (sha256 !== entry.sha256) {
    const hashed = await hashPieces({ file: t.localPath, size: entry.size, pieceSize: entry.pieceSize, pieceAlgorithm, whole: false, pieces: true, signal: opts.signal, pauseBetweenPiecesMs: opts.pauseBetweenPiecesMs });
    changedPieces.push(...entry.pieces.map((h, i) => (hashed.pieces[i] === h ? -1 : i)).filter((i) => i >= 0));
    // A whole-file mismatch with every piece intact means an inconsistent manifest: then no piece can be trusted.
    if (changedPieces.length === 0) changedPieces.push(...entry.pieces.map((_, i) => i));
  }
  const pieces = { pieceCount: entry.pieces.length, pieceSize: entry.pieceSize, sha256 };
  if (changedPieces.length > 0) {
    return {
      ...base, ...pieces, status: 'changed', changedPieces,
      message: `${t.path} is corrupt: ${changedPieces.length} of ${entry.pieces.length} pieces changed (${describePieces(changedPieces)})`,
    };
  }
  return entry.sha256Expected
    ? { ...base, ...pieces, status: 'ok', message: `${t.path} verified` }
    : { ...base, ...pieces, status: 'unverifiable', message: `${t.path} matches what was downloaded, but the catalog has no sha256 for it (unverifiable)` };
}

function hashOptions(opts: VerifyOptions, onBytes: (done: number) => void): { signal?: AbortSignal; onProgress: (n: number) => void; pauseBetweenPiecesMs?: number } {
  return { signal: opts.signal, onProgress: onBytes, pauseBetweenPiecesMs: opts.pauseBetweenPiecesMs };
}

async function recordCheck(layout: StoreLayout, model: ModelEntry, targets: readonly Target[], files: readonly FileCheck[], rehashed: ReadonlyMap<string, PieceHashResult>): Promise<void> {
  const now = new Date().toISOString();
  const outcome = new Map<string, FileCheck>();
  targets.forEach((t, i) => { if (t.entry) outcome.set(t.path, files[i]); });
  if (outcome.size === 0) return;
  await updateManifestFiles(layout, model.id, model.version, (current) => current.map((f) => {
    const check = outcome.get(f.path);
    if (!check || f.sha256 !== check.expectedSha256) return f;
    if (check.status === 'ok' || check.status === 'unverifiable') {
      const current = rehashed.get(f.path);
      const pieces = current ? { pieces: current.pieces, pieceAlgorithm: current.pieceAlgorithm } : {};
      return { ...f, ...pieces, verifiedAt: now, damagedPieces: undefined };
    }
    if (check.status === 'changed') return { ...f, damagedPieces: check.changedPieces };
    return f;
  }));
}

/** "3, 7-9, 12" — at most a few runs, then a count. */
export function describePieces(indices: readonly number[]): string {
  const runs: string[] = [];
  for (let k = 0; k < indices.length;) {
    let j = k;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    runs.push(j === k ? `${indices[k]}` : `${indices[k]}-${indices[j]}`);
    k = j + 1;
  }
  return runs.length > 6 ? `${runs.slice(0, 6).join(', ')}, …` : runs.join(', ');
}
