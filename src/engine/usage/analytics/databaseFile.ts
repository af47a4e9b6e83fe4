import { promises as fs, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { acquireLock } from '../../store/crossProcessLock';

/** Identifies one version of the file on disk; every save renames a new inode into place. */
export type FileStamp = string;

/** The stamp of `file`, or undefined when it does not exist. */
export async function fileStamp(file: string): Promise<FileStamp | undefined> {
  try {
    return stampOf(await fs.stat(file, { bigint: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Temp files left by a process killed mid-save; only safe to call while holding the lock. */
export async function removeOrphanTemps(file: string): Promise<void> {
  const prefix = `${path.basename(file)}.`;
  const names = await fs.readdir(path.dirname(file)).catch(() => [] as string[]);
  await Promise.all(names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'))
    .map((n) => fs.rm(path.join(path.dirname(file), n), { force: true })));
}

/** Renames an unreadable database out of the way (kept for inspection) and returns its new path. */
export async function moveAside(file: string, now: number): Promise<string> {
  const target = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(file, target);
  return target;
}

/** Deletes the copies that `moveAside` kept. */
export async function removeMovedAside(file: string): Promise<void> {
  const prefix = `${path.basename(file)}.corrupt-`;
  const names = await fs.readdir(path.dirname(file)).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => fs.rm(path.join(path.dirname(file), n), { force: true })));
}

export interface FileLockOptions {
  /** A lock not refreshed for this long is considered left by a dead process and taken over (min 2000). */
  readonly staleMs: number;
  /** How long to wait for another process's lock before giving up. */
  readonly waitMs: number;
}

/**
 * Runs `body` holding the cross-process lock of `file` (a `<file>.lock` folder refreshed by
 * proper-lockfile). `body` receives a check that throws once the lock was lost, to call before any write
 * that would clobber another holder's.
 */
export async function withFileLock<T>(file: string, opts: FileLockOptions, body: (assertHeld: () => void) => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const lock = await acquireLock(file, {
    lockfilePath: `${file}.lock`,
    staleMs: opts.staleMs,
    retries: { retries: Math.max(1, Math.ceil(opts.waitMs / 100)), factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true },
  });
  try {
    return await body(() => lock.lost.throwIfAborted());
  } finally {
    await lock.release();
  }
}

/** The file's bytes with the stamp of exactly those bytes (read through one handle), or undefined when absent. */
export async function readWithStamp(file: string): Promise<{ readonly bytes: Uint8Array; readonly stamp: FileStamp } | undefined> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const s = await fh.stat({ bigint: true });
    const bytes = await fh.readFile();
    return { bytes, stamp: stampOf(s) };
  } finally {
    await fh.close();
  }
}

function stampOf(s: BigIntStats): FileStamp {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}
