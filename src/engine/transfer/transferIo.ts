import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DownloadError } from '../core/downloadError';
import { formatBytes } from '../core/format';

/** The file-system seam, so tests can make a disk look full before a download starts. */
export interface TransferIo {
  freeBytes(dir: string): Promise<number>;
}

export const NODE_IO: TransferIo = {
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
