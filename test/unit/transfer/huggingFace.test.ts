import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { resolveHubFile } from '../../../src/engine/transfer/http/huggingFace';
import { waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { COMMIT, startHub, TOKEN } from '../../support/mockHub';


describe('Hugging Face files', () => {
  let cdn: FaultServer;
  let store: string;
  const data = generateData(300 * 1024, 31);

  beforeEach(async () => {
    cdn = await FaultServer.start();
    cdn.addFile('tiny.Q4_K_M.gguf', data);
    store = await mkdtemp(path.join(os.tmpdir(), 'ma-hf-'));
  });
  afterEach(async () => {
    await cdn.close();
    await rm(store, { recursive: true, force: true });
  });

  const hfModel = (): ModelEntry => ({
    id: 'tiny', name: 'Tiny', version: '1.0.0', alternatives: [], origin: 'test',
    files: [{ path: 'tiny.gguf', source: { kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file: 'tiny.Q4_K_M.gguf' } }],
  });

  it('resolves the revision to a commit and takes sha256 and size from the hub', async () => {
    const f = cdn.files.get('tiny.Q4_K_M.gguf');
    assert.ok(f);
    const hub = await startHub(cdn, { name: 'tiny.Q4_K_M.gguf', sha256: f.sha256, size: data.length }, false);
    try {
      const resolved = await resolveHubFile({ kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file: 'tiny.Q4_K_M.gguf' }, { endpoint: hub.endpoint });
      assert.equal(resolved.commit, COMMIT);
      assert.equal(resolved.sha256, f.sha256);
      assert.equal(resolved.size, data.length);
      assert.equal(resolved.url, `${hub.endpoint}/org/tiny-GGUF/resolve/${COMMIT}/tiny.Q4_K_M.gguf`);
      assert.equal(new URLSearchParams(hub.requests[1].body).get('paths'), 'tiny.Q4_K_M.gguf');
    } finally {
      await hub.close();
    }
  });

  it('downloads a gated file with the token, sends the token to the hub only, never to the CDN it redirects to', async () => {
    const f = cdn.files.get('tiny.Q4_K_M.gguf');
    assert.ok(f);
    const hub = await startHub(cdn, { name: 'tiny.Q4_K_M.gguf', sha256: f.sha256, size: data.length }, true);
    const engine = await AvailabilityEngine.create({
      storeRoot: store, models: [hfModel()], hfEndpoint: hub.endpoint, credentials: async (origin) => (origin === new URL(hub.endpoint).origin ? { token: TOKEN } : undefined),
      settings: { pieceSizeBytes: 64 * 1024 }, persistQueue: false,
    });
    try {
      engine.download(['tiny']);
      await waitFor((l) => engine.onDidChangeModel(l), () => ['ready', 'failed'].includes(engine.getModelState('tiny')?.state ?? ''));
      const s = engine.getModelState('tiny');
      assert.equal(s?.state, 'ready', s?.error);
      assert.deepEqual(await readFile(s.files[0].localPath), data);
      assert.ok(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`), 'every hub request carries the token');
      const cdnRequests = cdn.requestsFor('tiny.Q4_K_M.gguf');
      assert.ok(cdnRequests.length > 0);
      assert.ok(cdnRequests.every((r) => r.authorization === undefined), 'the CDN never sees the token');
      assert.ok(cdnRequests.every((r) => r.host?.startsWith('localhost')));
    } finally {
      engine.dispose();
      await hub.close();
    }
  });

  it('says the model is gated and needs a token when the hub answers 401', async () => {
    const f = cdn.files.get('tiny.Q4_K_M.gguf');
    assert.ok(f);
    const hub = await startHub(cdn, { name: 'tiny.Q4_K_M.gguf', sha256: f.sha256, size: data.length }, true);
    const engine = await AvailabilityEngine.create({ storeRoot: store, models: [hfModel()], hfEndpoint: hub.endpoint, persistQueue: false });
    try {
      engine.download(['tiny']);
      await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('tiny')?.state === 'failed');
      assert.match(engine.getModelState('tiny')?.error ?? '', /this model is gated: the Hugging Face hub refused access \(HTTP 401/);
      assert.equal(hub.requests.length, 1, 'a 401 is not retried');
    } finally {
      engine.dispose();
      await hub.close();
    }
  });
});
