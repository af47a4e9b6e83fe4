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
// Digests by piece index: filled by the in-order pass, or earlier by 'piece' for pieces completed out of order.
const pieces = [];
let piece;
let offset = 0;
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
function read(at, length) {
  const n = fs.readSync(fd, buf, 0, length, at);
  if (n === 0) throw new Error('file is shorter than expected');
  return buf.subarray(0, n);
}
function advance(upTo) {
  while (offset < upTo) {
    const index = Math.floor(offset / ps);
    const pieceEnd = (index + 1) * ps;
    const view = read(offset, Math.min(buf.length, upTo - offset, pieceEnd - offset));
    whole.update(view);
    if (pieces[index] === undefined) (piece ??= crypto.createHash('sha256')).update(view);
    offset += view.length;
    if (offset === pieceEnd) endPiece(index);
  }
}
function endPiece(index) {
  if (piece) pieces[index] = piece.digest('hex');
  piece = undefined;
}
function hashPiece(index, end) {
  if (pieces[index] !== undefined || index * ps <= offset) return;
  const h = crypto.createHash('sha256');
  for (let at = index * ps; at < end;) {
    const view = read(at, Math.min(buf.length, end - at));
    h.update(view);
    at += view.length;
  }
  pieces[index] = h.digest('hex');
}
parentPort.on('message', (m) => {
  try {
    if (m.type === 'advance') {
      advance(m.upTo);
    } else if (m.type === 'piece') {
      hashPiece(m.index, m.end);
    } else if (m.type === 'finish') {
      advance(m.size);
      if (offset % ps !== 0) endPiece(Math.floor(offset / ps));
      fs.closeSync(fd);
      parentPort.postMessage({ type: 'done', sha256: whole.digest('hex'), pieces: pieces.slice(0, Math.ceil(m.size / ps)) });
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
 * ready moments after the last byte arrives and never blocks the event loop. Pieces that complete out of
 * order (other connections) get their own sha256 as they complete, leaving only the whole-file pass for the end.
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

  /**
   * Piece `index` (ending at `end`) is complete on disk beyond the contiguous part: its own sha256 is taken
   * now, while other connections still download, instead of in the sequential pass at the very end.
   */
  hashPiece(index: number, end: number): void {
    this.worker.postMessage({ type: 'piece', index, end });
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
