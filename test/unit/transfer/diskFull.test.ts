import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DownloadError } from '../../../src/engine/core/downloadError';
import { readPartState } from '../../../src/engine/store/partState';
import { FileTransfer } from '../../../src/engine/transfer/fileTransfer';
import { SpeedLimiter } from '../../../src/engine/transfer/speedLimiter';
import { MemoryLogger, tempDir, testSettings } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';

const MiB = 1024 * 1024;

/**
 * A real, small disk (a 40 MiB tmpfs) that another program fills up while a 32 MiB download runs, after
 * the free-space check passed: the 96 MiB case at a third of the size.
 */
describe('a disk that fills up during a download', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let mount: string;
  let data: Buffer;

  before(async () => {
    mount = await tempDir('ma-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mount]);
    data = generateData(32 * MiB, 11);
  });
  after(async () => {
    execFileSync('umount', [mount]);
    await fs.rmdir(mount);
  });
  beforeEach(async () => {
    server = await FaultServer.start();
    server.addFile('big.bin', data);
  });
  afterEach(async () => {
    await server.close();
    for (const name of await fs.readdir(mount)) await fs.rm(path.join(mount, name), { recursive: true, force: true });
  });

  function transfer(pieceSizeBytes: number, connections: number): { t: FileTransfer; finalPath: string } {
    const finalPath = path.join(mount, 'big.bin');
    const settings = testSettings({ pieceSizeBytes, connections });
    const t = new FileTransfer({
      modelId: 'm', finalPath, url: server.url('big.bin'), isHub: false, expectedSha256: server.files.get('big.bin')?.sha256,
      expectedSize: data.length, limiter: new SpeedLimiter(0), logger: new MemoryLogger(), settings: () => settings,
    });
    return { t, finalPath };
  }

  /** Runs the transfer and, once about a third has arrived, fills what is left of the disk with another file. */
  async function runUntilDiskFull(t: FileTransfer): Promise<void> {
    server.bytesPerSecondPerConnection = 4 * MiB;
    const running = t.run(new AbortController().signal);
    while (server.bytesSent < data.length / 3) await new Promise((r) => setTimeout(r, 10));
    const { bavail, bsize } = await fs.statfs(mount);
    await fs.writeFile(path.join(mount, 'filler'), Buffer.alloc(Number(bavail) * Number(bsize))).catch(() => undefined);
    await assert.rejects(running, (err: unknown) => err instanceof DownloadError && err.kind === 'diskFull');
    await fs.rm(path.join(mount, 'filler'));
    server.bytesPerSecondPerConnection = 0;
  }

  async function leftovers(): Promise<string[]> {
    return (await fs.readdir(mount)).filter((n) => n.endsWith('.tmp'));
  }

  it('keeps the state of a multi-connection download that had no piece complete yet, and no temp files', async () => {
    // Four connections on 4 MiB pieces: each has a few MiB of its first piece when the disk fills.
    const first = transfer(4 * MiB, 4);
    await runUntilDiskFull(first.t);
    assert.ok(await readPartState(first.finalPath), 'the .part has its state, so the next run resumes it');
    assert.deepEqual(await leftovers(), []);
    const second = transfer(4 * MiB, 4);
    await second.t.run(new AbortController().signal);
    assert.deepEqual(await fs.readFile(second.finalPath), data);
  });

  it('resumes with every piece that was on disk when the disk filled up', async () => {
    const first = transfer(MiB, 1);
    await runUntilDiskFull(first.t);
    assert.equal(server.requestsFor('big.bin').length, 1, 'a full disk is not retried');
    const state = await readPartState(first.finalPath);
    const part = await fs.readFile(`${first.finalPath}.part`);
    let onDisk = 0;
    while (onDisk < 32 && part.subarray(onDisk * MiB, (onDisk + 1) * MiB).equals(data.subarray(onDisk * MiB, (onDisk + 1) * MiB))) onDisk++;
    assert.ok(onDisk >= 8, `${onDisk} pieces arrived before the disk filled`);
    assert.deepEqual(state?.completePieces, [...Array(onDisk).keys()], 'the state names every piece on disk');
    assert.deepEqual(await leftovers(), []);
    server.resetCounters();
    const second = transfer(MiB, 1);
    await second.t.run(new AbortController().signal);
    assert.equal(server.bytesSent, data.length - onDisk * MiB);
    assert.deepEqual(await fs.readFile(second.finalPath), data);
    assert.deepEqual(await fs.readdir(mount), ['big.bin'], 'the reserve and the state went with the .part');
  });
});
