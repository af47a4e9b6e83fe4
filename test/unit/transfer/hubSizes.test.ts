import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { HubSizes } from '../../../src/engine/transfer/hubSizes';
import { FaultServer, generateData } from '../../support/faultServer';
import { startHub } from '../../support/mockHub';

describe('Hub sizes for the Models view', () => {
  let cdn: FaultServer;
  let dir: string;
  const data = generateData(300 * 1024, 41);

  beforeEach(async () => {
    cdn = await FaultServer.start();
    cdn.addFile('tiny.Q4_K_M.gguf', data);
    dir = await mkdtemp(path.join(os.tmpdir(), 'ma-sizes-'));
  });
  afterEach(async () => {
    await cdn.close();
    await rm(dir, { recursive: true, force: true });
  });

  const hfModel = (id: string, file: string): ModelEntry => ({
    id, name: id, version: '1.0.0', alternatives: [], origin: 'test',
    files: [{ path: file, source: { kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file } }],
  });

  it('asks the hub once per repository, and a later session reads the sizes from its cache', async () => {
    const f = cdn.files.get('tiny.Q4_K_M.gguf');
    assert.ok(f);
    const hub = await startHub(cdn, { name: 'tiny.Q4_K_M.gguf', sha256: f.sha256, size: data.length }, false);
    const cacheFile = path.join(dir, 'hub-sizes.json');
    const models = [hfModel('a', 'tiny.Q4_K_M.gguf'), hfModel('b', 'README.md')];
    try {
      const sizes = new HubSizes({ cacheFile, endpoint: hub.endpoint });
      assert.equal(sizes.sizeOf(models[0]), undefined, 'nothing is known before a lookup');
      let changes = 0;
      sizes.onDidChange(() => changes++);
      await sizes.resolve(models);
      assert.equal(sizes.sizeOf(models[0]), data.length);
      assert.equal(sizes.sizeOf(models[1]), 120);
      assert.equal(changes, 1);
      assert.equal(hub.requests.length, 1, 'two models of one repository: one request');
      assert.match(hub.requests[0].url, /\/api\/models\/org\/tiny-GGUF\/revision\/main\?blobs=true$/);
      assert.ok(JSON.parse(await readFile(cacheFile, 'utf8')).repos, 'the sizes are saved');

      const next = new HubSizes({ cacheFile, endpoint: hub.endpoint });
      await next.resolve(models);
      assert.equal(next.sizeOf(models[0]), data.length);
      assert.equal(hub.requests.length, 1, 'the next session asks nothing');
    } finally {
      await hub.close();
    }
  });

  it('offline, gives up for now without an error and knows nothing new', async () => {
    const logged: string[] = [];
    const sizes = new HubSizes({ cacheFile: path.join(dir, 'hub-sizes.json'), endpoint: 'http://127.0.0.1:9', logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
    const other: ModelEntry = { ...hfModel('b', 'y'), files: [{ path: 'y', source: { kind: 'hf', repo: 'other/repo', revision: 'main', file: 'y' } }] };
    await sizes.resolve([hfModel('a', 'x.gguf'), other]);
    assert.equal(sizes.sizeOf(hfModel('a', 'x.gguf')), undefined);
    assert.equal(logged.length, 1, `one line, not one per repository: ${logged.join(' | ')}`);
    assert.match(logged[0], /not looked up now/);
  });
});
