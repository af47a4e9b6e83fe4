import { promises as fs } from 'node:fs';
import * as path from 'node:path';

let tempCounter = 0;

/**
 * Writes a file so that a reader, or a process killed at any instant, sees the old or the new bytes, never
 * a mix: temp file, fsync, rename, then fsync of the folder so the rename itself is durable.
 * `beforeRename` may veto the rename by throwing (e.g. a lock was lost meanwhile). On any failure the temp file goes.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: { beforeRename?: () => void } = {}): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${++tempCounter}.tmp`;
  try {
    const fh = await fs.open(temp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    opts.beforeRename?.();
    await fs.rename(temp, target);
  } catch (err) {
    // A full disk fails the write: the temp file goes, the old target stays as it was.
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncFolder(path.dirname(target));
}

async function syncFolder(folder: string): Promise<void> {
  try {
    const fh = await fs.open(folder, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Windows cannot open or fsync a folder; its rename is durable enough on NTFS.
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Reads JSON, returning undefined when the file is absent or unreadable (callers treat both as "no state"). */
export async function readJsonIfPresent(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
