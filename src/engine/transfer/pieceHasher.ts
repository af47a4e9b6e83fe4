import { Worker } from 'node:worker_threads';
import { DownloadError } from '../core/downloadError';
import type { PieceAlgorithm } from '../store/storeLayout';
import { PIECE_ALGORITHM, PIECE_HASH_WORKER_PRELUDE, pieceHashMemory, pieceHashWorkerData } from './pieceDigest';

export interface PieceHashOptions {
  readonly file: string;
  /** Bytes to hash from offset 0; the file must be at least this long. */
  readonly size: number;
  readonly pieceSize: number;
  /** Compute the whole-file sha256. */
  readonly whole: boolean;
  /** Compute each piece's digest. */
  readonly pieces: boolean;
  /** The piece digest: a manifest's own (to compare with it), else the current one. */
  readonly pieceAlgorithm?: PieceAlgorithm;
  readonly signal?: AbortSignal;
  /** Bytes hashed so far (the slower of the two passes). */
  readonly onProgress?: (bytesDone: number) => void;
  /** Sleep this long between pieces, so a background check leaves the disk and CPU to everything else. */
  readonly pauseBetweenPiecesMs?: number;
}

export interface PieceHashResult {
  readonly sha256?: string;
  readonly pieces: string[];
  readonly pieceAlgorithm: PieceAlgorithm;
}

// A source string run with eval, like fileWorkerSource's, so it works the same from tsx tests and the esbuild bundle.
// Double-buffered: the next chunk is read on libuv's thread pool while this thread hashes the last one, so
// a pass takes about as long as the hashing alone rather than reading plus hashing.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pieceHashJob = workerData;
${PIECE_HASH_WORKER_PRELUDE}
const fs = require('node:fs');
const crypto = require('node:crypto');
const { file, size, pieceSize, mode, pauseMs } = workerData;
const PROGRESS_STEP = 8 * 1024 * 1024;
const CHUNK = 2 * 1024 * 1024;
function readChunk(fd, buf, offset, length) {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, length, offset, (err, n) => {
    if (err) reject(err);
    else if (n === 0) reject(new Error('the file is shorter than expected'));
    else resolve(buf.subarray(0, n));
  }));
}
async function run() {
  const fd = fs.openSync(file, 'r');
  try {
    const buffers = [0, 1].map(() => Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size))));
    const whole = mode === 'whole' ? crypto.createHash('sha256') : undefined;
    const pieces = [];
    const sleeper = pauseMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    // The next read: up to CHUNK bytes, never across a piece boundary.
    let next = 0;
    let turn = 0;
    const readNext = () => {
      const pieceEnd = Math.min(size, (Math.floor(next / pieceSize) + 1) * pieceSize);
      const read = readChunk(fd, buffers[turn], next, Math.min(CHUNK, pieceEnd - next));
      turn ^= 1;
      return read;
    };
    let pending = size > 0 ? readNext() : undefined;
    let offset = 0;
    let posted = 0;
    let piece = mode === 'pieces' ? newPieceHash() : undefined;
    while (pending) {
      const view = await pending;
      next = offset + view.length;
      // A short read leaves the rest of this piece for the next read.
      pending = next < size ? readNext() : undefined;
      if (whole) whole.update(view);
      if (piece) piece.update(view);
      offset = next;
      if (offset - posted >= PROGRESS_STEP || offset === size) {
        posted = offset;
        parentPort.postMessage({ type: 'progress', offset });
      }
      if (offset % pieceSize === 0 || offset === size) {
        if (piece) {
          pieces.push(piece.digest());
          piece = offset < size ? newPieceHash() : undefined;
        }
        if (sleeper && offset < size) Atomics.wait(sleeper, 0, 0, pauseMs);
      }
    }
    parentPort.postMessage({ type: 'done', sha256: whole ? whole.digest('hex') : undefined, pieces });
  } finally {
    fs.closeSync(fd);
  }
}
run().catch((e) => parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) }));
`;

type WorkerReply =
  | { type: 'progress'; offset: number }
  | { type: 'done'; sha256?: string; pieces: string[] }
  | { type: 'error'; message: string };

/**
 * Hashes a file off the event loop for a full check, a repair plan or a store move. When both the
 * whole-file hash and the piece hashes are asked for, they run in two workers at once, so it takes about
 * as long as one sha256 pass. Aborting terminates the workers.
 */
export async function hashPieces(opts: PieceHashOptions): Promise<PieceHashResult> {
  opts.signal?.throwIfAborted();
  const modes = [...(opts.whole ? ['whole' as const] : []), ...(opts.pieces ? ['pieces' as const] : [])];
  const pieceAlgorithm = opts.pieceAlgorithm ?? PIECE_ALGORITHM;
  const offsets = modes.map(() => 0);
  const workers: Worker[] = [];
  const onAbort = (): void => { for (const w of workers) void w.terminate(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const results = await Promise.all(modes.map((mode, k) => new Promise<Omit<PieceHashResult, 'pieceAlgorithm'>>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true, workerData: { file: opts.file, size: opts.size, pieceSize: opts.pieceSize, mode, pauseMs: opts.pauseBetweenPiecesMs ?? 0,
          pieceHash: pieceHashWorkerData(mode === 'pieces' ? pieceAlgorithm : 'sha256'), memory: mode === 'pieces' && pieceAlgorithm === 'xxh64' ? pieceHashMemory(0) : undefined },
      });
      workers.push(worker);
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'progress') {
          offsets[k] = m.offset;
          opts.onProgress?.(Math.min(...offsets));
        } else if (m.type === 'done') {
          resolve({ sha256: m.sha256, pieces: m.pieces });
        } else {
          reject(new Error(`hashing ${opts.file} failed: ${m.message}`));
        }
      });
      worker.on('error', reject);
      worker.on('exit', () => reject(opts.signal?.aborted ? new DownloadError('aborted', 'check cancelled') : new Error('hashing stopped')));
    })));
    return { sha256: results.find((r) => r.sha256)?.sha256, pieces: results.find((r) => r.pieces.length > 0)?.pieces ?? [], pieceAlgorithm };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const w of workers) void w.terminate();
  }
}
