import { Worker } from 'node:worker_threads';
import type { PieceAlgorithm } from '../store/storeLayout';
import { PIECE_ALGORITHM, pieceHashWorkerData } from './pieceDigest';
import { ContiguousRun } from './byteRanges';
import { DISK_GENERATION, DISK_REACH_BYTES, FILE_WORKER_SOURCE } from './fileWorkerSource';
import type { SlotPool } from './slotPool';
import { SlotRing } from './slotRing';

export interface FileHashResult {
  readonly sha256: string;
  /** The digest of each piece, in order; a repair compares these to find damaged pieces. */
  readonly pieces: string[];
  readonly pieceAlgorithm: PieceAlgorithm;
}

type WorkerReply =
  | { type: 'done'; sha256?: string; pieces?: string[] }
  | { type: 'error'; message: string };

type WorkerMessage =
  | { type: 'advance'; upTo: number }
  | { type: 'piece'; index: number; end: number }
  | { type: 'finish'; size: number };

type Role = 'whole' | 'store';

/**
 * Writes and hashes a file while it downloads, in two worker threads: 'store' writes each slot to the file
 * and keeps the piece digests, 'whole' the file's sha256, side by side, so that neither doubles the time
 * after the last byte and the event loop only receives. Bytes come from the transfer's shared slots as they
 * arrive; the file is read only for what memory did not cover.
 */
export class FileWorkers {
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

  /** `fds`: the file open for reading and for writing (may be one descriptor); the caller closes them after `dispose()` or `finish()`. */
  constructor(fds: { readonly read: number; readonly write: number }, private readonly pieceSize: number, pool: SlotPool, private readonly pieceAlgorithm: PieceAlgorithm = PIECE_ALGORITHM) {
    this.rings = { whole: new SlotRing(pool), store: new SlotRing(pool) };
    const job = (role: Role): object => ({
      readFd: fds.read, writeFd: fds.write, pieceSize, role, memory: pool.memory, slotSize: pool.slotSize, ring: this.rings[role].memory, control: this.rings[role].control, disk: this.disk,
      pieceHash: pieceHashWorkerData(role === 'store' ? pieceAlgorithm : 'sha256', pool.slotCount * pool.slotSize),
    });
    const start = (role: Role): Worker => new Worker(FILE_WORKER_SOURCE, { eval: true, workerData: { job: job(role) } });
    this.workers = takeSpare(job) ?? { whole: start('whole'), store: start('store') };
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
    this.results = { whole: result('whole'), store: result('store') };
    // Unhandled until finish() is awaited; a dispose() before then is expected.
    for (const r of Object.values(this.results)) r.catch(() => undefined);
  }

  /**
   * `length` bytes for file offset `offset` are in `slot` (all within one piece): resolves once they are on
   * disk, rejects as node:fs would when the write fails. Each worker holds the slot until it is done with it.
   */
  store(slot: number, length: number, offset: number): Promise<void> {
    const gapSealed = offset <= this.sealed.end;
    this.sealed.add(offset, offset + length);
    this.rings.whole.push(slot, length, offset, gapSealed);
    return this.rings.store.done(this.rings.store.push(slot, length, offset, gapSealed));
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
    this.post('store', { type: 'piece', index, end });
  }

  async finish(size: number): Promise<FileHashResult> {
    for (const role of ['whole', 'store'] as const) this.post(role, { type: 'finish', size });
    const [whole, pieces] = await Promise.all([this.results.whole, this.results.store]);
    return { sha256: whole.sha256 ?? '', pieces: pieces.pieces ?? [], pieceAlgorithm: this.pieceAlgorithm };
  }

  /**
   * Stops both workers; resolves once they have exited, so that no write of theirs is still to come. Their
   * slots go back to the pool only then: a slot reused while a worker still writes from it would corrupt the file.
   */
  async dispose(): Promise<void> {
    await Promise.all((['whole', 'store'] as const).map(async (role) => {
      await this.workers[role].terminate();
      this.rings[role].stop();
    }));
  }

  /** The worker reads messages between slots, so it is woken for each. */
  private post(role: Role, message: WorkerMessage): void {
    this.workers[role].postMessage(message);
    this.rings[role].signal();
  }
}

/** A pair started ahead of the file that takes it, waiting for its jobs on `wake`. */
let spare: { readonly workers: Record<Role, Worker>; readonly wake: Int32Array } | undefined;

/**
 * Starts the next file's two workers now: starting a worker thread took 40-80 ms here, and when it began
 * with the transfer the first bytes filled every slot before a worker could take one. For a surface that
 * knows a download comes (the CLI's download command); unused, they keep nothing alive and nothing open.
 * False when a pair started ahead still waits.
 */
export function prestartFileWorkers(): boolean {
  if (spare) return false;
  const wake = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const start = (): Worker => {
    const worker = new Worker(FILE_WORKER_SOURCE, { eval: true, workerData: { wake: wake.buffer } });
    worker.unref();
    // One that failed to start is not handed out; its error, unheard until a file takes it, must not throw.
    const drop = (): void => { if (spare?.workers.whole === worker || spare?.workers.store === worker) spare = undefined; };
    worker.once('error', drop);
    worker.once('exit', drop);
    return worker;
  };
  spare = { workers: { whole: start(), store: start() }, wake };
  return true;
}

function takeSpare(job: (role: Role) => object): Record<Role, Worker> | undefined {
  const taken = spare;
  spare = undefined;
  if (!taken) return undefined;
  for (const role of ['whole', 'store'] as const) {
    taken.workers[role].ref();
    taken.workers[role].postMessage(job(role));
  }
  Atomics.store(taken.wake, 0, 1);
  Atomics.notify(taken.wake, 0);
  return taken.workers;
}
