import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { OperationRefusedError } from '../../../src/engine/availability/engine';
import { HealthMonitor } from '../../../src/engine/usage/healthMonitor';
import { MemoryLogger, PIECE } from '../../support/downloadFixtures';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { EngineHarness, flipByte, install } from './integrityFixtures';

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
}

describe('remove and the health monitor', function () {
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

  const refused = (reason: OperationRefusedError['reason']) => (err: unknown): boolean => err instanceof OperationRefusedError && err.reason === reason;

  it('removes files and manifest, returns the bytes freed, and refuses in-use models and running downloads', async () => {
    server.addFile('a.bin', generateData(4 * PIECE, 1));
    server.addFile('b.bin', generateData(16 * PIECE, 2));
    const e = await harness.engine({ models: [urlModel(server, 'a', ['a.bin']), urlModel(server, 'b', ['b.bin'])] });
    await install(e, ['a']);
    const file = e.getModelState('a')?.files[0].localPath ?? '';
    const lease = e.uses.register({ kind: 'lease', modelId: 'a' });
    // The engine consults its own guard: no surface passes a callback.
    await assert.rejects(e.integrity.remove('a'), (err: unknown) => refused('inUse')(err) && /in use by 1 lease/.test((err as Error).message));
    await assert.rejects(e.integrity.repair('a'), (err: unknown) => refused('inUse')(err) && /cannot repair a: in use by 1 lease/.test((err as Error).message));
    await assert.rejects(e.integrity.redownload('a'), refused('inUse'));
    const generation = e.uses.register({ kind: 'generation', modelId: 'a' });
    await assert.rejects(e.integrity.remove('a'), /a generation is running/);
    generation.dispose();
    lease.dispose();
    assert.equal((await fs.stat(file)).size, 4 * PIECE);

    server.bytesPerSecondPerConnection = 256 * 1024;
    e.download(['b']);
    await waitFor(e.onDidChangeModel, () => e.getModelState('b')?.state === 'downloading');
    await assert.rejects(e.integrity.remove('b'), refused('downloading'));
    await e.cancel('b');

    const freed = await e.integrity.remove('a');
    // The file and its small manifest.
    assert.ok(freed > 4 * PIECE && freed < 4 * PIECE + 4096, `freed ${freed}`);
    await assert.rejects(fs.stat(file));
    await assert.rejects(fs.stat(e.layout.manifestPath('a', '1.0.0')));
    await assert.rejects(fs.stat(e.layout.modelDir('a', '1.0.0')));
    const s = e.getModelState('a');
    assert.equal(s?.state, 'missing');
    assert.equal(s?.health, null);
  });

  it('runs full checks on a short interval, skips models in use, and auto-repairs', async () => {
    server.addFile('a.bin', generateData(8 * PIECE, 1));
    server.addFile('b.bin', generateData(8 * PIECE, 2));
    const e = await harness.engine({ models: [urlModel(server, 'a', ['a.bin']), urlModel(server, 'b', ['b.bin'])] });
    await install(e, ['a', 'b']);
    await flipByte(e.getModelState('a')?.files[0].localPath ?? '', 3 * PIECE);
    await flipByte(e.getModelState('b')?.files[0].localPath ?? '', 3 * PIECE);
    server.resetCounters();
    const logger = new MemoryLogger();
    const lease = e.uses.register({ kind: 'lease', modelId: 'b' });
    const monitor = new HealthMonitor({ engine: e, logger, intervalMs: () => 200, pauseBetweenPiecesMs: 1 });
    try {
      await until(() => e.getModelState('a')?.health === 'green' && logger.lines.some((l) => /auto-repair finished/.test(l)));
      assert.equal(server.bytesSent, PIECE);
      assert.ok(logger.lines.some((l) => /scheduled check: red/.test(l)), logger.lines.join('\n'));
      assert.ok(logger.lines.some((l) => /skipped: in use by 1 lease/.test(l)), logger.lines.join('\n'));
      // b was never checked while in use: the quick check cannot see a flipped byte.
      assert.equal(e.getModelState('b')?.health, 'green');
      lease.dispose();
      await until(() => logger.lines.filter((l) => /auto-repair finished/.test(l)).length === 2);
      assert.equal(e.getModelState('b')?.health, 'green');
    } finally {
      monitor.dispose();
    }
  });

  it('does nothing when the interval is 0', async () => {
    server.addFile('a.bin', generateData(2 * PIECE, 1));
    const e = await harness.engine({ models: [urlModel(server, 'a', ['a.bin'])], health: { checkIntervalHours: 0 } });
    await install(e, ['a']);
    const logger = new MemoryLogger();
    const monitor = new HealthMonitor({ engine: e, logger });
    await monitor.runRound();
    monitor.dispose();
    assert.deepEqual(logger.lines, []);
  });
});
