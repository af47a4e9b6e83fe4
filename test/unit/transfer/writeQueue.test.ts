import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NODE_IO, type TransferIo } from '../../../src/engine/transfer/transferIo';
import { WriteQueue } from '../../../src/engine/transfer/writeQueue';
import { generateData } from '../../support/faultServer';

describe('WriteQueue', () => {
  let dir: string;
  let fh: FileHandle;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ma-writes-'));
    fh = await open(path.join(dir, 'f.part'), 'w+');
  });
  afterEach(async () => {
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The real writes, with each call's position and chunk sizes recorded. */
  function recording(fail?: (position: number) => boolean): { io: TransferIo; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      io: { ...NODE_IO, async write(file, chunks, position) {
        calls.push(`${position}:${chunks.map((c) => c.length).join('+')}`);
        if (fail?.(position)) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        await NODE_IO.write(file, chunks, position);
      } },
    };
  }

  it('writes what waited behind a write, and continues it, in one call; each promise settles in order', async () => {
    const data = generateData(5 * 1000 + 7, 9);
    const { io, calls } = recording();
    const queue = new WriteQueue(io, () => fh);
    const settled: number[] = [];
    const chunk = (i: number): Buffer => data.subarray(i * 1000, Math.min(data.length, (i + 1) * 1000));
    // The first goes out alone; 1-3 wait behind it and continue each other; 5 does not continue 3 (4 comes last).
    const order = [0, 1, 2, 3, 5, 4];
    await Promise.all(order.map((i) => queue.write(chunk(i), i * 1000).then(() => settled.push(i))));
    await queue.idle();
    assert.deepEqual(calls, ['0:1000', '1000:1000+1000+1000', '5000:7', '4000:1000']);
    assert.deepEqual(settled, order);
    assert.ok((await readFile(path.join(dir, 'f.part'))).equals(data));
  });

  it('fails only the writes of the call that failed; the ones queued after it still land', async () => {
    const data = generateData(3000, 10);
    const { io, calls } = recording((position) => position === 1000);
    const queue = new WriteQueue(io, () => fh);
    const results = await Promise.allSettled([0, 2].map((i) => queue.write(data.subarray(i * 1000, (i + 1) * 1000), i * 1000))
      .concat(queue.write(data.subarray(1000, 2000), 1000)));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.deepEqual(calls, ['0:1000', '2000:1000', '1000:1000']);
    const onDisk = await readFile(path.join(dir, 'f.part'));
    assert.ok(onDisk.subarray(2000).equals(data.subarray(2000)));
  });
});
