import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Copies a file byte by byte with progress (cancellable through `signal`), and fsyncs the copy. */
export async function copyWithProgress(source: string, target: string, signal: AbortSignal | undefined, onBytes: (copied: number) => void): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  let copied = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      copied += chunk.length;
      onBytes(copied);
      callback(null, chunk);
    },
  });
  await pipeline(createReadStream(source, { highWaterMark: 4 * 1024 * 1024 }), counter, createWriteStream(target), { signal });
  const fh = await fs.open(target, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
