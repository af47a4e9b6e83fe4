import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { installedModels } from '../../../src/engine/usage/analytics/storageCleanup';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';

describe('install time', () => {
  it('is recorded once: checks and repairs refresh verifiedAt but not installedAt, which is what cleanup ages by', async () => {
    const server = await FaultServer.start();
    server.addFile('w.bin', generateData(256 * 1024, 4));
    const store = await mkdtemp(path.join(os.tmpdir(), 'ma-installed-'));
    const engine = await AvailabilityEngine.create({ storeRoot: store, models: [urlModel(server, 'm', ['w.bin'])], settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false });
    const file = () => engine.getModelState('m')?.files[0];
    try {
      engine.download(['m']);
      await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.state === 'ready');
      const installedAt = file()?.installedAt;
      assert.ok(installedAt, 'the download records when the file was installed');
      assert.equal(file()?.verifiedAt, installedAt);
      await new Promise((r) => setTimeout(r, 20));

      // Damage one byte, find it with a full check, repair it: the file is verified anew, not installed anew.
      const fh = await open(file()?.localPath ?? '', 'r+');
      await fh.write(Buffer.from([0xff]), 0, 1, 70 * 1024);
      await fh.close();
      assert.equal((await engine.integrity.verify('m')).health, 'red');
      await engine.integrity.repair('m');
      await engine.integrity.verify('m');
      const verifiedAt = file()?.verifiedAt ?? '';
      assert.ok(verifiedAt > installedAt, `verified again (${verifiedAt}) after the install (${installedAt})`);
      assert.equal(file()?.installedAt, installedAt, 'the install time survives the check and the repair');
      assert.equal(installedModels(engine, new Map())[0]?.installedAt, Date.parse(installedAt));
    } finally {
      engine.dispose();
      await server.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});
