import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type { AvailabilityEngineOptions, ModelChange } from '../../../src/engine/availability/engine';
import { ModelRequests } from '../../../src/engine/usage/requests/modelRequests';
import { PIECE } from '../../support/downloadFixtures';
import { EngineHarness, withFaultServer } from './integrityFixtures';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { generateData } from '../../support/faultServer';

describe('model state: versions, per-model events, failure codes', function () {
  this.timeout(20_000);
  const harness = new EngineHarness();
  const server = withFaultServer(harness);
  const engine = (opts: Partial<AvailabilityEngineOptions>) => harness.engine(opts);

  it('stays ready on the installed version when the catalog moves on, and requests get its paths', async () => {
    server().addFile('v1.bin', generateData(2 * PIECE, 1));
    server().addFile('v2.bin', generateData(3 * PIECE, 2));
    const v1 = urlModel(server(), 'm', ['v1.bin']);
    const e = await engine({ models: [v1] });
    e.download(['m']);
    await waitFor(e.onDidChangeModel, () => e.getModelState('m')?.installedVersion === '1.0.0');
    const oldPaths = e.getModelState('m')?.files.map((f) => f.localPath);

    // The catalog now says 1.1.0, with another file and sha256.
    await e.setModels([{ ...urlModel(server(), 'm', ['v2.bin']), version: '1.1.0' }]);
    const s = e.getModelState('m');
    assert.equal(s?.state, 'ready');
    assert.equal(s?.installedVersion, '1.0.0');
    assert.equal(s?.wantedVersion, '1.1.0');
    assert.equal(s?.health, 'green');
    assert.deepEqual(s?.files.map((f) => f.localPath), oldPaths);

    // A full check checks what is installed; a repair would fetch the new version, which is an update, not a repair.
    const report = await e.integrity.verify('m');
    assert.equal(report.health, 'green');
    assert.deepEqual(report.files.map((f) => [f.path, f.status]), [['weights/v1.bin', 'ok']]);
    await assert.rejects(e.integrity.repair('m'), /cannot repair m 1\.0\.0: the catalog now asks for 1\.1\.0/);

    const requests = new ModelRequests(e, () => ({ strategy: 'queue', minCompatibility: 60, autoDownload: true }), async () => undefined);
    try {
      const lease = await requests.requestModel('m');
      assert.equal(lease.mode, 'ready');
      assert.deepEqual(lease.paths, oldPaths);
      assert.equal(server().requestsFor('v2.bin').length, 0, 'a request does not start the update');
      lease.release();
    } finally {
      requests.dispose();
    }

    // Remove takes away what is installed: nothing usable is left.
    await e.integrity.remove('m');
    assert.equal(e.getModelState('m')?.state, 'missing');
    assert.equal(e.getModelState('m')?.installedVersion, null);
    assert.deepEqual(await e.installedVersions('m'), []);
  });

  it('keeps showing damage of the catalog version rather than falling back to an older one', async () => {
    server().addFile('v1.bin', generateData(2 * PIECE, 1));
    server().addFile('v2.bin', generateData(2 * PIECE, 2));
    const e = await engine({ models: [urlModel(server(), 'm', ['v1.bin'])] });
    e.download(['m']);
    await waitFor(e.onDidChangeModel, () => e.getModelState('m')?.installedVersion === '1.0.0');
    await e.setModels([{ ...urlModel(server(), 'm', ['v2.bin']), version: '2.0.0' }]);
    e.download(['m']);
    await waitFor(e.onDidChangeModel, () => e.getModelState('m')?.installedVersion === '2.0.0');
    await fs.truncate(e.getModelState('m')?.files[0].localPath ?? '', PIECE);
    await e.refresh(['m']);
    const s = e.getModelState('m');
    assert.equal(s?.installedVersion, null);
    assert.equal(s?.health, 'red');
    assert.ok(s?.healthReasons.some((r) => r.code === 'truncated'));
  });

  it('names the model and the kind of every change; state changes go out at once, the last one is never lost', async () => {
    server().addFile('a.bin', generateData(8 * PIECE, 1));
    server().addFile('b.bin', generateData(PIECE, 2));
    // About 2 s for a: long enough to see progress and pause it midway.
    server().bytesPerSecondPerConnection = 256 * 1024;
    const e = await engine({ models: [urlModel(server(), 'a', ['a.bin']), urlModel(server(), 'b', ['b.bin'])] });
    const changes: ModelChange[] = [];
    const seen: string[] = [];
    e.onDidChangeModel((c) => { changes.push(c); seen.push(e.getModelState(c.id)?.state ?? ''); });
    e.download(['a']);
    // At once, and a download that starts at once is told as started: no view shows a passing "queued".
    assert.deepEqual(changes, [{ id: 'a', kind: 'state' }]);
    assert.deepEqual(seen, ['downloading']);
    await waitFor(e.onDidChangeModel, () => (e.getModelState('a')?.progress?.bytesDone ?? 0) > PIECE);
    assert.ok(changes.some((c) => c.id === 'a' && c.kind === 'progress'));
    changes.length = 0;
    e.downloads.pause('a');
    assert.deepEqual(changes, [{ id: 'a', kind: 'state' }], 'a pause is told at once, and b did not change');
    e.downloads.resume('a');
    await e.whenIdle();
    // The rescan, then ready as the last state change: whoever re-reads on each event ends on the true state.
    assert.deepEqual(changes.filter((c) => c.id === 'a').slice(-2), [{ id: 'a', kind: 'files' }, { id: 'a', kind: 'state' }]);
    assert.equal(e.getModelState('a')?.state, 'ready');
    assert.ok(!changes.some((c) => c.id === 'b'));

    changes.length = 0;
    e.configure({ health: { checkIntervalHours: 1 } });
    assert.deepEqual(changes, [{ id: 'a', kind: 'health' }, { id: 'b', kind: 'health' }]);
  });

  it('gives a download failure a code to decide on: not-found, auth, checksum', async () => {
    server().addFile('gated.bin', generateData(PIECE, 1), { requireToken: 'secret' });
    server().addFile('good.bin', generateData(PIECE, 2));
    const e = await engine({
      models: [
        { ...urlModel(server(), 'gone', ['good.bin']), files: [{ ...urlModel(server(), 'x', ['good.bin']).files[0], source: { kind: 'url', url: server().url('nope.bin') } }] },
        urlModel(server(), 'gated', ['gated.bin']),
        urlModel(server(), 'wrong', ['good.bin'], { sha256: 'f'.repeat(64) }),
      ],
      settings: { maxRetries: 0 },
    });
    const codes = new Map<string, string>();
    e.onDidFail((f) => codes.set(f.id, f.code));
    e.download(['gone', 'gated', 'wrong']);
    await Promise.all(['gone', 'gated', 'wrong'].map((id) => waitFor(e.onDidFail, () => codes.has(id))));
    assert.deepEqual(Object.fromEntries(codes), { gone: 'not-found', gated: 'auth', wrong: 'checksum' });
    assert.equal(e.getModelState('gone')?.failure?.code, 'not-found');
    assert.match(e.getModelState('gone')?.failure?.message ?? '', /not found at URL/);
    assert.equal(e.getModelState('gated')?.state, 'failed');
  });
});
