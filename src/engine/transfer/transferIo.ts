import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DownloadError } from '../core/downloadError';
import { formatBytes } from '../core/format';

/** File-system seams, so tests can inject a full disk. */
export interface TransferIo {
  /** Writes `chunks`, one after the other, from `position`. */
  write(fh: FileHandle, chunks: readonly Buffer[], position: number): Promise<void>;
  freeBytes(dir: string): Promise<number>;
}

/**
 * The largest single write call. Page-cache writes cost what the folios they fill cost, and a write's length
 * sets their size: on this VM, 1 GiB in 1 MiB writes took 0.4 s of kernel time into memory freed moments
 * before but 1.2-1.9 s into memory that had been free for a few seconds (the usual state; the VM reports free
 * memory to its host, and large folios come from those blocks), while 256 KiB writes took 0.45-0.6 s of
 * CPU in either state, their extra hand-offs to libuv's thread pool included (64 KiB: 1.05-1.15 s).
 */
const MAX_WRITE = 256 * 1024;

export const NODE_IO: TransferIo = {
  async write(fh, chunks, position) {
    let at = position;
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        const { bytesWritten } = await fh.write(chunk, done, Math.min(MAX_WRITE, chunk.length - done), at);
        if (bytesWritten <= 0) throw new Error(`no bytes written at offset ${at}`);
        done += bytesWritten;
        at += bytesWritten;
      }
    }
  },
  async freeBytes(dir) {
    const s = await fs.statfs(dir);
    return s.bavail * s.bsize;
  },
};

export async function openForWrite(file: string): Promise<FileHandle> {
  try {
    return await fs.open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return fs.open(file, 'w+');
  }
}

export async function fileExists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

/** Disk space a file already holds (pieces half-written before a full disk count too); 0 where unknown. */
export async function allocatedBytes(file: string): Promise<number> {
  const s = await fs.stat(file).catch(() => undefined);
  return s && Number.isFinite(s.blocks) ? s.blocks * 512 : 0;
}

/** Throws "disk full" (DownloadError 'diskFull') when `dir`'s file system has less than `needed` bytes free. */
export async function ensureFreeSpace(io: TransferIo, dir: string, needed: number): Promise<void> {
  const free = await io.freeBytes(dir);
  if (free < needed) throw new DownloadError('diskFull', `disk full: ${formatBytes(needed)} needed, ${formatBytes(free)} free`);
}
