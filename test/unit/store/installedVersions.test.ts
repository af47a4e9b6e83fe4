import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';

describe('installed versions', () => {
  it('lists the versions on disk after the catalog moves on, and removes an older one but not the current', async () => {
    const server = await FaultServer.start();
    server.addFile('w.bin', generateData(100 * 1024, 9));
    const store = await mkdtemp(path.join(os.tmpdir(), 'ma-versions-'));
    const v1 = urlModel(server, 'm', ['w.bin']);
    const engine = await AvailabilityEngine.create({ storeRoot: store, models: [v1], settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false });
    const ready = () => waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.state === 'ready');
    try {
      engine.download(['m']);
      await ready();
      const oldFile = engine.getModelState('m')?.files[0].localPath ?? '';
      await engine.setModels([{ ...v1, version: '2.0.0' }]);
      // The catalog moved on; 1.0.0 is still what is installed and what requests get.
      assert.equal(engine.getModelState('m')?.state, 'ready');
      assert.equal(engine.getModelState('m')?.installedVersion, '1.0.0');
      engine.download(['m']);
      await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('m')?.installedVersion === '2.0.0');
      assert.deepEqual((await engine.installedVersions('m')).map((v) => [v.version, v.bytes]).sort(), [['1.0.0', 100 * 1024], ['2.0.0', 100 * 1024]]);
      await assert.rejects(engine.removeVersion('m', '2.0.0'), /current version of m; use Remove Model/);
      const freed = await engine.removeVersion('m', '1.0.0');
      assert.ok(freed >= 100 * 1024 && freed < 110 * 1024, `freed the file and its manifest (${freed} bytes)`);
      assert.ok(!existsSync(oldFile), 'the old version\'s file is gone');
      assert.deepEqual((await engine.installedVersions('m')).map((v) => v.version), ['2.0.0']);
      assert.equal(engine.getModelState('m')?.state, 'ready');
    } finally {
      engine.dispose();
      await server.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});
