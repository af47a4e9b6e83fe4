import { Worker } from 'node:worker_threads';

export interface FileHashResult {
  readonly sha256: string;
  /** sha256 of each piece, in order; a repair compares these to find damaged pieces. */
  readonly pieces: string[];
}

// Kept as a source string (run with eval) so it works the same from tsx tests and from the esbuild bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const ps = workerData.pieceSize;
const fd = fs.openSync(workerData.file, 'r');
const whole = crypto.createHash('sha256');
let piece = crypto.createHash('sha256');
let pieceBytes = 0;
const pieces = [];
let offset = 0;
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
function advance(upTo) {
  while (offset < upTo) {
    const pieceEnd = (Math.floor(offset / ps) + 1) * ps;
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, upTo - offset, pieceEnd - offset), offset);
    if (n === 0) throw new Error('file is shorter than expected');
    const view = buf.subarray(0, n);
    whole.update(view);
    piece.update(view);
    pieceBytes += n;
    offset += n;
    if (offset === pieceEnd) {
      pieces.push(piece.digest('hex'));
      piece = crypto.createHash('sha256');
      pieceBytes = 0;
    }
  }
}
parentPort.on('message', (m) => {
  try {
    if (m.type === 'advance') {
      advance(m.upTo);
    } else if (m.type === 'finish') {
      advance(m.size);
      if (pieceBytes > 0) pieces.push(piece.digest('hex'));
      fs.closeSync(fd);
      parentPort.postMessage({ type: 'done', sha256: whole.digest('hex'), pieces });
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
});
`;

type WorkerReply = { type: 'done'; sha256: string; pieces: string[] } | { type: 'error'; message: string };

/**
 * Hashes a file in a worker thread, following the download: the caller reports how far the file is
 * contiguous on disk and the worker reads up to there (from the page cache), so the whole-file sha256 is
 * ready moments after the last byte arrives and never blocks the event loop.
 */
export class FileHasher {
  private readonly worker: Worker;
  private readonly result: Promise<FileHashResult>;
  private advanced = 0;

  constructor(file: string, pieceSize: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, pieceSize } });
    this.result = new Promise<FileHashResult>((resolve, reject) => {
      this.worker.on('message', (m: WorkerReply) => {
        if (m.type === 'done') resolve({ sha256: m.sha256, pieces: m.pieces });
        else reject(new Error(`hashing failed: ${m.message}`));
        void this.worker.terminate();
      });
      this.worker.on('error', reject);
      this.worker.on('exit', () => reject(new Error('hashing stopped')));
    });
    // Unhandled until finish() is awaited; a dispose() before then is expected.
    this.result.catch(() => undefined);
  }

  /** The file is complete on disk up to `offset`. */
  advance(offset: number): void {
    if (offset > this.advanced) {
      this.advanced = offset;
      this.worker.postMessage({ type: 'advance', upTo: offset });
    }
  }

  finish(size: number): Promise<FileHashResult> {
    this.worker.postMessage({ type: 'finish', size });
    return this.result;
  }

  dispose(): void {
    void this.worker.terminate();
  }
}

/** sha256 of a whole file and its pieces, off the event loop. */
export function hashFile(file: string, size: number, pieceSize: number): Promise<FileHashResult> {
  return new FileHasher(file, pieceSize).finish(size);
}
