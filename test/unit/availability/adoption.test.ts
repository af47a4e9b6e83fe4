import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { AvailabilityEngine, type Logger } from '../../../src/engine/availability/engine';
import { findLocalModels, importCandidates } from '../../../src/engine/availability/localImport';
import type { ForeignLocation } from '../../../src/engine/store/foreign/foundFile';
import { readManifest } from '../../../src/engine/store/storeScanner';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';
import { factsOf, writeHfCache, writeOllamaStore } from '../../support/foreignStores';
import { gitBlobId, startRepoHub } from '../../support/mockHub';

const GGUF = 'tiny.Q4_K_M.gguf';

describe('using the models already on this machine', () => {
  let dir: string;
  let cdn: FaultServer;
  let hub: Awaited<ReturnType<typeof startRepoHub>>;
  let logs: string[];
  const data = generateData(320 * 1024, 11);
  const logger: Logger = { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ma-adopt-'));
    logs = [];
    cdn = await FaultServer.start();
    cdn.addFile(GGUF, data);
    hub = await startRepoHub(cdn, [{ name: GGUF, lfs: true }]);
  });
  afterEach(async () => {
    await hub.close();
    await cdn.close();
    await rm(dir, { recursive: true, force: true });
  });

  const hfModel = (): ModelEntry => ({
    id: 'tiny', name: 'Tiny', version: '1.0.0', alternatives: [], origin: 'test',
    files: [{ path: 'tiny.gguf', source: { kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file: GGUF } }],
  });

  async function engineWith(models: ModelEntry[], locations: ForeignLocation[], storeRoot = path.join(dir, 'store')): Promise<AvailabilityEngine> {
    return AvailabilityEngine.create({
      storeRoot, models, hfEndpoint: hub.endpoint, persistQueue: false, logger, settings: { pieceSizeBytes: 64 * 1024 }, localCopies: async () => locations,
    });
  }

  async function downloaded(engine: AvailabilityEngine, id: string): Promise<void> {
    engine.download([id]);
    await waitFor((l) => engine.onDidChangeModel(l), () => ['ready', 'failed'].includes(engine.getModelState(id)?.state ?? ''));
    await engine.whenIdle();
    assert.equal(engine.getModelState(id)?.state, 'ready', engine.getModelState(id)?.error);
  }

  async function cachedBlob(): Promise<string> {
    const cache = path.join(dir, 'hf');
    await writeHfCache(cache, hub.endpoint);
    cdn.bytesSent = 0;
    return path.join(cache, 'models--org--tiny-GGUF', 'blobs', sha256Of(data));
  }

  it('before a download, links the file from the Hugging Face cache (same repo, path, commit): 0 bytes fetched, verified, the cache untouched', async () => {
    const blob = await cachedBlob();
    const before = await factsOf(blob);
    const engine = await engineWith([hfModel()], [{ kind: 'hf', root: path.join(dir, 'hf') }]);
    try {
      await downloaded(engine, 'tiny');
      assert.equal(cdn.bytesSent, 0, 'no byte of the file came from the server');
      const local = engine.getModelState('tiny')?.files[0].localPath ?? '';
      assert.equal((await stat(local)).ino, before.ino, 'a hard link to the cached blob (same filesystem)');
      assert.equal(engine.getModelState('tiny')?.health, 'green');
      const manifest = await readManifest(engine.layout, 'tiny', engine.getModelState('tiny')?.installedVersion ?? '');
      assert.equal(manifest?.files[0].sha256, sha256Of(data));
      assert.equal(manifest?.files[0].sha256Expected, true);
      assert.equal(manifest?.files[0].pieces.length, 5);
      assert.ok(logs.some((l) => /found in the Hugging Face cache .*linked \(hard link, no extra disk\), verified, 0 bytes downloaded/.test(l)), logs.join('\n'));
      assert.deepEqual(await factsOf(blob), before, 'size, mtime, inode and bytes of the cached blob are unchanged');
      // Removing the model from our store leaves the cache's copy whole.
      await engine.integrity.remove('tiny');
      assert.deepEqual(await factsOf(blob), before);
    } finally {
      engine.dispose();
    }
  });

  it('refuses a corrupt blob in the cache and downloads the model instead', async () => {
    const blob = await cachedBlob();
    const fh = await open(blob, 'r+');
    await fh.write(Buffer.from('corrupt'), 0, 7, 1000);
    await fh.close();
    const before = await factsOf(blob);
    const engine = await engineWith([hfModel()], [{ kind: 'hf', root: path.join(dir, 'hf') }]);
    try {
      await downloaded(engine, 'tiny');
      assert.equal(cdn.bytesSent, data.length, 'the whole file was downloaded');
      const local = engine.getModelState('tiny')?.files[0].localPath ?? '';
      assert.ok((await readFile(local)).equals(data));
      assert.notEqual((await stat(local)).ino, before.ino);
      assert.ok(logs.some((l) => l.startsWith(`refused ${blob} from the Hugging Face cache: its sha256 is`)), logs.join('\n'));
      assert.deepEqual(await factsOf(blob), before, 'the damaged cache file is left as it was');
    } finally {
      engine.dispose();
    }
  });

  it('takes a small (non-LFS) hub file by repo, path and commit, checked against its git blob id; a damaged one is refused', async () => {
    const config = Buffer.from('{"architectures":["LlamaForCausalLM"],"hidden_size":64}');
    cdn.addFile('config.json', config);
    await hub.close();
    hub = await startRepoHub(cdn, [{ name: GGUF, lfs: true }, { name: 'config.json', lfs: false }]);
    await cachedBlob();
    const model: ModelEntry = {
      ...hfModel(), files: [...hfModel().files, { path: 'config.json', source: { kind: 'hf', repo: 'org/tiny-GGUF', revision: 'main', file: 'config.json' } }],
    };
    const engine = await engineWith([model], [{ kind: 'hf', root: path.join(dir, 'hf') }]);
    try {
      await downloaded(engine, 'tiny');
      assert.equal(cdn.bytesSent, 0);
      const manifest = await readManifest(engine.layout, 'tiny', engine.getModelState('tiny')?.installedVersion ?? '');
      const small = manifest?.files.find((f) => f.path === 'config.json');
      assert.equal(small?.sha256, sha256Of(config));
      assert.equal(small?.sha256Expected, false, 'the hub promises no sha256 for a small file: not called verified');
    } finally {
      engine.dispose();
    }
    const blob = path.join(dir, 'hf', 'models--org--tiny-GGUF', 'blobs', gitBlobId(config));
    await writeFile(blob, Buffer.from(config.toString().replace('64', '65')));
    const again = await engineWith([model], [{ kind: 'hf', root: path.join(dir, 'hf') }], path.join(dir, 'store2'));
    try {
      await downloaded(again, 'tiny');
      assert.equal(cdn.bytesSent, config.length, 'only the damaged small file was downloaded');
      assert.ok(logs.some((l) => l.includes(`does not match its git blob id ${gitBlobId(config)}`)), logs.join('\n'));
    } finally {
      again.dispose();
    }
  });

  it('links a catalog file by its sha256 from Ollama\'s store; downloads as before when reuse is off', async () => {
    const blob = await writeOllamaStore(path.join(dir, 'ollama'), 'tiny', 'q4', data);
    const before = await factsOf(blob);
    const model = { ...urlModel(cdn, 'tiny-url', [GGUF]) };
    const engine = await engineWith([model], [{ kind: 'ollama', root: path.join(dir, 'ollama') }]);
    try {
      await downloaded(engine, 'tiny-url');
      assert.equal(cdn.bytesSent, 0);
      assert.equal((await stat(engine.getModelState('tiny-url')?.files[0].localPath ?? '')).ino, before.ino);
      assert.ok(logs.some((l) => l.includes('found in Ollama')));
    } finally {
      engine.dispose();
    }
    const off = await engineWith([model], [], path.join(dir, 'store2'));
    try {
      await downloaded(off, 'tiny-url');
      assert.equal(cdn.bytesSent, data.length, 'with reuse off the file is downloaded');
    } finally {
      off.dispose();
    }
    assert.deepEqual(await factsOf(blob), before);
  });

  it('repairs a hard-linked file by downloading it whole, never by writing into the other tool\'s file', async () => {
    const blob = await writeOllamaStore(path.join(dir, 'ollama'), 'tiny', 'q4', data);
    const engine = await engineWith([urlModel(cdn, 'tiny-url', [GGUF])], [{ kind: 'ollama', root: path.join(dir, 'ollama') }]);
    try {
      await downloaded(engine, 'tiny-url');
      // Damage shows in both names of the one file; the repair must not write there.
      const fh = await open(blob, 'r+');
      await fh.write(Buffer.from('damage'), 0, 6, 70_000);
      await fh.close();
      const damaged = await factsOf(blob);
      const result = await engine.integrity.repair('tiny-url');
      assert.equal(result.health, 'green');
      const local = engine.getModelState('tiny-url')?.files[0].localPath ?? '';
      assert.ok((await readFile(local)).equals(data));
      assert.notEqual((await stat(local)).ino, damaged.ino, 'the store has its own file now');
      assert.deepEqual(await factsOf(blob), damaged, 'Ollama\'s file was not written to');
    } finally {
      engine.dispose();
    }
  });

  it('copies across filesystems (the store on a tmpfs), verified; the source stays as it was', async function () {
    const shm = await mkdtemp(path.join('/dev/shm', 'ma-adopt-'));
    try {
      const blob = await writeOllamaStore(path.join(dir, 'ollama'), 'tiny', 'q4', data);
      const before = await factsOf(blob);
      assert.notEqual((await stat(shm)).dev, (await stat(blob)).dev, 'two devices');
      const engine = await engineWith([urlModel(cdn, 'tiny-url', [GGUF])], [{ kind: 'ollama', root: path.join(dir, 'ollama') }], shm);
      try {
        await downloaded(engine, 'tiny-url');
        assert.equal(cdn.bytesSent, 0);
        const local = engine.getModelState('tiny-url')?.files[0].localPath ?? '';
        assert.ok((await readFile(local)).equals(data));
        assert.ok(logs.some((l) => /found in Ollama .*: copied \(.+ of disk\), verified, 0 bytes downloaded/.test(l)), logs.join('\n'));
      } finally {
        engine.dispose();
      }
      assert.deepEqual(await factsOf(blob), before);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });

  it('imports a folder of GGUFs: matched by size, then hashed; a same-size file with other bytes matches nothing', async () => {
    const folder = path.join(dir, 'models');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'mine.gguf'), data);
    await writeFile(path.join(folder, 'other.gguf'), generateData(data.length, 99));
    const before = await factsOf(path.join(folder, 'mine.gguf'));
    const engine = await engineWith([urlModel(cdn, 'tiny-url', [GGUF])], []);
    try {
      const found = await findLocalModels(engine, [{ kind: 'folder', root: folder }]);
      const byName = new Map(found.candidates.map((c) => [c.found.name, c]));
      assert.deepEqual(byName.get('mine.gguf')?.match, { modelId: 'tiny-url', path: `weights/${GGUF}`, installed: false });
      assert.equal(byName.get('other.gguf')?.match, undefined);
      assert.equal(byName.get('mine.gguf')?.method, 'hardlink');
      const results = await importCandidates(engine, found.candidates, { logger, allowCopy: async () => false });
      assert.equal(results.length, 1);
      assert.equal(results[0].adopted?.method, 'hardlink');
      assert.equal(results[0].adopted?.bytesCopied, 0);
      const state = engine.getModelState('tiny-url');
      assert.equal(state?.state, 'ready');
      assert.equal(state?.health, 'green');
      assert.equal(cdn.bytesSent, 0);
      assert.deepEqual(await factsOf(path.join(folder, 'mine.gguf')), before);
      const again = await findLocalModels(engine, [{ kind: 'folder', root: folder }]);
      assert.equal(again.candidates.find((c) => c.found.name === 'mine.gguf')?.match?.installed, true);
    } finally {
      engine.dispose();
    }
  });

  it('asks before a copy across filesystems, and a declined copy imports nothing', async () => {
    const shm = await mkdtemp(path.join('/dev/shm', 'ma-adopt-'));
    try {
      await writeOllamaStore(path.join(dir, 'ollama'), 'tiny', 'q4', data);
      const engine = await engineWith([urlModel(cdn, 'tiny-url', [GGUF])], [], shm);
      try {
        const found = await findLocalModels(engine, [{ kind: 'ollama', root: path.join(dir, 'ollama') }]);
        assert.equal(found.candidates[0].method, 'copy');
        const asked: number[] = [];
        const declined = await importCandidates(engine, found.candidates, { logger, allowCopy: async (bytes) => { asked.push(bytes); return false; } });
        assert.deepEqual(asked, [data.length]);
        assert.equal(declined[0].adopted, undefined);
        assert.equal(engine.getModelState('tiny-url')?.state, 'missing');
        const accepted = await importCandidates(engine, found.candidates, { logger, allowCopy: async () => true });
        assert.equal(accepted[0].adopted?.method, 'copy');
        assert.equal(accepted[0].adopted?.bytesCopied, data.length);
        assert.equal(engine.getModelState('tiny-url')?.health, 'green');
      } finally {
        engine.dispose();
      }
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});
