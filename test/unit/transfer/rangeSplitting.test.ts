import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PaceJudge } from '../../../src/engine/transfer/connectionPace';
import { FileTransfer } from '../../../src/engine/transfer/fileTransfer';
import { SpeedLimiter } from '../../../src/engine/transfer/speedLimiter';
import type { DownloadSettings } from '../../../src/engine/transfer/settings';
import { MemoryLogger, serverAndFolderPerTest, testSettings } from '../../support/downloadFixtures';
import { FaultServer, generateData, sha256Of, type RequestRecord } from '../../support/faultServer';

const MiB = 1024 * 1024;

/** [start, end) of each request's Range header, in the order the server saw them. */
function rangesOf(requests: readonly RequestRecord[]): { start: number; end: number }[] {
  return requests.map((r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
    if (!m) throw new Error(`unexpected range ${r.range}`);
    return { start: Number(m[1]), end: Number(m[2]) + 1 };
  });
}

for (const transport of ['direct', 'platform'] as const) describe(`dynamic range splitting (${transport} transport)`, function () {
  this.timeout(30_000);
  const setup = serverAndFolderPerTest();
  let server: FaultServer;
  beforeEach(() => { server = setup.server(); });

  async function download(name: string, settings: Partial<DownloadSettings>, logger = new MemoryLogger(), pace?: PaceJudge): Promise<string> {
    const file = server.files.get(name);
    const finalPath = path.join(setup.dir(), name);
    const all = testSettings({ transport, pieceSizeBytes: 4 * MiB, connections: 4, ...settings });
    const result = await new FileTransfer({
      modelId: 'm', finalPath, url: server.url(name), isHub: false, expectedSha256: file?.sha256, expectedSize: file?.data.length,
      limiter: new SpeedLimiter(0), logger, settings: () => all, pace,
    }).run(new AbortController().signal);
    assert.equal(result.sha256, file?.sha256);
    return finalPath;
  }

  for (const slow of [false, true]) {
    it(`splits ranges between connections and never fetches a byte twice${slow ? ', also with one slow connection' : ''}`, async () => {
      const data = generateData(10 * MiB + 1);
      server.addFile('a.bin', data);
      server.bytesPerSecondPerConnection = 4 * MiB;
      if (slow) server.halfSpeedEvery = 4;
      const logger = new MemoryLogger();
      const finalPath = await download('a.bin', {}, logger);
      assert.equal(sha256Of(await fs.readFile(finalPath)), sha256Of(data));
      assert.equal(server.bytesSent, data.length);
      assert.equal(server.bytesSentTwice('a.bin'), 0);
      const requests = server.requestsFor('a.bin');
      if (transport === 'direct') {
        // Kept alive: range after range on the same few connections, not a TCP handshake per request.
        const connections = new Set(requests.map((r) => r.connection));
        assert.ok(requests.length > 4 && connections.size <= 4, `${requests.length} requests on ${connections.size} connections`);
      }
      // Each split the log names was fetched as two requests that meet at its midpoint.
      const splits = logger.lines.map((l) => /splitting bytes (\d+)-(\d+): another connection takes (\d+)-/.exec(l)).filter((m) => m !== null);
      assert.ok(splits.length >= 1, `no split: ${logger.lines.join('; ')}`);
      const ranges = rangesOf(requests);
      for (const [, , , mid] of splits) {
        assert.ok(ranges.some((r) => r.end === Number(mid)) && ranges.some((r) => r.start === Number(mid)), `split at ${mid}`);
      }
    });
  }

  it('goes on with one connection once the pace says this machine is the limit, and keeps all four while it does not', async () => {
    const data = generateData(14 * MiB + 5);
    server.addFile('a.bin', data);
    server.bytesPerSecondPerConnection = 4 * MiB;
    const asked: number[] = [];
    const bound: PaceJudge = { machineBound: (rate) => { asked.push(rate); return true; } };
    await download('a.bin', { pieceSizeBytes: MiB }, new MemoryLogger(), bound);
    const requests = server.requestsFor('a.bin');
    const trace = requests.map((r) => `${r.range} alongside ${r.alongside}`).join('; ');
    assert.ok(requests.slice(0, 4).some((r) => r.alongside === 3), `four connections started: ${trace}`);
    // Until each has finished a request, each asks for one piece; then only the first asks, for all the rest at once.
    const later = rangesOf(requests.slice(4));
    assert.ok(later.length >= 1 && later.length <= 4, `one request for the rest: ${trace}`);
    assert.deepEqual(later.slice(0, -1).map((r) => r.end - r.start).filter((n) => n > MiB), [], trace);
    assert.equal(later.at(-1)?.end, data.length, trace);
    assert.ok(asked.length >= 1 && asked.every((rate) => rate > 0), 'asked with a measured speed');
    assert.equal(server.bytesSentTwice('a.bin'), 0);

    server.resetCounters();
    await fs.rm(path.join(setup.dir(), 'a.bin'));
    await download('a.bin', { pieceSizeBytes: MiB }, new MemoryLogger(), { machineBound: () => false });
    const freeLater = server.requestsFor('a.bin').slice(4);
    assert.ok(freeLater.length >= 6, `the network is the limit: requests go on on all connections (${freeLater.length})`);
    assert.ok(freeLater.filter((r) => r.alongside >= 2).length >= freeLater.length / 2, `side by side: ${freeLater.map((r) => r.alongside).join(' ')}`);
  });

  it('starts no other connection when the first alone already shows this machine is the limit', async () => {
    const data = generateData(6 * MiB + 7);
    server.addFile('a.bin', data);
    // Slow enough that the first connection is still on its first piece when the early look comes.
    server.bytesPerSecondPerConnection = 4 * MiB;
    const asked: number[] = [];
    const early: PaceJudge = { machineBound: () => false, boundEarly: (rate) => { asked.push(rate); return true; } };
    await download('a.bin', { pieceSizeBytes: MiB }, new MemoryLogger(), early);
    const requests = server.requestsFor('a.bin');
    const trace = requests.map((r) => `${r.range} on ${r.connection}`).join('; ');
    // Only the first connection asks: one piece first (asked before the look), then all the rest in one request.
    assert.deepEqual(rangesOf(requests).map((r) => [r.start, r.end]), [[0, MiB], [MiB, data.length]], trace);
    assert.ok(asked.length >= 1 && asked.every((rate) => rate > 0), `asked with a measured speed: ${asked.join(', ')}`);
  });

  it('ends at once when cancelled before the connections began (a cancel during the transfer\'s set-up)', async () => {
    const data = generateData(3 * MiB + 3);
    server.addFile('a.bin', data);
    const cancelled = new AbortController();
    cancelled.abort(new Error('cancelled'));
    const all = testSettings({ transport, pieceSizeBytes: MiB, connections: 4 });
    const file = server.files.get('a.bin');
    // The connections after the first waited for the first one's 206 or an 'abort' event that had fired already: forever.
    await assert.rejects(new FileTransfer({
      modelId: 'm', finalPath: path.join(setup.dir(), 'a.bin'), url: server.url('a.bin'), isHub: false, expectedSha256: file?.sha256, expectedSize: data.length,
      limiter: new SpeedLimiter(0), logger: new MemoryLogger(), settings: () => all,
    }).run(cancelled.signal));
  });

  it('resumes a split range that fails from the last byte that arrived', async () => {
    const data = generateData(10 * MiB + 1);
    server.addFile('a.bin', data);
    server.bytesPerSecondPerConnection = 4 * MiB;
    // The first request runs alone until its 206 arrives; the second is another connection's claim. It stalls part-way.
    const stallAfter = 300_007;
    server.inject('a.bin', {}, { stallAfterBytes: stallAfter });
    await download('a.bin', { stallTimeoutSeconds: 0.3 });
    const ranges = rangesOf(server.requestsFor('a.bin'));
    const failed = ranges[1];
    assert.ok(failed.start > 0, 'the second request is not the first connection\'s');
    const resumed = ranges.slice(2).find((r) => r.start === failed.start + stallAfter);
    assert.ok(resumed, `no request resumed at ${failed.start + stallAfter}: ${ranges.map((r) => `${r.start}-${r.end}`).join(', ')}`);
    assert.equal(server.bytesSentTwice('a.bin'), 0);
  });
});
