import { constants, promises as fs } from 'node:fs';
import type { ModelFile } from '../catalog/catalogTypes';
import { formatBytes } from '../core/format';
import { copyWithProgress } from '../store/fileCopy';
import { discoverModels } from '../store/foreign/discovery';
import { SOURCE_NAMES, type ForeignLocation, type FoundFile } from '../store/foreign/foundFile';
import { gitBlobSha1 } from '../store/foreign/hfCache';
import { partPath, type PieceAlgorithm } from '../store/storeLayout';
import { hashPieces } from '../transfer/pieceHasher';
import type { Logger } from '../transfer/settings';

/** How a found file was put into the store: a copy-on-write clone, a second name for the same bytes, or a copy. */
export type AdoptionMethod = 'reflink' | 'hardlink' | 'copy';

/** What a store file must be, as far as the catalog (and, when it was asked, the hub) tells. */
export interface WantedFile {
  readonly file: ModelFile;
  readonly sha256?: string;
  readonly size?: number;
  /** The commit the hub resolved the catalog's revision to. */
  readonly commit?: string;
}

/** How a found file matches: its sha256 is known equal; the same hub repo, path and commit; or only the size (hashing decides). */
export type MatchKind = 'sha256' | 'hub' | 'size';

export function matchOf(wanted: WantedFile, found: FoundFile): MatchKind | undefined {
  if (wanted.size !== undefined && wanted.size !== found.size) return undefined;
  if (wanted.sha256 && found.sha256) return wanted.sha256 === found.sha256 ? 'sha256' : undefined;
  const source = wanted.file.source;
  if (source.kind === 'hf' && found.hub?.repo === source.repo && found.hub.path === source.file) {
    const sameCommit = wanted.commit ? found.hub.commit === wanted.commit : found.hub.commit === source.revision || found.hub.refs.includes(source.revision);
    if (sameCommit) return 'hub';
  }
  return wanted.sha256 && wanted.size !== undefined && found.sha256 === undefined ? 'size' : undefined;
}

const RANK: Record<MatchKind, number> = { sha256: 0, hub: 1, size: 2 };

/** The found files that may be this file, best first. */
export function candidatesFor(wanted: WantedFile, found: readonly FoundFile[]): FoundFile[] {
  return found
    .map((f) => ({ f, kind: matchOf(wanted, f) }))
    .filter((c): c is { f: FoundFile; kind: MatchKind } => c.kind !== undefined)
    .sort((a, b) => RANK[a.kind] - RANK[b.kind])
    .map((c) => c.f);
}

export interface AdoptedFile {
  readonly found: FoundFile;
  readonly method: AdoptionMethod;
  /** Extra disk the store now uses for it: 0 for a reflink or a hard link. */
  readonly bytesCopied: number;
  readonly size: number;
  readonly sha256: string;
  /** The sha256 was checked against one the catalog, the hub or the other tool's layout promised. */
  readonly sha256Expected: boolean;
  readonly pieceSize: number;
  readonly pieces: string[];
  readonly pieceAlgorithm: PieceAlgorithm;
}

export interface AdoptOptions {
  readonly modelId: string;
  readonly pieceSize: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Asked before a byte-by-byte copy (no reflink, other device), with its size; false skips that file. */
  readonly allowCopy: (bytes: number) => Promise<boolean>;
  readonly onBytes?: (done: number) => void;
}

/**
 * Puts the first candidate that verifies at `finalPath`: a reflink where the filesystem can, else a hard
 * link on the same device, else a copy — never a symlink, never a write to the other tool's file. Every
 * byte is hashed (sha256 and piece hashes) before it counts; a candidate that does not match what it should
 * be is refused and the next one tried. Undefined when none was adopted.
 */
export async function adoptFirstMatch(wanted: WantedFile, candidates: readonly FoundFile[], finalPath: string, opts: AdoptOptions): Promise<AdoptedFile | undefined> {
  const temp = `${finalPath}.import.tmp`;
  for (const found of candidates) {
    opts.signal?.throwIfAborted();
    try {
      const method = await place(found, temp, opts);
      if (!method) continue;
      const verified = await verifyPlaced(temp, found, wanted.sha256 ?? found.sha256, opts);
      if (typeof verified === 'string') {
        opts.logger.warn(`refused ${found.path} from ${SOURCE_NAMES[found.source]}: ${verified}`, opts.modelId);
        continue;
      }
      await fs.rename(temp, finalPath);
      return { found, method, bytesCopied: method === 'copy' ? found.size : 0, size: found.size, pieceSize: opts.pieceSize, ...verified };
    } finally {
      await fs.rm(temp, { force: true });
    }
  }
  return undefined;
}

async function place(found: FoundFile, target: string, opts: AdoptOptions): Promise<AdoptionMethod | undefined> {
  await fs.rm(target, { force: true });
  try {
    await fs.copyFile(found.path, target, constants.COPYFILE_FICLONE_FORCE);
    return 'reflink';
  } catch {
    // This filesystem cannot clone; a hard link or a copy it is.
  }
  try {
    await fs.link(found.path, target);
    return 'hardlink';
  } catch {
    // Another device, or a file we may not link (protected_hardlinks).
  }
  if (!(await opts.allowCopy(found.size))) return undefined;
  await copyWithProgress(found.path, target, opts.signal, (n) => opts.onBytes?.(n));
  return 'copy';
}

async function verifyPlaced(file: string, found: FoundFile, expected: string | undefined, opts: AdoptOptions): Promise<Pick<AdoptedFile, 'sha256' | 'sha256Expected' | 'pieces' | 'pieceAlgorithm'> | string> {
  const { size } = await fs.stat(file);
  if (size !== found.size) return `it changed while it was read (${size} instead of ${found.size} bytes)`;
  const hashed = await hashPieces({ file, size, pieceSize: opts.pieceSize, whole: true, pieces: true, signal: opts.signal, onProgress: opts.onBytes });
  const sha256 = hashed.sha256 ?? '';
  if (expected && sha256 === expected) return { sha256, sha256Expected: true, pieces: hashed.pieces, pieceAlgorithm: hashed.pieceAlgorithm };
  // Named by that sha256 (a cache blob, an Ollama digest) yet other bytes: damaged. Matched by size only: another file.
  if (expected) return `its sha256 is ${sha256}, not ${expected}${found.sha256 ? ' (a damaged copy)' : ' (another file of the same size)'}`;
  const gitSha1 = found.hub?.gitSha1;
  if (gitSha1) {
    return (await gitBlobSha1(file, opts.signal)) === gitSha1 ? { sha256, sha256Expected: false, pieces: hashed.pieces, pieceAlgorithm: hashed.pieceAlgorithm } : `it does not match its git blob id ${gitSha1} (a damaged copy)`;
  }
  return 'nothing tells what its content should be';
}

/** "found in the Hugging Face cache: linked, 0 bytes downloaded" */
export function describeAdoption(a: AdoptedFile): string {
  const how = a.method === 'hardlink' ? 'linked (hard link, no extra disk)'
    : a.method === 'reflink' ? 'cloned (copy-on-write, no extra disk)' : `copied (${formatBytes(a.bytesCopied)} of disk)`;
  return `found in ${SOURCE_NAMES[a.found.source]} (${a.found.path}): ${how}, verified, 0 bytes downloaded`;
}

/**
 * Before a download: a verified copy of this file from another tool's store on this machine, put in place
 * of the download. Undefined when none is found or verifies.
 */
export async function reuseLocalCopy(locations: readonly ForeignLocation[], wanted: WantedFile, finalPath: string, opts: Omit<AdoptOptions, 'allowCopy'>): Promise<AdoptedFile | undefined> {
  // An installed (perhaps damaged) copy is repaired where it is, and partial data resumes: neither is replaced.
  const onDisk = async (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
  if (locations.length === 0 || (await onDisk(finalPath)) || (await onDisk(partPath(finalPath)))) return undefined;
  const candidates = candidatesFor(wanted, (await discoverModels(locations)).flatMap((m) => m.files));
  if (candidates.length === 0) return undefined;
  // A copy from this machine writes the same bytes a download would, only without the network.
  const adopted = await adoptFirstMatch(wanted, candidates, finalPath, { ...opts, allowCopy: async () => true });
  if (!adopted) {
    opts.logger.info(`${wanted.file.path}: no copy on this machine verified; downloading it`, opts.modelId);
    return undefined;
  }
  opts.logger.info(`${wanted.file.path}: ${describeAdoption(adopted)}`, opts.modelId);
  return adopted;
}
