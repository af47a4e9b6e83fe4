import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { receiveBody } from '../../../src/engine/transfer/bodyReceiver';
import { FileTransfer, NODE_IO, type FileTransferOptions } from '../../../src/engine/transfer/fileTransfer';
import { readPartState } from '../../../src/engine/store/partState';
import { SlotPool } from '../../../src/engine/transfer/slotPool';
import type { DownloadSettings } from '../../../src/engine/transfer/settings';
import { DownloadError } from '../../../src/engine/core/downloadError';
import { StreamBody } from '../../../src/engine/transfer/http/responseBody';
import { SpeedLimiter } from '../../../src/engine/transfer/speedLimiter';
import { PIECE, MemoryLogger, tempDir, testSettings } from '../../support/downloadFixtures';
import { FaultServer, generateData, pieceDigestsOf, sha256Of } from '../../support/faultServer';

type TransferOverrides = Omit<Partial<FileTransferOptions>, 'settings'> & { settings?: Partial<DownloadSettings> };

// Every behaviour holds for both ways of fetching bodies: our direct client and node:http.
for (const transport of ['direct', 'platform'] as const) describe(`FileTransfer (${transport} transport)`, function () {
  let server: FaultServer;
  let dir: string;

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir();
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  function transfer(name: string, opts: TransferOverrides = {}): { t: FileTransfer; finalPath: string; logger: MemoryLogger } {
    const file = server.files.get(name);
    const finalPath = path.join(dir, name);
    const logger = new MemoryLogger();
    const settings = testSettings({ transport, ...opts.settings });
    const t = new FileTransfer({
      modelId: 'm', finalPath, url: server.url(name), isHub: false, expectedSha256: file?.sha256, expectedSize: file?.data.length,
      limiter: new SpeedLimiter(0), logger, ...opts, settings: () => settings,
    });
    return { t, finalPath, logger };
  }

  const run = (t: FileTransfer): Promise<unknown> => t.run(new AbortController().signal);

  async function rejectsWith(p: Promise<unknown>, kind: DownloadError['kind'], message: RegExp): Promise<void> {
    await assert.rejects(p, (err: unknown) => err instanceof DownloadError && err.kind === kind && message.test(err.message));
  }

  it('downloads a file, verifies it, records piece hashes and installs it at its final path', async () => {
    const data = generateData(10 * PIECE + 123);
    server.addFile('a.bin', data);
    const { t, finalPath } = transfer('a.bin');
    const result = await t.run(new AbortController().signal);
    assert.equal(result.sha256, sha256Of(data));
    assert.equal(result.pieces.length, 11);
    assert.deepEqual(result.pieces, await pieceDigestsOf(data, PIECE));
    assert.deepEqual(await fs.readFile(finalPath), data);
    await assert.rejects(fs.stat(`${finalPath}.part`));
    await assert.rejects(fs.stat(`${finalPath}.part.json`));
    assert.equal(server.bytesSent, data.length);
  });

  it('learns the size from Content-Range when the catalog does not give it', async () => {
    const data = generateData(3 * PIECE + 7);
    server.addFile('a.bin', data);
    const { t, finalPath } = transfer('a.bin', { expectedSize: undefined, expectedSha256: undefined, settings: { connections: 3 } });
    const result = await t.run(new AbortController().signal);
    assert.equal(result.size, data.length);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.equal(server.bytesSent, data.length);
  });

  it('resumes a dropped connection with If-Range from the first missing piece', async () => {
    const data = generateData(8 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { dropAfterBytes: 3 * PIECE + 100 });
    const { t, finalPath } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const reqs = server.requestsFor('a.bin');
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].range, `bytes=${3 * PIECE}-${8 * PIECE - 1}`);
    assert.equal(reqs[1].ifRange, server.files.get('a.bin')?.etag);
    // Only the partly received piece was fetched twice.
    assert.equal(server.bytesSent, data.length + 100);
  });

  for (const status of [503, 429, 408, 500]) {
    it(`retries HTTP ${status} honouring Retry-After`, async () => {
      const data = generateData(2 * PIECE);
      server.addFile('a.bin', data);
      server.inject('a.bin', { status, retryAfter: '0', times: 2 });
      const { t, finalPath, logger } = transfer('a.bin', { settings: { retryBaseDelayMs: 60_000 } });
      // With a base delay of 60 s, finishing at all proves Retry-After: 0 was used.
      await run(t);
      assert.deepEqual(await fs.readFile(finalPath), data);
      assert.equal(server.requestsFor('a.bin').length, 3);
      assert.ok(logger.lines.some((l) => l.includes(`HTTP ${status}`) && l.includes('retry 2/3')), logger.lines.join('\n'));
    });
  }

  it('gives up after maxRetries retries and says why', async () => {
    server.addFile('a.bin', generateData(PIECE));
    server.inject('a.bin', { status: 503, times: 10 });
    const { t, finalPath } = transfer('a.bin', { settings: { maxRetries: 2 } });
    await rejectsWith(run(t), 'fatal', /HTTP 503.*gave up after 2 retries/);
    assert.equal(server.requestsFor('a.bin').length, 3);
    await assert.rejects(fs.stat(finalPath));
  });

  it('does not retry 404 and names the URL', async () => {
    const { t } = transfer('nope.bin', { expectedSize: 10 });
    await rejectsWith(run(t), 'fatal', new RegExp(`not found at URL ${server.url('nope.bin').replace(/[.]/g, '\\.')}`));
    assert.equal(server.requests.length, 1);
  });

  it('does not retry 401 on a hub file and says the model is gated', async () => {
    server.addFile('a.bin', generateData(PIECE), { requireToken: 'secret' });
    const { t } = transfer('a.bin', { isHub: true });
    await rejectsWith(run(t), 'fatal', /this model is gated: the Hugging Face hub refused access \(HTTP 401/);
    assert.equal(server.requests.length, 1);
  });

  it('does not retry 403 on a plain URL', async () => {
    server.addFile('a.bin', generateData(PIECE));
    server.inject('a.bin', { status: 403, times: 5 });
    const { t } = transfer('a.bin');
    await rejectsWith(run(t), 'fatal', /^127\.0\.0\.1:\d+ refused access \(HTTP 403 for .*\): it needs a token$/);
    assert.equal(server.requests.length, 1);
  });

  it('never appends a 200 body to partial data: a server that starts ignoring Range restarts from 0', async () => {
    const data = generateData(6 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { dropAfterBytes: 2 * PIECE + 10 }, { ignoreRange: true });
    const { t, finalPath, logger } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const reqs = server.requestsFor('a.bin');
    assert.equal(reqs[1].status, 200);
    assert.ok(logger.lines.some((l) => l.includes('discarding partial data')));
  });

  it('downloads from a server without Range support as one stream, restarted from 0 on failure', async () => {
    const data = generateData(5 * PIECE + 3);
    server.addFile('a.bin', data, { rangeSupport: false });
    server.inject('a.bin', { dropAfterBytes: 3 * PIECE });
    const { t, finalPath } = transfer('a.bin', { settings: { connections: 4 } });
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const reqs = server.requestsFor('a.bin');
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1].range, undefined, 'no Range once the server showed it has none');
    assert.equal(server.bytesSent, 3 * PIECE + data.length);
  });

  it('restarts when the remote file changed between requests (If-Range answered with the new file)', async () => {
    const oldData = generateData(6 * PIECE, 1);
    const newData = generateData(6 * PIECE, 2);
    server.addFile('a.bin', oldData);
    server.inject('a.bin', { dropAfterBytes: 3 * PIECE });
    const { t, finalPath } = transfer('a.bin', { expectedSha256: undefined });
    // Swap the content as soon as the first request has started.
    const swap = setInterval(() => {
      if (server.bytesSent >= 3 * PIECE) {
        server.setContent('a.bin', newData);
        clearInterval(swap);
      }
    }, 1);
    await run(t).finally(() => clearInterval(swap));
    assert.deepEqual(await fs.readFile(finalPath), newData);
    assert.equal(server.requestsFor('a.bin')[1].status, 200);
  });

  it('never installs a file whose sha256 does not match; each mismatch is a counted attempt', async () => {
    server.addFile('a.bin', generateData(3 * PIECE));
    const { t, finalPath } = transfer('a.bin', { expectedSha256: 'f'.repeat(64), settings: { maxRetries: 2 } });
    await rejectsWith(run(t), 'fatal', /sha256 mismatch.*gave up after 3 attempts/);
    await assert.rejects(fs.stat(finalPath));
    await assert.rejects(fs.stat(`${finalPath}.part`));
    assert.equal(server.bytesSent, 3 * 3 * PIECE);
  });

  it('treats a stalled connection as a failure and resumes', async () => {
    const data = generateData(4 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { stallAfterBytes: PIECE + 5 });
    const { t, finalPath, logger } = transfer('a.bin', { settings: { stallTimeoutSeconds: 0.3 } });
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.ok(logger.lines.some((l) => l.includes('stalled')));
    // Resumed from the last byte that arrived, not from the start of its piece.
    assert.equal(server.requestsFor('a.bin')[1].range, `bytes=${PIECE + 5}-${4 * PIECE - 1}`);
    assert.equal(server.bytesSentTwice('a.bin'), 0);
  });

  it('stops at once when aborted mid-body, keeping complete pieces for a resume', async () => {
    const data = generateData(8 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { stallAfterBytes: 3 * PIECE + 100 });
    const controller = new AbortController();
    // Everything the server sends before stalling has been written once progress reaches it.
    const onProgress = (done: number): void => { if (done >= 3 * PIECE + 100) controller.abort(new DownloadError('aborted', 'paused')); };
    const { t, finalPath } = transfer('a.bin', { settings: { stallTimeoutSeconds: 60 }, onProgress });
    await rejectsWith(t.run(controller.signal), 'aborted', /paused/);
    assert.deepEqual((await readPartState(finalPath))?.completePieces, [0, 1, 2]);
    server.resetCounters();
    await run(transfer('a.bin').t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.equal(server.bytesSent, 5 * PIECE);
  });

  it('gives up on a request whose server never answers, and retries it', async () => {
    const data = generateData(2 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { noResponse: true });
    const { t, finalPath, logger } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.equal(server.requestsFor('a.bin').length, 2);
    assert.ok(logger.lines.some((l) => /no response from 127\.0\.0\.1:\d+ within 1 s/.test(l)), logger.lines.join('\n'));
  });

  it('retries when the server sends fewer bytes than its Content-Length', async () => {
    const data = generateData(4 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { contentLengthDelta: 5000, dropAfterBytes: 2 * PIECE });
    const { t, finalPath } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.equal(server.requestsFor('a.bin').length, 2);
  });

  it('resumes when a Content-Length shorter than the range ends the body early', async () => {
    const data = generateData(4 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { contentLengthDelta: -(PIECE + 10), dropAfterBytes: 3 * PIECE - 10 });
    const { t, finalPath } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const reqs = server.requestsFor('a.bin');
    assert.equal(reqs.length, 2);
    // From where the short body stopped (inside piece 2: what the server wrote before closing is not all delivered).
    const resumedAt = Number(/^bytes=(\d+)-/.exec(reqs[1].range ?? '')?.[1]);
    assert.ok(resumedAt > 2 * PIECE && resumedAt < 3 * PIECE, `resumed at ${resumedAt}`);
    assert.equal(reqs[1].range, `bytes=${resumedAt}-${4 * PIECE - 1}`);
  });

  it('writes at the Content-Range start the server chose', async () => {
    const data = generateData(4 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { dropAfterBytes: 2 * PIECE + 10 }, { rangeStartShift: -PIECE / 2 });
    const { t, finalPath } = transfer('a.bin');
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
  });

  it('follows redirects but sends the token only to its own origin', async () => {
    const data = generateData(2 * PIECE);
    server.addFile('a.bin', data);
    server.addFile('b.bin', data);
    server.inject('a.bin', { redirectTo: server.url('b.bin', 'localhost') });
    const { t, finalPath } = transfer('a.bin', { auth: { token: 'tok', origin: new URL(server.url('a.bin')).origin } });
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    assert.equal(server.requestsFor('a.bin')[0].authorization, 'Bearer tok');
    const b = server.requestsFor('b.bin');
    assert.ok(b.length > 0 && b.every((r) => r.host?.startsWith('localhost') && r.authorization === undefined));
  });

  it('keeps the token on a same-origin redirect', async () => {
    const data = generateData(PIECE);
    server.addFile('a.bin', data);
    server.addFile('b.bin', data, { requireToken: 'tok' });
    server.inject('a.bin', { redirectTo: server.url('b.bin') });
    const { t } = transfer('a.bin', { auth: { token: 'tok', origin: new URL(server.url('a.bin')).origin } });
    await run(t);
    assert.equal(server.requestsFor('b.bin')[0].authorization, 'Bearer tok');
  });

  it('refuses non-http URLs', async () => {
    const { t } = transfer('x', { url: 'file:///etc/passwd', expectedSize: 10 });
    await rejectsWith(run(t), 'fatal', /only http and https/);
  });

  it('fetches different ranges over several connections at once, never a byte twice', async () => {
    const data = generateData(8 * 1024 * 1024 + 3);
    server.addFile('a.bin', data);
    server.bytesPerSecondPerConnection = 2 * 1024 * 1024;
    const { t, finalPath } = transfer('a.bin', { settings: { connections: 4 } });
    await run(t);
    assert.deepEqual(await fs.readFile(finalPath), data);
    const ranges = server.requestsFor('a.bin').map((r) => r.range);
    assert.equal(new Set(ranges).size, ranges.length, `ranges: ${ranges.join(', ')}`);
    // At least (the server may still be finishing one body's pacing when that connection's next request arrives).
    assert.ok(server.maxConcurrent >= 4, `at most ${server.maxConcurrent} at once`);
    assert.equal(server.bytesSent, data.length);
    assert.equal(server.bytesSentTwice('a.bin'), 0);
  });

  it('records every piece hash when pieces complete out of order over several connections, or after a gap on resume', async () => {
    const data = generateData(16 * PIECE + 999);
    const expected = await pieceDigestsOf(data, PIECE);
    server.addFile('a.bin', data);
    server.bytesPerSecondPerConnection = 2 * 1024 * 1024;
    const multi = await transfer('a.bin', { settings: { connections: 4 } }).t.run(new AbortController().signal);
    assert.deepEqual(multi.pieces, expected);
    assert.equal(multi.sha256, sha256Of(data));
    // A resume with pieces 3..15 complete behind a damaged piece 2: those are hashed at the start.
    server.addFile('b.bin', data);
    server.inject('b.bin', { dropAfterBytes: 16 * PIECE });
    await assert.rejects(run(transfer('b.bin', { settings: { maxRetries: 0 } }).t));
    const repaired = await transfer('b.bin', { damagedPieces: [2] }).t.run(new AbortController().signal);
    assert.deepEqual(repaired.pieces, expected);
    assert.equal(repaired.sha256, sha256Of(data));
  });

  it('checks free space before starting', async () => {
    server.addFile('a.bin', generateData(4 * PIECE));
    const { t } = transfer('a.bin', { io: { ...NODE_IO, freeBytes: async () => PIECE } });
    await rejectsWith(run(t), 'diskFull', /disk full: 262 KB needed, 65\.5 KB free/);
    assert.equal(server.requests.length, 0);
  });

  it('resumes a partial file that was cut short, fetching again the pieces it lost', async () => {
    const data = generateData(8 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { dropAfterBytes: 6 * PIECE + 10 });
    const partial = transfer('a.bin', { settings: { maxRetries: 0 } });
    await assert.rejects(run(partial.t));
    assert.equal((await readPartState(partial.finalPath))?.completePieces.length, 6);
    await fs.truncate(`${partial.finalPath}.part`, 3 * PIECE + 7);
    server.resetCounters();
    const resumed = transfer('a.bin');
    await run(resumed.t);
    assert.deepEqual(await fs.readFile(resumed.finalPath), data);
    assert.equal(server.bytesSent, 5 * PIECE, 'pieces 3-7: the three cut off and the two never fetched');
  });

  it('re-fetches only the pieces a repair marks damaged', async () => {
    const data = generateData(6 * PIECE);
    server.addFile('a.bin', data);
    server.inject('a.bin', { dropAfterBytes: 6 * PIECE - 1 });
    const partial = transfer('a.bin', { settings: { maxRetries: 0 } });
    await assert.rejects(run(partial.t));
    // Damage piece 2 on disk; the state still says complete, a repair marks it missing.
    const fh = await fs.open(`${partial.finalPath}.part`, 'r+');
    await fh.write(Buffer.alloc(10), 0, 10, 2 * PIECE + 5);
    await fh.close();
    server.resetCounters();
    const repair = transfer('a.bin', { damagedPieces: [2] });
    await run(repair.t);
    assert.deepEqual(await fs.readFile(repair.finalPath), data);
    assert.equal(server.bytesSent, 2 * PIECE);
  });
});

describe('receiveBody', function () {
  it('passes a body through the slots into piece-aligned writes of the right bytes, and gives every slot back', async () => {
    const piece = 3 * 1024 * 1024 + 5;
    const data = generateData(2 * piece + 1000);
    const stream = new PassThrough();
    for (let at = 0; at < data.length; at += 16 * 1024) stream.write(data.subarray(at, at + 16 * 1024));
    stream.end();
    const pool = new SlotPool(4, 1024 * 1024);
    const out = Buffer.alloc(data.length);
    const writes: [number, number][] = [];
    const onDisk: [number, number][] = [];
    const reached = await receiveBody(new StreamBody(stream), 0, data.length, {
      pool, pieceSize: piece, stallMs: 10_000, limiter: new SpeedLimiter(0), signal: new AbortController().signal,
      async store(slot, length, offset) {
        // As the workers do: hold the slot while writing and hashing, give it back after.
        pool.hold(slot, 1);
        await new Promise((r) => setImmediate(r));
        pool.bytes(slot, 0, length).copy(out, offset);
        writes.push([offset, length]);
        pool.release(slot);
      },
      written: (offset, length) => { onDisk.push([offset, length]); },
      landed: () => undefined,
    });
    assert.equal(reached, data.length);
    assert.deepEqual(out, data);
    // 1 MiB slots, cut at the piece boundaries: 1+1+1+(5 bytes) per piece, then the tail.
    assert.deepEqual(writes.map(([, n]) => n), [1048576, 1048576, 1048576, 5, 1048576, 1048576, 1048576, 5, 1000]);
    assert.ok(writes.every(([offset, n]) => Math.floor(offset / piece) === Math.floor((offset + n - 1) / piece)));
    assert.deepEqual(onDisk, writes, 'each slot counts as on disk once written, in order');
    const slots = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
    assert.ok(slots.every((slot) => slot !== undefined), 'every slot is free again');
  });
});
