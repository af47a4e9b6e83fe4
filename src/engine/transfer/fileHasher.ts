import { Worker } from 'node:worker_threads';
import type { PieceAlgorithm } from '../store/storeLayout';
import { PIECE_ALGORITHM, PIECE_HASH_WORKER_PRELUDE, pieceHashWorkerData } from './pieceDigest';
import type { SlotPool } from './slotPool';

export interface FileHashResult {
  readonly sha256: string;
  /** The digest of each piece, in order; a repair compares these to find damaged pieces. */
  readonly pieces: string[];
  readonly pieceAlgorithm: PieceAlgorithm;
}

// Kept as a source string (run with eval) so it works the same from tsx tests and from the esbuild bundle.
// One worker per role: 'whole' keeps the file's sha256, 'pieces' one digest per piece (pieceDigest.ts). Both take the bytes
// from the transfer's shared slots as they arrive; what they cannot get from memory (pieces on disk from
// before a restart, pieces that arrived out of order on other connections) they read from the file.
const WORKER_SOURCE = `${PIECE_HASH_WORKER_PRELUDE}
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { file, pieceSize: ps, role, memory, slotSize } = workerData;
const mem = memory ? Buffer.from(memory) : undefined;
let fd;
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
function hashFromDisk(hash, from, to) {
  fd ??= fs.openSync(file, 'r');
  for (let at = from; at < to;) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, to - at), at);
    if (n === 0) throw new Error('the file is shorter than expected');
    hash.update(buf.subarray(0, n));
    at += n;
  }
}
// role 'whole': the file's hash covers [0, cursor).
const whole = role === 'whole' ? crypto.createHash('sha256') : undefined;
let cursor = 0;
// role 'pieces': finished digests, and the piece being hashed from memory per piece index.
const digests = [];
const partial = new Map();
function onData(slot, length, offset) {
  const view = mem.subarray(slot * slotSize, slot * slotSize + length);
  if (whole) {
    // In order: hash it; already covered: skip; ahead of the cursor: read from disk once it is contiguous.
    if (offset <= cursor && offset + length > cursor) {
      whole.update(view.subarray(cursor - offset));
      cursor = offset + length;
    }
    return;
  }
  const index = Math.floor(offset / ps);
  if (offset === index * ps) {
    partial.set(index, { hash: newPieceHash().update(view), next: offset + length });
    return;
  }
  const p = partial.get(index);
  if (p && p.next === offset) {
    p.hash.update(view);
    p.next += length;
  } else {
    partial.delete(index);
  }
}
function onPiece(index, end) {
  if (digests[index] !== undefined) return;
  const p = partial.get(index);
  partial.delete(index);
  if (p && p.next === end) {
    digests[index] = p.hash.digest('hex');
  } else {
    const h = newPieceHash();
    hashFromDisk(h, index * ps, end);
    digests[index] = h.digest('hex');
  }
}
function advance(upTo) {
  if (cursor < upTo) {
    hashFromDisk(whole, cursor, upTo);
    cursor = upTo;
  }
}
function fail(e) {
  parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
}
pieceHashReady.catch(fail);
// Reactions to one promise run in the order they were added: the messages keep their order.
parentPort.on('message', (m) => pieceHashReady.then(() => handle(m), () => undefined));
function handle(m) {
  try {
    if (m.type === 'data') {
      onData(m.slot, m.length, m.offset);
      parentPort.postMessage({ type: 'released', slot: m.slot });
    } else if (m.type === 'piece') {
      onPiece(m.index, m.end);
    } else if (m.type === 'advance') {
      advance(m.upTo);
    } else if (m.type === 'finish') {
      let reply;
      if (whole) {
        advance(m.size);
        reply = { type: 'done', sha256: whole.digest('hex') };
      } else {
        const count = Math.ceil(m.size / ps);
        for (let i = 0; i < count; i++) onPiece(i, Math.min(m.size, (i + 1) * ps));
        reply = { type: 'done', pieces: digests.slice(0, count) };
      }
      if (fd !== undefined) fs.closeSync(fd);
      parentPort.postMessage(reply);
    }
  } catch (e) {
    fail(e);
  }
}
`;

type WorkerReply =
  | { type: 'released'; slot: number }
  | { type: 'done'; sha256?: string; pieces?: string[] }
  | { type: 'error'; message: string };

type Role = 'whole' | 'pieces';

/**
 * Hashes a file while it downloads, in two worker threads (the file's sha256 and the piece digests run
 * side by side, so neither doubles the time after the last byte and neither blocks the event loop). Bytes
 * come from the transfer's shared slots as they arrive; the file is read only for what memory did not cover.
 */
export class FileHasher {
  private readonly workers: Record<Role, Worker>;
  private readonly results: Record<Role, Promise<WorkerReply & { type: 'done' }>>;
  private advanced = 0;
  /** Slot references each worker still holds: given back at once when it stops, so a failed hash cannot starve the download of slots. */
  private readonly held: Record<Role, Map<number, number>> = { whole: new Map(), pieces: new Map() };
  /** Workers that failed, finished or were disposed: they get no more slots. */
  private readonly stopped = new Set<Role>();

  constructor(file: string, pieceSize: number, private readonly pool?: SlotPool, private readonly pieceAlgorithm: PieceAlgorithm = PIECE_ALGORITHM) {
    const start = (role: Role): Worker => new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file, pieceSize, role, memory: pool?.memory, slotSize: pool?.slotSize ?? 0,
        pieceHash: pieceHashWorkerData(role === 'pieces' ? pieceAlgorithm : 'sha256'),
      },
    });
    this.workers = { whole: start('whole'), pieces: start('pieces') };
    const result = (role: Role): Promise<WorkerReply & { type: 'done' }> => new Promise((resolve, reject) => {
      const worker = this.workers[role];
      const fail = (err: Error): void => {
        this.stop(role);
        reject(err);
        void worker.terminate();
      };
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'released') {
          if (!this.stopped.has(role)) this.unhold(role, m.slot);
        } else if (m.type === 'done') {
          // Every slot was released before this reply.
          this.stop(role);
          resolve(m);
          void worker.terminate();
        } else {
          fail(new Error(`hashing failed: ${m.message}`));
        }
      });
      worker.on('error', fail);
      worker.on('exit', () => fail(new Error('hashing stopped')));
    });
    this.results = { whole: result('whole'), pieces: result('pieces') };
    // Unhandled until finish() is awaited; a dispose() before then is expected.
    for (const r of Object.values(this.results)) r.catch(() => undefined);
  }

  /** `length` bytes for file offset `offset` are in `slot` (all within one piece); each worker releases the slot once. */
  data(slot: number, length: number, offset: number): void {
    const pool = this.pool;
    if (!pool) throw new Error('hashing from memory needs a slot pool');
    for (const role of ['whole', 'pieces'] as const) {
      if (this.stopped.has(role)) continue;
      pool.hold(slot, 1);
      this.held[role].set(slot, (this.held[role].get(slot) ?? 0) + 1);
      this.workers[role].postMessage({ type: 'data', slot, length, offset });
    }
  }

  /** The file is complete on disk up to `offset`. */
  advance(offset: number): void {
    if (offset > this.advanced) {
      this.advanced = offset;
      this.workers.whole.postMessage({ type: 'advance', upTo: offset });
    }
  }

  /** Piece `index` (ending at `end`) is complete on disk; its digest comes from memory when the slots covered it. */
  piece(index: number, end: number): void {
    this.workers.pieces.postMessage({ type: 'piece', index, end });
  }

  async finish(size: number): Promise<FileHashResult> {
    for (const worker of Object.values(this.workers)) worker.postMessage({ type: 'finish', size });
    const [whole, pieces] = await Promise.all([this.results.whole, this.results.pieces]);
    return { sha256: whole.sha256 ?? '', pieces: pieces.pieces ?? [], pieceAlgorithm: this.pieceAlgorithm };
  }

  dispose(): void {
    for (const role of ['whole', 'pieces'] as const) {
      this.stop(role);
      void this.workers[role].terminate();
    }
  }

  private stop(role: Role): void {
    if (this.stopped.has(role)) return;
    this.stopped.add(role);
    for (const [slot, count] of this.held[role]) for (let k = 0; k < count; k++) this.pool?.release(slot);
    this.held[role].clear();
  }

  private unhold(role: Role, slot: number): void {
    const left = (this.held[role].get(slot) ?? 0) - 1;
    if (left > 0) this.held[role].set(slot, left);
    else this.held[role].delete(slot);
    this.pool?.release(slot);
  }
}
