import { Worker } from 'node:worker_threads';
import type { PieceAlgorithm } from '../store/storeLayout';
import { PIECE_ALGORITHM, PIECE_HASH_WORKER_PRELUDE, pieceHashWorkerData } from './pieceDigest';
import { ContiguousRun } from './byteRanges';
import type { SlotPool } from './slotPool';
import { ENTRY, HEAD, SIGNAL, SlotRing, TAIL, TRANSFER_WAITS, WORKER_WAITS } from './slotRing';

/** Shared with the 'whole' worker: how far the file is on disk without a gap (int64 at 0), bumped generation (int32 at 2). */
const DISK_REACH_BYTES = 16;
const DISK_GENERATION = 2;
/** How long the 'whole' worker waits for the disk to close a gap before it hashes a slot; past that it reads the gap later. */
const DISK_WAIT_MS = 1000;

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
// Slots come through a ring in shared memory, not as messages: the transfer moves HEAD, the worker moves
// TAIL once it is done with an entry's slot, and neither side is woken while the other keeps up (a message
// per slot each way cost the transfer's thread more CPU than its socket reads). Pieces, advances and the
// finish come as messages; before each, the ring is drained, so they follow the slots written before them.
// The worker is one loop: it takes slots, then messages (receiveMessageOnPort), then sleeps on SIGNAL.
// The 'whole' hash must see bytes in order. A slot ahead of its cursor whose gap is already sealed in other
// slots (marked by the transfer) waits until the disk holds that gap, reads it back and goes on from memory:
// dropping such slots left the hash behind for good, reading the whole file back after one shared start.
const WORKER_SOURCE = `${PIECE_HASH_WORKER_PRELUDE}
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { file, pieceSize: ps, role, memory, slotSize, ring: ringMemory, control: controlMemory, disk } = workerData;
const diskReach = new BigInt64Array(disk);
const diskGeneration = new Int32Array(disk);
const mem = Buffer.from(memory);
const ring = new Float64Array(ringMemory);
const control = new Int32Array(controlMemory);
const capacity = ring.length / ${ENTRY};
let taken = 0;
function drain() {
  for (let head = Atomics.load(control, ${HEAD}); taken !== head; head = Atomics.load(control, ${HEAD})) {
    while (taken !== head) {
      const at = (taken % capacity) * ${ENTRY};
      onData(ring[at], ring[at + 1], ring[at + 2], ring[at + 3] === 1);
      taken++;
      Atomics.store(control, ${TAIL}, taken);
      if (Atomics.load(control, ${TRANSFER_WAITS}) === 1) Atomics.notify(control, ${TAIL});
    }
  }
}
let failed = false;
let finished = false;
function run() {
  while (!failed && !finished) {
    const signal = Atomics.load(control, ${SIGNAL});
    try {
      drain();
      for (let m = receiveMessageOnPort(parentPort); m && !failed && !finished; m = receiveMessageOnPort(parentPort)) handle(m.message);
    } catch (e) {
      fail(e);
    }
    if (failed || finished) return;
    Atomics.store(control, ${WORKER_WAITS}, 1);
    // A second's timeout only as a safety net: every push or message that needs this worker bumps SIGNAL.
    if (Atomics.load(control, ${HEAD}) === taken) Atomics.wait(control, ${SIGNAL}, signal, 1000);
    Atomics.store(control, ${WORKER_WAITS}, 0);
  }
}
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
// Whether the file is on disk without a gap up to 'offset' within ${DISK_WAIT_MS} ms.
function awaitDisk(offset) {
  const deadline = Date.now() + ${DISK_WAIT_MS};
  for (;;) {
    const generation = Atomics.load(diskGeneration, ${DISK_GENERATION});
    if (Number(Atomics.load(diskReach, 0)) >= offset) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(diskGeneration, ${DISK_GENERATION}, generation, left);
  }
}
function onData(slot, length, offset, gapSealed) {
  const view = mem.subarray(slot * slotSize, slot * slotSize + length);
  if (whole) {
    // In order: hash it; already covered: skip; ahead of the cursor: read the gap from disk now if it is
    // sealed (about to be written), else once it is contiguous.
    if (offset > cursor && gapSealed && awaitDisk(offset)) {
      hashFromDisk(whole, cursor, offset);
      cursor = offset;
    }
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
  if (failed) return;
  failed = true;
  parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
}
pieceHashReady.then(run, fail);
function handle(m) {
  drain();
  if (m.type === 'piece') {
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
    finished = true;
    parentPort.postMessage(reply);
  }
}
`;

type WorkerReply =
  | { type: 'done'; sha256?: string; pieces?: string[] }
  | { type: 'error'; message: string };

type WorkerMessage =
  | { type: 'advance'; upTo: number }
  | { type: 'piece'; index: number; end: number }
  | { type: 'finish'; size: number };

type Role = 'whole' | 'pieces';

/**
 * Hashes a file while it downloads, in two worker threads (the file's sha256 and the piece digests run
 * side by side, so neither doubles the time after the last byte and neither blocks the event loop). Bytes
 * come from the transfer's shared slots as they arrive; the file is read only for what memory did not cover.
 */
export class FileHasher {
  private readonly workers: Record<Role, Worker>;
  private readonly rings: Record<Role, SlotRing>;
  private readonly results: Record<Role, Promise<WorkerReply & { type: 'done' }>>;
  private advanced = 0;
  /** Bytes from offset 0 handed to the workers or on disk: a slot starting within it has no unsealed gap before it. */
  private readonly sealed = new ContiguousRun();
  private readonly onDisk = new ContiguousRun();
  private readonly disk = new SharedArrayBuffer(DISK_REACH_BYTES);
  private readonly diskReach = new BigInt64Array(this.disk);
  private readonly diskGeneration = new Int32Array(this.disk);

  constructor(file: string, private readonly pieceSize: number, pool: SlotPool, private readonly pieceAlgorithm: PieceAlgorithm = PIECE_ALGORITHM) {
    this.rings = { whole: new SlotRing(pool), pieces: new SlotRing(pool) };
    const start = (role: Role): Worker => {
      const ring = this.rings[role];
      return new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          file, pieceSize, role, memory: pool.memory, slotSize: pool.slotSize, ring: ring.memory, control: ring.control, disk: this.disk,
          pieceHash: pieceHashWorkerData(role === 'pieces' ? pieceAlgorithm : 'sha256'),
        },
      });
    };
    this.workers = { whole: start('whole'), pieces: start('pieces') };
    const result = (role: Role): Promise<WorkerReply & { type: 'done' }> => new Promise((resolve, reject) => {
      const worker = this.workers[role];
      const fail = (err: Error): void => {
        this.rings[role].stop();
        reject(err);
        void worker.terminate();
      };
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'done') {
          // The ring was drained before this reply.
          this.rings[role].stop();
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

  /** `length` bytes for file offset `offset` are in `slot` (all within one piece); each worker holds the slot until it is done with it. */
  data(slot: number, length: number, offset: number): void {
    const gapSealed = offset <= this.sealed.end;
    this.sealed.add(offset, offset + length);
    this.rings.whole.push(slot, length, offset, gapSealed);
    this.rings.pieces.push(slot, length, offset, gapSealed);
  }

  /** [offset, offset + length) is on disk. */
  written(offset: number, length: number): void {
    const before = this.onDisk.end;
    if (this.onDisk.add(offset, offset + length) === before) return;
    Atomics.store(this.diskReach, 0, BigInt(this.onDisk.end));
    Atomics.add(this.diskGeneration, DISK_GENERATION, 1);
    Atomics.notify(this.diskGeneration, DISK_GENERATION);
  }

  /** The file is complete on disk up to `offset`. */
  advance(offset: number): void {
    this.sealed.add(0, offset);
    this.written(0, offset);
    if (offset > this.advanced) {
      this.advanced = offset;
      this.post('whole', { type: 'advance', upTo: offset });
    }
  }

  /** Piece `index` (ending at `end`) is complete on disk; its digest comes from memory when the slots covered it. */
  piece(index: number, end: number): void {
    this.sealed.add(index * this.pieceSize, end);
    this.written(index * this.pieceSize, end - index * this.pieceSize);
    this.post('pieces', { type: 'piece', index, end });
  }

  async finish(size: number): Promise<FileHashResult> {
    for (const role of ['whole', 'pieces'] as const) this.post(role, { type: 'finish', size });
    const [whole, pieces] = await Promise.all([this.results.whole, this.results.pieces]);
    return { sha256: whole.sha256 ?? '', pieces: pieces.pieces ?? [], pieceAlgorithm: this.pieceAlgorithm };
  }

  dispose(): void {
    for (const role of ['whole', 'pieces'] as const) {
      this.rings[role].stop();
      void this.workers[role].terminate();
    }
  }

  /** The worker reads messages between slots, so it is woken for each. */
  private post(role: Role, message: WorkerMessage): void {
    this.workers[role].postMessage(message);
    this.rings[role].signal();
  }
}
