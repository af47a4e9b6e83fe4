import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** File-system seams, so tests can inject a full disk. */
export interface TransferIo {
  /** Writes `chunks`, one after the other, from `position`. */
  write(fh: FileHandle, chunks: readonly Buffer[], position: number): Promise<void>;
  freeBytes(dir: string): Promise<number>;
}

export const NODE_IO: TransferIo = {
  async write(fh, chunks, position) {
    let pending = chunks.filter((c) => c.length > 0);
    let at = position;
    while (pending.length > 0) {
      const { bytesWritten } = await fh.writev(pending, at);
      if (bytesWritten <= 0) throw new Error(`no bytes written at offset ${at}`);
      at += bytesWritten;
      // A short write leaves the rest of the chunks for the next call.
      let left = bytesWritten;
      while (left > 0 && pending.length > 0) {
        if (pending[0].length <= left) {
          left -= pending[0].length;
          pending = pending.slice(1);
        } else {
          pending = [pending[0].subarray(left), ...pending.slice(1)];
          left = 0;
        }
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
