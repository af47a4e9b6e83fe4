import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { OperationRefusedError } from '../../../src/engine/core/operationRefused';
import { MOVE_MARKER, moveStore } from '../../../src/engine/availability/moveStore';
import { UseGuard } from '../../../src/engine/availability/useGuard';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { urlModel } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { EngineHarness, flipByte, install } from './integrityFixtures';

describe('moveStore', function () {
  this.timeout(30_000);
  let server: FaultServer;
  let target: string;
  const harness = new EngineHarness();
  const uses = new UseGuard();

  beforeEach(async () => {
    server = await FaultServer.start();
    await harness.setUp();
    target = path.join(await tempDir('ma-move-'), 'new store');
  });
  afterEach(async () => {
    await harness.tearDown();
    await server.close();
    await fs.rm(path.dirname(target), { recursive: true, force: true });
  });

  async function filledStore(): Promise<{ a: Buffer; b: Buffer }> {
    const a = generateData(6 * PIECE, 1);
    const b = generateData(3 * PIECE + 5, 2);
    server.addFile('a.bin', a);
    server.addFile('b.bin', b);
    const e = await harness.engine({ models: [urlModel(server, 'a', ['a.bin']), urlModel(server, 'b', ['b.bin'])] });
    await install(e, ['a', 'b']);
    e.dispose();
    return { a, b };
  }

  it('copies, verifies, lets the caller switch, then deletes the old copy; the new store is green', async () => {
    const { a } = await filledStore();
    const phases = new Set<string>();
    let committed = false;
    const result = await moveStore(harness.store, target, { uses,
      onProgress: (p) => phases.add(p.phase),
      commit: async () => {
        // The switch happens only after everything is in the target and the old copy is still complete.
        assert.deepEqual(await fs.readFile(path.join(target, 'models', 'a', '1.0.0', 'weights', 'a.bin')), a);
        assert.ok(await fs.stat(path.join(harness.store, 'models', 'a', '1.0.0', 'weights', 'a.bin')));
        committed = true;
      },
    });
    assert.ok(committed);
    assert.deepEqual([...phases], ['copy', 'delete']);
    // Four model files and each model's installed.json (which version is installed moves with the store).
    assert.equal(result.files, 6);
    assert.equal(result.bytesCopied, result.bytes);
    assert.deepEqual(await fs.readdir(harness.store), []);
    await assert.rejects(fs.stat(path.join(target, MOVE_MARKER)));
    const moved = await harness.engine({ storeRoot: target, models: [urlModel(server, 'a', ['a.bin']), urlModel(server, 'b', ['b.bin'])] });
    assert.deepEqual(moved.getModelStates().map((s) => s.health), ['green', 'green']);
    assert.equal((await moved.integrity.verify('b')).health, 'green');
  });

  it('moves only what the store owns, leaving other files in its folder (analytics, catalog cache) where they are', async () => {
    await filledStore();
    await fs.writeFile(path.join(harness.store, 'analytics.sqlite'), 'usage');
    await fs.mkdir(path.join(harness.store, 'catalog-cache'));
    await fs.writeFile(path.join(harness.store, 'catalog-cache', 'x.json'), '{}');
    await moveStore(harness.store, target, { uses, commit: async () => undefined });
    assert.equal(await fs.readFile(path.join(harness.store, 'analytics.sqlite'), 'utf8'), 'usage');
    assert.equal(await fs.readFile(path.join(harness.store, 'catalog-cache', 'x.json'), 'utf8'), '{}');
    assert.ok(!(await fs.stat(path.join(target, 'analytics.sqlite')).then(() => true, () => false)));
    assert.ok(await fs.stat(path.join(target, 'models', 'a', '1.0.0', 'weights', 'a.bin')));
  });

  it('resumes after an interruption, copying only what was not done', async () => {
    await filledStore();
    const controller = new AbortController();
    await assert.rejects(moveStore(harness.store, target, { uses,
      signal: controller.signal,
      onProgress: (p) => { if (p.file?.endsWith('b.bin')) controller.abort(); },
      commit: async () => assert.fail('must not switch an incomplete copy'),
    }));
    const marker = JSON.parse(await fs.readFile(path.join(target, MOVE_MARKER), 'utf8')) as { done: Record<string, number> };
    const copiedBefore = Object.values(marker.done).reduce((s, n) => s + n, 0);
    assert.ok(copiedBefore >= 6 * PIECE, `copied ${copiedBefore}`);
    const result = await moveStore(harness.store, target, { uses, commit: async () => undefined });
    assert.equal(result.bytesCopied, result.bytes - copiedBefore);
    assert.deepEqual(await fs.readdir(harness.store), []);
  });

  it('refuses while a model is in use, and holds the guard while it copies', async () => {
    await filledStore();
    const lease = uses.register({ kind: 'lease', modelId: 'a' });
    await assert.rejects(moveStore(harness.store, target, { uses, commit: async () => undefined }),
      (err: unknown) => err instanceof OperationRefusedError && err.reason === 'inUse' && /cannot move the storage: in use by 1 lease/.test(err.message));
    lease.dispose();
    let duringCopy: string | undefined;
    await moveStore(harness.store, target, { uses, onProgress: () => { duringCopy ??= uses.reasonAgainst('a'); }, commit: async () => undefined });
    // Meanwhile the health monitor and repairs see the move; afterwards nothing holds the store.
    assert.equal(duringCopy, 'storage is being moved');
    assert.equal(uses.reasonAgainst('a'), undefined);
  });

  it('refuses a target without enough free space, and one inside the source', async () => {
    await filledStore();
    await assert.rejects(
      moveStore(harness.store, target, { uses, freeBytes: async () => 1024, commit: async () => undefined }),
      (err: unknown) => err instanceof OperationRefusedError && err.reason === 'noSpace' && /not enough free space/.test(err.message),
    );
    await assert.rejects(
      moveStore(harness.store, path.join(harness.store, 'inside'), { uses, commit: async () => undefined }),
      (err: unknown) => err instanceof OperationRefusedError && err.reason === 'badTarget',
    );
    await assert.rejects(fs.stat(target));
  });

  it('does not switch to a copy that does not match its manifest', async () => {
    await filledStore();
    await flipByte(path.join(harness.store, 'models', 'a', '1.0.0', 'weights', 'a.bin'), 10);
    await assert.rejects(moveStore(harness.store, target, { uses, commit: async () => assert.fail('must not switch') }), /does not match its manifest/);
    assert.ok(await fs.stat(path.join(harness.store, 'models', 'a', '1.0.0', 'weights', 'a.bin')));
  });
});
