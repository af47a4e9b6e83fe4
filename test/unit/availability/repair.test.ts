import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type { AvailabilityEngine } from '../../../src/engine/availability/engine';
import * as path from 'node:path';
import { markInPlaceRepair, writePartState } from '../../../src/engine/store/partState';
import { readManifest } from '../../../src/engine/store/storeScanner';
import { PIECE } from '../../support/downloadFixtures';
import { urlModel } from '../../support/engineFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';
import { EngineHarness, flipByte, install } from './integrityFixtures';

const PIECES = 32;
const SIZE = PIECES * PIECE; // 2 MiB in 64 KiB pieces

describe('verify and repair', function () {
  this.timeout(30_000);
  let server: FaultServer;
  const harness = new EngineHarness();

  beforeEach(async () => {
    server = await FaultServer.start();
    await harness.setUp();
  });
  afterEach(async () => {
    await harness.tearDown();
    await server.close();
  });

  async function installed(options: { rangeSupport?: boolean } = {}): Promise<{ e: AvailabilityEngine; file: string; data: Buffer }> {
    const data = generateData(SIZE, 7);
    server.addFile('m.bin', data, { rangeSupport: options.rangeSupport ?? true });
    const e = await harness.engine({ models: [urlModel(server, 'm', ['m.bin'])] });
    await install(e, ['m']);
    const file = e.getModelState('m')?.files[0].localPath ?? '';
    server.resetCounters();
    return { e, file, data };
  }

  it('cancelling an in-place repair gives the installed file back instead of deleting the model', async () => {
    const { e, file } = await installed();
    await flipByte(file, 3 * PIECE + 10);
    await e.integrity.verify('m');
    // The repair's one piece never arrives: it is stuck after the installed file became its .part.
    server.inject('m.bin', { stallAfterBytes: 0, times: 10 });
    const repair = e.integrity.repair('m');
    while (!(await fs.stat(`${file}.part`).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 20));
    await e.cancel('m');
    await repair.catch(() => undefined);
    const stat = await fs.stat(file);
    assert.equal(stat.size, SIZE, 'the installed file is back at its path');
    assert.ok(!(await fs.stat(`${file}.part`).then(() => true, () => false)), 'no partial data left');
    assert.equal(e.getModelState('m')?.health, 'red', 'still damaged, and still said so');
  });

  it('remove deletes the marker of a killed in-place repair, so a later cancel cannot put a partial file in place', async () => {
    const { e, file } = await installed();
    // What a repair killed mid-way leaves: the installed file turned into the .part, its state and the marker.
    await writePartState(file, {
      formatVersion: 1, url: server.url('m.bin'), size: SIZE, pieceSize: PIECE, sha256: sha256Of(await fs.readFile(file)),
      rangeSupported: true, completePieces: [...Array(PIECES).keys()].filter((i) => i !== 3), updatedAt: new Date().toISOString(),
    });
    await markInPlaceRepair(file);
    await fs.rename(file, `${file}.part`);
    await e.refresh();
    await e.integrity.remove('m');
    assert.deepEqual(await fs.readdir(path.dirname(file)).catch(() => []), [], 'nothing of the model is left');
    // A fresh download, stuck, then cancelled: its partial data goes, nothing appears at the file's path.
    server.inject('m.bin', { stallAfterBytes: PIECE / 2, times: 10 });
    e.download(['m']);
    while (!(await fs.stat(`${file}.part`).then((s) => s.size > 0, () => false))) await new Promise((r) => setTimeout(r, 20));
    await e.cancel('m');
    await assert.rejects(fs.stat(file), 'no partial file was put in place of the model');
  });

  it('names the changed piece, repairs about one piece, and is green again with the right sha256', async () => {
    const { e, file, data } = await installed();
    assert.equal(e.getModelState('m')?.health, 'green');
    await flipByte(file, 16 * PIECE + 1234);
    const progress: number[] = [];
    const report = await e.integrity.verify('m', { onProgress: (p) => progress.push(p.bytesDone) });
    assert.equal(report.health, 'red');
    assert.deepEqual(report.files[0].changedPieces, [16]);
    assert.equal(report.files[0].status, 'changed');
    assert.deepEqual(report.healthReasons.map((r) => r.code), ['corrupt']);
    assert.equal(progress.at(-1), SIZE);
    assert.equal(e.getModelState('m')?.state, 'missing', 'a corrupt model is not handed out as ready');
    assert.equal(server.bytesSent, 0);

    const result = await e.integrity.repair('m');
    assert.equal(result.error, undefined);
    assert.deepEqual(result.repaired, ['weights/m.bin']);
    // The Range probe before a piece repair asks past the end (416, no body): exactly one piece moves.
    assert.equal(server.bytesSent, PIECE);
    assert.equal(result.health, 'green');
    assert.equal(sha256Of(await fs.readFile(file)), sha256Of(data));
    const after = await e.integrity.verify('m');
    assert.equal(after.health, 'green');
    assert.equal(after.files[0].status, 'ok');
    assert.equal((await readManifest(e.layout, 'm', '1.0.0'))?.files[0].damagedPieces, undefined);
  });

  it('keeps the damage across a restart (red until repaired)', async () => {
    const { e, file } = await installed();
    await flipByte(file, 3);
    await e.integrity.verify('m');
    const again = await harness.engine({ models: e.getModels() });
    assert.equal(again.getModelState('m')?.health, 'red');
    assert.match(again.getModelState('m')?.healthReasons[0].message ?? '', /1 piece changed/);
  });

  it('resumes only the missing tail of a truncated file', async () => {
    const { e, file, data } = await installed();
    await fs.truncate(file, 20 * PIECE + 100);
    await e.refresh();
    assert.equal(e.getModelState('m')?.health, 'red');
    assert.equal(e.getModelState('m')?.healthReasons[0].code, 'truncated');
    const result = await e.integrity.repair('m');
    assert.equal(result.health, 'green');
    assert.equal(server.bytesSent, (PIECES - 20) * PIECE);
    assert.deepEqual(await fs.readFile(file), data);
  });

  it('resumes only the missing tail when less than half of a truncated file is left', async () => {
    const { e, file, data } = await installed();
    await fs.truncate(file, Math.floor(SIZE / 3));
    await e.refresh();
    assert.equal(e.getModelState('m')?.healthReasons[0].code, 'truncated');
    const result = await e.integrity.repair('m');
    assert.equal(result.health, 'green');
    // 10 whole pieces are left (and verified against the manifest); the 11th was cut and comes again.
    assert.equal(server.bytesSent, (PIECES - 10) * PIECE);
    assert.deepEqual(await fs.readFile(file), data);
  });

  it('cuts a file that grew back to its size', async () => {
    const { e, file, data } = await installed();
    await fs.appendFile(file, 'extra');
    await e.refresh();
    assert.equal(e.getModelState('m')?.healthReasons[0].code, 'grown');
    assert.equal((await e.integrity.repair('m')).health, 'green');
    assert.equal(server.bytesSent, 0);
    assert.deepEqual(await fs.readFile(file), data);
  });

  it('downloads a deleted file', async () => {
    const { e, file, data } = await installed();
    await fs.rm(file);
    await e.refresh();
    assert.equal(e.getModelState('m')?.health, 'red');
    assert.equal(e.getModelState('m')?.healthReasons[0].code, 'missingFiles');
    assert.equal((await e.integrity.repair('m')).health, 'green');
    assert.equal(server.bytesSent, SIZE);
    assert.deepEqual(await fs.readFile(file), data);
  });

  it('reports a corrupt manifest as red with a reason; repair and re-download fix it', async () => {
    const { e, file, data } = await installed();
    const manifest = e.layout.manifestPath('m', '1.0.0');
    await fs.writeFile(manifest, '{ "formatVersion": 1, "id": ');
    const fresh = await harness.engine({ models: e.getModels() });
    const s = fresh.getModelState('m');
    assert.equal(s?.health, 'red');
    assert.equal(s?.healthReasons[0].code, 'manifestUnreadable');
    assert.match(s?.healthReasons[0].message ?? '', /not valid JSON/);
    // The file still matches the catalog's sha256: the repair records it without transferring anything.
    const repaired = await fresh.integrity.repair('m');
    assert.equal(repaired.health, 'green');
    assert.equal(server.bytesSent, 0);
    await fs.writeFile(manifest, 'garbage');
    await fresh.refresh();
    assert.equal(fresh.getModelState('m')?.health, 'red');
    const again = await fresh.integrity.redownload('m');
    assert.equal(again.health, 'green');
    assert.equal(server.bytesSent, SIZE);
    assert.deepEqual(await fs.readFile(file), data);
  });

  it('downloads the whole file when the server ignores Range, keeping the old copy until the new one is verified', async () => {
    const { e, file, data } = await installed({ rangeSupport: false });
    await flipByte(file, 5 * PIECE);
    await e.integrity.verify('m');
    server.bytesPerSecondPerConnection = 1024 * 1024;
    const repairing = e.integrity.repair('m');
    // While the new copy downloads into .part, the old one is still at its path.
    let sawBoth = false;
    while (!sawBoth) {
      await new Promise((r) => setTimeout(r, 20));
      const part = await fs.stat(`${file}.part`).catch(() => undefined);
      if (part && part.size > 0) sawBoth = (await fs.stat(file)).size === SIZE;
    }
    assert.ok(sawBoth);
    const result = await repairing;
    assert.equal(result.health, 'green');
    assert.ok(server.bytesSent >= SIZE, `sent ${server.bytesSent}`);
    assert.deepEqual(await fs.readFile(file), data);
    assert.ok(harness.logger.lines.some((l) => /does not support Range/.test(l)), harness.logger.lines.join('\n'));
  });

  it('downloads the whole file again when more than half the pieces are bad', async () => {
    const { e, file, data } = await installed();
    for (let i = 0; i < 17; i++) await flipByte(file, i * PIECE + 9);
    const report = await e.integrity.verify('m');
    assert.equal(report.files[0].changedPieces?.length, 17);
    const result = await e.integrity.repair('m');
    assert.equal(result.health, 'green');
    assert.equal(server.bytesSent, SIZE);
    assert.deepEqual(await fs.readFile(file), data);
    assert.ok(harness.logger.lines.some((l) => /17 of 32 pieces are bad/.test(l)), harness.logger.lines.join('\n'));
  });

  it('reports a file without a catalog checksum as unverifiable (yellow) and a stale check as yellow', async () => {
    server.addFile('n.bin', generateData(2 * PIECE, 3));
    const model = urlModel(server, 'n', ['n.bin'], { sha256: undefined });
    const e = await harness.engine({ models: [model], health: { checkIntervalHours: 1 } });
    await install(e, ['n']);
    const report = await e.integrity.verify('n');
    assert.equal(report.health, 'yellow');
    assert.equal(report.files[0].status, 'unverifiable');
    assert.deepEqual(report.healthReasons.map((r) => r.code), ['unverifiable']);
    const manifest = await readManifest(e.layout, 'n', '1.0.0');
    const old = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await fs.writeFile(e.layout.manifestPath('n', '1.0.0'), JSON.stringify({ ...manifest, files: manifest?.files.map((f) => ({ ...f, verifiedAt: old })) }));
    await e.refresh();
    assert.deepEqual(e.getModelState('n')?.healthReasons.map((r) => r.code), ['unverifiable', 'stale']);
  });

  it('can be cancelled', async () => {
    const { e } = await installed();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(e.integrity.verify('m', { signal: controller.signal }));
  });
});
