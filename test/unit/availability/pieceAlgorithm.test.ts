import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { updateManifestFiles } from '../../../src/engine/store/manifestWriter';
import { readManifest } from '../../../src/engine/store/storeScanner';
import { PIECE } from '../../support/downloadFixtures';
import { urlModel } from '../../support/engineFixtures';
import { FaultServer, generateData, pieceDigestsOf, sha256Of } from '../../support/faultServer';
import { flipByte, install, serverAndHarnessPerTest } from './integrityFixtures';

const PIECES = 32;
const SIZE = PIECES * PIECE + 1234;

function sha256Pieces(data: Buffer): string[] {
  return Array.from({ length: Math.ceil(data.length / PIECE) }, (_, i) => createHash('sha256').update(data.subarray(i * PIECE, (i + 1) * PIECE)).digest('hex'));
}

describe('piece digests: XXH64 pieces, sha256 proof', function () {
  this.timeout(30_000);
  const setup = serverAndHarnessPerTest();
  const { harness } = setup;
  let server: FaultServer;
  beforeEach(() => { server = setup.server(); });

  async function installed(): Promise<{ e: AvailabilityEngine; file: string; data: Buffer }> {
    const data = generateData(SIZE, 11);
    server.addFile('m.bin', data);
    const e = await harness.engine({ models: [urlModel(server, 'm', ['m.bin'])] });
    await install(e, ['m']);
    const file = e.getModelState('m')?.files[0].localPath ?? '';
    server.resetCounters();
    return { e, file, data };
  }

  /** Rewrites the manifest's pieces, as an older store (sha256 pieces, no algorithm) or a forged collision left them. */
  async function recordPieces(e: AvailabilityEngine, pieces: string[], pieceAlgorithm: 'xxh64' | undefined): Promise<void> {
    await updateManifestFiles(e.layout, 'm', '1.0.0', (files) => files.map((f) => ({ ...f, pieces, pieceAlgorithm })));
  }

  it('records XXH64 pieces on download', async () => {
    const { e, data } = await installed();
    const entry = (await readManifest(e.layout, 'm', '1.0.0'))?.files[0];
    assert.equal(entry?.pieceAlgorithm, 'xxh64');
    assert.deepEqual(entry?.pieces, await pieceDigestsOf(data, PIECE));
  });

  for (const checkFirst of [true, false]) {
    it(`repairs one flipped byte with one piece from a manifest with sha256 pieces (${checkFirst ? 'after a full check' : 'straight away'}), then records XXH64 pieces`, async () => {
      const { e, file, data } = await installed();
      await recordPieces(e, sha256Pieces(data), undefined);
      await flipByte(file, 20 * PIECE + 5);
      if (checkFirst) {
        const report = await e.integrity.verify('m');
        assert.deepEqual(report.files[0].changedPieces, [20]);
      }
      const result = await e.integrity.repair('m');
      assert.equal(result.health, 'green');
      assert.equal(server.bytesSent, PIECE);
      assert.equal(sha256Of(await fs.readFile(file)), sha256Of(data));
      const entry = (await readManifest(e.layout, 'm', '1.0.0'))?.files[0];
      assert.equal(entry?.pieceAlgorithm, 'xxh64');
      assert.deepEqual(entry?.pieces, await pieceDigestsOf(data, PIECE));
    });
  }

  it('rewrites sha256 pieces with XXH64 ones at the next full check of a good file', async () => {
    const { e, data } = await installed();
    await recordPieces(e, sha256Pieces(data), undefined);
    assert.equal((await e.integrity.verify('m')).health, 'green');
    const entry = (await readManifest(e.layout, 'm', '1.0.0'))?.files[0];
    assert.equal(entry?.pieceAlgorithm, 'xxh64');
    assert.deepEqual(entry?.pieces, await pieceDigestsOf(data, PIECE));
  });

  for (const checkFirst of [true, false]) {
    it(`a piece digest that collides (${checkFirst ? 'after a full check' : 'straight away'}) costs a full re-download, never a wrong file`, async () => {
      const { e, file, data } = await installed();
      await flipByte(file, 7 * PIECE + 99);
      // Forced collision: the manifest's digest of the damaged piece matches the damaged bytes.
      await recordPieces(e, await pieceDigestsOf(await fs.readFile(file), PIECE), 'xxh64');
      if (checkFirst) assert.equal((await e.integrity.verify('m')).health, 'red', 'the whole-file sha256 still catches it');
      const result = await e.integrity.repair('m');
      assert.equal(result.health, 'green');
      assert.equal(sha256Of(await fs.readFile(file)), sha256Of(data));
      assert.ok(server.bytesSent >= SIZE, `${server.bytesSent} bytes fetched: the whole file again`);
    });
  }
});
