import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../core/format';
import { hashPieces } from '../transfer/pieceHasher';
import { OperationRefusedError } from '../core/operationRefused';
import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import { isModelManifest } from '../store/storeLayout';
import { copyWithProgress } from '../store/fileCopy';
import type { UseGuard } from './useGuard';

export interface MoveProgress {
  readonly phase: 'copy' | 'delete';
  readonly bytesDone: number;
  readonly totalBytes: number;
  readonly file?: string;
}

export interface MoveStoreOptions {
  /** The engine's use guard (`engine.uses`): the move is refused while a model is in use, and holds it meanwhile. */
  readonly uses: UseGuard;
  /**
   * Called once everything is copied and verified, before the old copy is deleted: switch the
   * storage setting (and the engine) to the new folder here. If it throws, the old copy stays.
   */
  readonly commit: () => Promise<void>;
  readonly onProgress?: (p: MoveProgress) => void;
  readonly signal?: AbortSignal;
  /** Test seam: free bytes in a folder (default fs.statfs). */
  readonly freeBytes?: (dir: string) => Promise<number>;
}

export interface MoveResult {
  readonly files: number;
  readonly bytes: number;
  /** Bytes copied by this run (less than `bytes` when an interrupted move resumed). */
  readonly bytesCopied: number;
}

/** In the target: what an interrupted move already copied and verified, so a second run resumes. */
export const MOVE_MARKER = '.model-availability-move.json';
const MARGIN_BYTES = 16 * 1024 * 1024;

interface MoveMarker {
  readonly formatVersion: 1;
  readonly from: string;
  /** Relative path → size, for files copied and verified. */
  readonly done: Record<string, number>;
  /** Everything was copied; only the switch and the deletion of the old copy may remain. */
  readonly copied: boolean;
}

interface SourceFile {
  readonly rel: string;
  readonly size: number;
}

/**
 * Moves a store to another folder or disk: copy every file, verify each model file's sha256 against its
 * manifest, let the caller switch to the new folder, then delete the old copy (only the files it copied).
 * Resumable: the marker in the target lists what is done. Refuses a target inside the source and a
 * target without enough free space. The caller pauses downloads first.
 */
export async function moveStore(fromRoot: string, toRoot: string, opts: MoveStoreOptions): Promise<MoveResult> {
  const inUse = opts.uses.reasonAgainstMove();
  if (inUse) throw new OperationRefusedError('inUse', `cannot move the storage: ${inUse}; move it once they are released`);
  // Background checks and repairs must not write into the old folder while it is copied.
  const moving = opts.uses.register({ kind: 'move' });
  try {
    return await copyVerifySwitch(fromRoot, toRoot, opts);
  } finally {
    moving.dispose();
  }
}

async function copyVerifySwitch(fromRoot: string, toRoot: string, opts: MoveStoreOptions): Promise<MoveResult> {
  const from = await realpathOrResolve(fromRoot);
  const to = await realpathOrResolve(toRoot);
  const rel = path.relative(from, to);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
    throw new OperationRefusedError('badTarget', `the new storage folder ${toRoot} must not be the current one or inside it`);
  }
  const files = await listFiles(from);
  const markerPath = path.join(to, MOVE_MARKER);
  const saved = await readJsonIfPresent(markerPath) as Partial<MoveMarker> | undefined;
  const done: Record<string, number> = saved?.formatVersion === 1 && saved.from === from && saved.done ? { ...saved.done } : {};
  const pending = files.filter((f) => done[f.rel] !== f.size);
  const needed = pending.reduce((s, f) => s + f.size, 0);
  const free = await (opts.freeBytes ?? statfsFree)(await nearestExisting(to));
  if (free < needed + MARGIN_BYTES) {
    throw new OperationRefusedError('noSpace', `not enough free space in ${toRoot}: ${formatBytes(needed + MARGIN_BYTES)} needed, ${formatBytes(free)} free`);
  }
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  const expected = await manifestHashes(from, files);
  let bytesDone = totalBytes - needed;
  let bytesCopied = 0;
  await fs.mkdir(to, { recursive: true });
  for (const f of pending) {
    opts.signal?.throwIfAborted();
    await copyFile(path.join(from, f.rel), path.join(to, f.rel), opts.signal, (n) => {
      opts.onProgress?.({ phase: 'copy', bytesDone: bytesDone + n, totalBytes, file: f.rel });
    });
    const sha = expected.get(f.rel);
    if (sha) {
      const { sha256 } = await hashPieces({ file: path.join(to, f.rel), size: f.size, pieceSize: Math.max(1, f.size), whole: true, pieces: false, signal: opts.signal });
      if (sha256 !== sha) {
        await fs.rm(path.join(to, f.rel), { force: true });
        throw new Error(`${f.rel} does not match its manifest's sha256 after copying; verify and repair the model before moving the store`);
      }
    }
    bytesDone += f.size;
    bytesCopied += f.size;
    done[f.rel] = f.size;
    await writeJsonAtomic(markerPath, { formatVersion: 1, from, done, copied: false } satisfies MoveMarker);
  }
  await writeJsonAtomic(markerPath, { formatVersion: 1, from, done, copied: true } satisfies MoveMarker);
  await opts.commit();
  let deleted = 0;
  for (const f of files) {
    await fs.rm(path.join(from, f.rel), { force: true });
    deleted += f.size;
    opts.onProgress?.({ phase: 'delete', bytesDone: deleted, totalBytes, file: f.rel });
  }
  await removeEmptyDirs(from, files);
  await fs.rm(markerPath, { force: true });
  return { files: files.length, bytes: totalBytes, bytesCopied };
}

/** Every file under the root, except lock folders and temp files that belong to running processes. */
async function listFiles(root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.name.endsWith('.lock') || entry.name.endsWith('.tmp') || entry.name.endsWith('.moving') || entry.name === MOVE_MARKER) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push({ rel: path.relative(root, full), size: (await fs.stat(full)).size });
    }
  };
  // Only what the store owns: its root may be a folder with other things in it (the extension's global
  // storage holds the analytics database and the catalog cache beside models/).
  await walk(path.join(root, 'models'));
  const queue = path.join(root, 'queue.json');
  const queueSize = await fs.stat(queue).then((st) => (st.isFile() ? st.size : undefined), () => undefined);
  if (queueSize !== undefined) out.push({ rel: 'queue.json', size: queueSize });
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

/** sha256 of each installed model file, by its path relative to the store root. */
async function manifestHashes(root: string, files: readonly SourceFile[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of files) {
    const m = /^models[\\/](.+)[\\/]([^\\/]+)\.manifest\.json$/.exec(f.rel);
    if (!m) continue;
    const manifest = await readJsonIfPresent(path.join(root, f.rel));
    if (!isModelManifest(manifest)) continue;
    for (const entry of manifest.files) out.set(path.join('models', m[1], m[2], ...entry.path.split('/')), entry.sha256);
  }
  return out;
}

/** Copies to `<target>.moving`, fsyncs, then renames: a target file is either absent or complete. */
async function copyFile(source: string, target: string, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
  const temp = `${target}.moving`;
  await copyWithProgress(source, temp, signal, onBytes);
  await fs.rename(temp, target);
}

async function removeEmptyDirs(root: string, files: readonly SourceFile[]): Promise<void> {
  const dirs = new Set<string>();
  for (const f of files) {
    for (let dir = path.dirname(path.join(root, f.rel)); dir.length > root.length; dir = path.dirname(dir)) dirs.add(dir);
  }
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fs.rmdir(dir).catch(() => undefined);
}

async function statfsFree(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

/** The real path of a folder that may not exist yet: its nearest existing ancestor, resolved, plus the rest. */
async function realpathOrResolve(p: string): Promise<string> {
  const abs = path.resolve(p);
  const existing = await nearestExisting(abs);
  return path.join(await fs.realpath(existing), path.relative(existing, abs));
}

async function nearestExisting(p: string): Promise<string> {
  let dir = path.resolve(p);
  while (!(await fs.stat(dir).then(() => true, () => false))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}
