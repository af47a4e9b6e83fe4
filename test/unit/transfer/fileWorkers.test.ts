import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SlotPool } from '../../../src/engine/transfer/slotPool';
import { FileWorkers, prestartFileWorkers, type FileHashResult } from '../../../src/engine/transfer/fileWorkers';
import { PIECE_HASH_SCRATCH_BYTES } from '../../../src/engine/transfer/pieceDigest';
import { generateData, pieceDigestsOf } from '../../support/faultServer';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('FileWorkers', () => {
  let dir: string;
  let handles: FileHandle[];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ma-workers-'));
    handles = [];
  });
  afterEach(async () => {
    for (const fh of handles) await fh.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** The file's descriptor, open for reading and writing (as the partial file is), closed after the test. */
  async function fdOf(file: string): Promise<number> {
    const fh = await open(file, 'r+');
    handles.push(fh);
    return fh.fd;
  }

  async function workersFor(file: string, piece: number, pool: SlotPool): Promise<FileWorkers> {
    const fd = await fdOf(file);
    return new FileWorkers({ read: fd, write: fd }, piece, pool);
  }

  /**
   * Hands `data` to the workers through the pool, a slot at a time, as the receiver does (waiting for free
   * slots); resolves with what each slot's write came to, once all of them settled.
   */
  async function feed(workers: FileWorkers, pool: SlotPool, data: Buffer, from: number, to: number): Promise<PromiseSettledResult<void>[]> {
    const writes: Promise<PromiseSettledResult<void>>[] = [];
    for (let at = from; at < to; at += pool.slotSize) {
      let slot = pool.acquire();
      while (slot === undefined) {
        await pool.whenFree();
        slot = pool.acquire();
      }
      const n = Math.min(pool.slotSize, to - at);
      data.copy(pool.bytes(slot), 0, at, at + n);
      writes.push(workers.store(slot, n, at).then(() => ({ status: 'fulfilled', value: undefined }), (reason: unknown) => ({ status: 'rejected', reason })));
      pool.release(slot);
    }
    return Promise.all(writes);
  }

  /** An empty partial file, a pool of eight 16 KiB slots and the file's workers. */
  async function newFile(piece: number): Promise<{ file: string; pool: SlotPool; workers: FileWorkers }> {
    const file = path.join(dir, 'f.part');
    await writeFile(file, Buffer.alloc(0));
    const pool = new SlotPool(8, 16 * 1024);
    return { file, pool, workers: await workersFor(file, piece, pool) };
  }

  /** All of `data` through the slots in order, each piece marked complete, then the result; the workers are disposed of. */
  async function landWhole(workers: FileWorkers, pool: SlotPool, data: Buffer, piece: number): Promise<FileHashResult> {
    await feed(workers, pool, data, 0, data.length);
    for (let i = 0; i * piece < data.length; i++) workers.piece(i, Math.min(data.length, (i + 1) * piece));
    const result = await workers.finish(data.length);
    await workers.dispose();
    return result;
  }

  it('writes each slot to the file, and hashes from memory and from disk: the file, and each piece', async () => {
    const piece = 64 * 1024;
    const data = generateData(5 * piece + 100, 3);
    const file = path.join(dir, 'f.part');
    // Pieces 1-4 are not on disk yet: they come through memory.
    const onDisk = Buffer.from(data);
    onDisk.fill(0, piece, 5 * piece);
    await writeFile(file, onDisk);
    const pool = new SlotPool(8, 16 * 1024);
    const hasher = await workersFor(file, piece, pool);
    // Piece 0 from disk (as after a restart), pieces 1-4 from memory, the tail out of order from disk.
    hasher.advance(piece);
    hasher.piece(0, piece);
    const writes = await feed(hasher, pool, data, piece, 5 * piece);
    assert.deepEqual(new Set(writes.map((w) => w.status)), new Set(['fulfilled']));
    assert.ok((await readFile(file)).equals(data), 'the slots were written where they belong');
    for (let i = 1; i < 5; i++) hasher.piece(i, (i + 1) * piece);
    hasher.piece(5, data.length);
    const result = await hasher.finish(data.length);
    assert.equal(result.sha256, sha(data));
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
    assert.equal(result.pieceAlgorithm, 'xxh64');
    await hasher.dispose();
  });

  it('hashes each piece in the slots where the bytes arrived, without copying them out', async () => {
    const piece = 48 * 1024;
    const data = generateData(4 * piece + 4097, 9);
    const { pool, workers } = await newFile(piece);
    const result = await landWhole(workers, pool, data, piece);
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
    // Bytes from outside the shared memory are copied to its scratch to be hashed; these never were.
    const scratch = Buffer.from(pool.memory.buffer, pool.slotCount * pool.slotSize, PIECE_HASH_SCRATCH_BYTES);
    assert.ok(scratch.every((b) => b === 0), 'the piece hash copied slots to its scratch');
  });

  it('takes a pair started ahead (prestartFileWorkers), which then writes and hashes as one started for the file', async () => {
    prestartFileWorkers();
    assert.equal(prestartFileWorkers(), false, 'a pair started ahead waits');
    const piece = 64 * 1024;
    const data = generateData(3 * piece + 777, 13);
    // Before the pair is up: the jobs wait for it.
    const { file, pool, workers } = await newFile(piece);
    assert.equal(prestartFileWorkers(), true, 'the file took the pair that waited');
    const result = await landWhole(workers, pool, data, piece);
    assert.ok((await readFile(file)).equals(data));
    assert.equal(result.sha256, sha(data));
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
  });

  it('an unused pair started ahead keeps no process alive', () => {
    // A process the pair kept alive is killed at the timeout, and its status is then null.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./src/engine/transfer/fileWorkers').prestartFileWorkers(); console.log('started')"], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'started');
  });

  it('after a start shared between connections, hashes the file from memory again, reading back only the gap', async () => {
    const piece = 64 * 1024;
    const data = generateData(6 * piece + 100, 5);
    const file = path.join(dir, 'f.part');
    await writeFile(file, Buffer.alloc(0));
    // The hash reads from another file than the one written, on which only pieces 0 and 1 are right: a hash
    // that reads anything else back comes out wrong.
    const decoy = Buffer.from(data);
    decoy.fill(0xee, 2 * piece);
    await writeFile(`${file}.decoy`, decoy);
    const pool = new SlotPool(8, 16 * 1024);
    const workers = new FileWorkers({ read: await fdOf(`${file}.decoy`), write: await fdOf(file) }, piece, pool);
    const written = (from: number, to: number): void => { for (let at = from; at < to; at += pool.slotSize) workers.written(at, Math.min(pool.slotSize, to - at)); };
    // A second connection's piece 1 comes first: ahead of the file's hash, with nothing before it yet.
    await feed(workers, pool, data, piece, 2 * piece);
    written(piece, 2 * piece);
    workers.piece(1, 2 * piece);
    await feed(workers, pool, data, 0, piece);
    // Piece 0 reaches the disk a little later, as writes do: the hash waits for it, then reads piece 1 back.
    setTimeout(() => { written(0, piece); workers.piece(0, piece); }, 50);
    // The first connection goes on alone; each slot is handed over before it is written.
    for (let at = 2 * piece; at < data.length; at += pool.slotSize) {
      const end = Math.min(data.length, at + pool.slotSize);
      await feed(workers, pool, data, at, end);
      written(at, end);
      if (end % piece === 0 || end === data.length) workers.piece(Math.floor((end - 1) / piece), end);
    }
    const result = await workers.finish(data.length);
    assert.equal(result.sha256, sha(data));
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
    assert.ok((await readFile(file)).equals(data), 'every slot was written');
  });

  it('gives every slot back when a worker fails, so the download is not left waiting for memory', async () => {
    const piece = 64 * 1024;
    const file = path.join(dir, 'short.part');
    await writeFile(file, Buffer.alloc(10));
    const pool = new SlotPool(4, 16 * 1024);
    const hasher = await workersFor(file, piece, pool);
    // The file is shorter than this: the whole-file worker fails reading it.
    hasher.advance(piece);
    await new Promise((r) => setTimeout(r, 300));
    // Sixteen slots' worth through a pool of four: without the failed worker's references given back, this waits forever.
    const data = generateData(16 * 16 * 1024, 4);
    await feed(hasher, pool, data, 0, data.length);
    await assert.rejects(hasher.finish(data.length), /hashing failed: the file is shorter than expected/);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([0, 1, 2, 3].map(() => pool.acquire() !== undefined), [true, true, true, true], 'all slots are free');
  });

  it('on a full disk, keeps the slots written before it, fails that slot and every one after it, and gives all slots back', async function () {
    // A real full disk: a 192 KiB tmpfs (this suite runs as root, as CI does).
    this.timeout(20_000);
    const mount = await mkdtemp(path.join(os.tmpdir(), 'ma-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', mount]);
    try {
      const file = path.join(mount, 'f.part');
      await writeFile(file, Buffer.alloc(0));
      const pool = new SlotPool(4, 16 * 1024);
      const fh = await open(file, 'r+');
      handles.push(fh);
      const workers = new FileWorkers({ read: fh.fd, write: fh.fd }, 64 * 1024, pool);
      const data = generateData(32 * 16 * 1024, 6);
      const writes = await feed(workers, pool, data, 0, data.length);
      const kept = writes.findIndex((w) => w.status === 'rejected');
      assert.ok(kept > 0 && kept <= 12, `${kept} slots written before the disk was full`);
      assert.ok(writes.slice(kept).every((w) => w.status === 'rejected' && (w.reason as NodeJS.ErrnoException).code === 'ENOSPC'), 'every later slot fails with ENOSPC');
      assert.ok((await readFile(file)).subarray(0, kept * 16 * 1024).equals(data.subarray(0, kept * 16 * 1024)), 'what was written is on disk');
      await workers.dispose();
      assert.deepEqual([0, 1, 2, 3].map(() => pool.acquire() !== undefined), [true, true, true, true], 'all slots are free');
    } finally {
      for (const fh of handles.splice(0)) await fh.close();
      execFileSync('umount', [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  });
});
