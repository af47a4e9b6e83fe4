import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SlotPool } from '../../../src/engine/transfer/slotPool';
import { FileHasher } from '../../../src/engine/transfer/fileHasher';
import { generateData, pieceDigestsOf } from '../../support/faultServer';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('FileHasher', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ma-hasher-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  /** Hands `data` to the hasher through the pool, a slot at a time, as the receiver does (waiting for free slots). */
  async function feed(hasher: FileHasher, pool: SlotPool, data: Buffer, from: number, to: number): Promise<void> {
    for (let at = from; at < to; at += pool.slotSize) {
      let slot = pool.acquire();
      while (slot === undefined) {
        await pool.whenFree();
        slot = pool.acquire();
      }
      const n = Math.min(pool.slotSize, to - at);
      data.copy(pool.bytes(slot), 0, at, at + n);
      hasher.data(slot, n, at);
      pool.release(slot);
    }
  }

  it('hashes from memory and from disk: the file, and each piece', async () => {
    const piece = 64 * 1024;
    const data = generateData(5 * piece + 100, 3);
    const file = path.join(dir, 'f.part');
    await writeFile(file, data);
    const pool = new SlotPool(8, 16 * 1024);
    const hasher = new FileHasher(file, piece, pool);
    // Piece 0 from disk (as after a restart), pieces 1-4 from memory, the tail out of order from disk.
    hasher.advance(piece);
    hasher.piece(0, piece);
    await feed(hasher, pool, data, piece, 5 * piece);
    for (let i = 1; i < 5; i++) hasher.piece(i, (i + 1) * piece);
    hasher.piece(5, data.length);
    const result = await hasher.finish(data.length);
    assert.equal(result.sha256, sha(data));
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
    assert.equal(result.pieceAlgorithm, 'xxh64');
  });

  it('after a start shared between connections, hashes the file from memory again, reading back only the gap', async () => {
    const piece = 64 * 1024;
    const data = generateData(6 * piece + 100, 5);
    const file = path.join(dir, 'f.part');
    // On disk, only pieces 0 and 1 are right: a hash that reads anything else back from the file comes out wrong.
    const onDisk = Buffer.from(data);
    onDisk.fill(0xee, 2 * piece);
    await writeFile(file, onDisk);
    const pool = new SlotPool(8, 16 * 1024);
    const hasher = new FileHasher(file, piece, pool);
    const written = (from: number, to: number): void => { for (let at = from; at < to; at += pool.slotSize) hasher.written(at, Math.min(pool.slotSize, to - at)); };
    // A second connection's piece 1 comes first: ahead of the file's hash, with nothing before it yet.
    await feed(hasher, pool, data, piece, 2 * piece);
    written(piece, 2 * piece);
    hasher.piece(1, 2 * piece);
    await feed(hasher, pool, data, 0, piece);
    // Piece 0 reaches the disk a little later, as writes do: the hash waits for it, then reads piece 1 back.
    setTimeout(() => { written(0, piece); hasher.piece(0, piece); }, 50);
    // The first connection goes on alone; each slot is handed over before it is written.
    for (let at = 2 * piece; at < data.length; at += pool.slotSize) {
      const end = Math.min(data.length, at + pool.slotSize);
      await feed(hasher, pool, data, at, end);
      written(at, end);
      if (end % piece === 0 || end === data.length) hasher.piece(Math.floor((end - 1) / piece), end);
    }
    const result = await hasher.finish(data.length);
    assert.equal(result.sha256, sha(data));
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, piece));
  });

  it('gives every slot back when a worker fails, so the download is not left waiting for memory', async () => {
    const piece = 64 * 1024;
    const file = path.join(dir, 'short.part');
    await writeFile(file, Buffer.alloc(10));
    const pool = new SlotPool(4, 16 * 1024);
    const hasher = new FileHasher(file, piece, pool);
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
});
