import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** File-system seams, so tests can inject a full disk. */
export interface TransferIo {
  write(fh: FileHandle, chunk: Buffer, position: number): Promise<void>;
  freeBytes(dir: string): Promise<number>;
}

/**
 * The largest single write: one slot (1 MiB), so each slot costs one hand-off to libuv's thread pool. Each
 * hand-off wakes a pool thread and then this one; in 256 KiB writes they cost the event loop 0.25 s of CPU
 * per GiB (profile: writeBuffer), in 1 MiB writes a quarter of that. The kernel's own cost of the writes
 * was no different here (1 GiB into the page cache: 0.3-1.1 s of kernel time in 256 KiB writes, 0.7-1.0 s
 * in 1 MiB writes, varying with the state of memory; ext4, kernel 6.18).
 */
const MAX_WRITE = 1024 * 1024;

export const NODE_IO: TransferIo = {
  async write(fh, chunk, position) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, done, Math.min(MAX_WRITE, chunk.length - done), position + done);
      done += bytesWritten;
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
