// Test data for the benchmarks: large files of varied bytes (nothing to deduplicate or compress) and their sha256.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export async function makeFile(file, size) {
  const out = createWriteStream(file);
  const block = randomBytes(4 * MiB);
  for (let written = 0; written < size; written += block.length) {
    block.writeUInt32LE(written / block.length, 0);
    if (!out.write(block.subarray(0, Math.min(block.length, size - written)))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

export async function sha256(file) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(chunk);
  return h.digest('hex');
}

export const fmt = (n, d = 2) => n.toFixed(d);
export const verdict = (ok) => (ok ? 'PASS' : 'MISS');
