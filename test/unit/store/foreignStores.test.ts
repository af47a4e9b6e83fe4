import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanHfCache, gitBlobSha1 } from '../../../src/engine/store/foreign/hfCache';
import { defaultLocations } from '../../../src/engine/store/foreign/locations';
import { scanModelFolder } from '../../../src/engine/store/foreign/modelFolder';
import { scanOllama } from '../../../src/engine/store/foreign/ollama';
import { generateData, sha256Of } from '../../support/faultServer';
import { hfCacheWith, writeOllamaStore } from '../../support/foreignStores';
import { COMMIT, gitBlobId } from '../../support/mockHub';

describe('other tools\' model stores (read only)', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ma-foreign-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads a Hugging Face cache written by the real @huggingface/hub library: LFS sha256 from the blob name, git sha1 for small files', async () => {
    const gguf = generateData(200 * 1024, 3);
    const config = Buffer.from('{"architectures":["LlamaForCausalLM"]}');
    const cache = path.join(dir, 'hub');
    await hfCacheWith(cache, { 'tiny.Q4_K_M.gguf': gguf, 'config.json': config });
    // The library's layout: a relative link from the snapshot into blobs/<etag>.
    const link = await readlink(path.join(cache, 'models--org--tiny-GGUF', 'snapshots', COMMIT, 'tiny.Q4_K_M.gguf'));
    assert.equal(link, path.join('..', '..', 'blobs', sha256Of(gguf)));
    const [model] = await scanHfCache(cache);
    assert.equal(model.name, `org/tiny-GGUF@${COMMIT.slice(0, 7)}`);
    const byName = new Map(model.files.map((f) => [f.name, f]));
    const weights = byName.get('tiny.Q4_K_M.gguf');
    assert.equal(weights?.sha256, sha256Of(gguf));
    assert.equal(weights?.size, gguf.length);
    assert.deepEqual(weights?.hub, { repo: 'org/tiny-GGUF', commit: COMMIT, path: 'tiny.Q4_K_M.gguf', refs: ['main'], gitSha1: undefined });
    assert.equal(weights?.path, path.join(cache, 'models--org--tiny-GGUF', 'blobs', sha256Of(gguf)));
    const small = byName.get('config.json');
    assert.equal(small?.sha256, undefined);
    assert.equal(small?.hub?.gitSha1, gitBlobId(config));
    assert.equal(await gitBlobSha1(small?.path ?? ''), gitBlobId(config));
  });

  it('reads an Ollama store: the model layer of each name:tag, its sha256 from the digest, and the registry blob to download it again', async () => {
    const gguf = generateData(64 * 1024, 4);
    const blob = await writeOllamaStore(path.join(dir, 'ollama'), 'tinyllama', '1.1b', gguf);
    const [model] = await scanOllama(path.join(dir, 'ollama'));
    assert.equal(model.name, 'tinyllama:1.1b');
    assert.equal(model.files.length, 1, 'only the weights, not the template or params layers');
    const [f] = model.files;
    assert.deepEqual({ path: f.path, sha256: f.sha256, size: f.size, ollama: f.ollama, name: f.name }, { path: blob, sha256: sha256Of(gguf), size: gguf.length, ollama: 'tinyllama:1.1b', name: 'tinyllama-1.1b.gguf' });
    assert.equal(f.downloadUrl, `https://registry.ollama.ai/v2/library/tinyllama/blobs/sha256:${sha256Of(gguf)}`);
  });

  it('finds the GGUFs of a folder (and of LM Studio\'s publisher/repo folders) with sizes and no sha256', async () => {
    await mkdir(path.join(dir, 'lm', 'bartowski', 'Tiny-GGUF'), { recursive: true });
    await writeFile(path.join(dir, 'lm', 'bartowski', 'Tiny-GGUF', 'tiny-Q8_0.gguf'), generateData(1000, 5));
    await writeFile(path.join(dir, 'lm', 'bartowski', 'Tiny-GGUF', 'README.md'), 'not a model');
    const [model] = await scanModelFolder(path.join(dir, 'lm'), 'lmstudio');
    assert.equal(model.name, 'bartowski/Tiny-GGUF');
    assert.deepEqual(model.files.map((f) => [f.name, f.size, f.sha256]), [['bartowski/Tiny-GGUF/tiny-Q8_0.gguf', 1000, undefined]]);
  });

  it('looks where the tools themselves look: HF_HUB_CACHE, else $HF_HOME/hub; OLLAMA_MODELS, else ~/.ollama/models; LM Studio', () => {
    const home = '/home/p';
    assert.deepEqual(defaultLocations({}, home).map((l) => `${l.kind}:${l.root}`), [
      'hf:/home/p/.cache/huggingface/hub', 'ollama:/home/p/.ollama/models', 'lmstudio:/home/p/.lmstudio/models', 'lmstudio:/home/p/.cache/lm-studio/models',
    ]);
    const set = defaultLocations({ HF_HOME: '/data/hf', OLLAMA_MODELS: '/data/ollama' }, home);
    assert.deepEqual(set.slice(0, 2).map((l) => l.root), ['/data/hf/hub', '/data/ollama']);
    assert.equal(defaultLocations({ HF_HUB_CACHE: '/x', HF_HOME: '/data/hf' }, home)[0].root, '/x');
  });
});
