import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { addToCatalogFile } from '../../../src/engine/availability/localCatalog';
import { scanHfCache } from '../../../src/engine/store/foreign/hfCache';
import { scanModelFolder } from '../../../src/engine/store/foreign/modelFolder';
import { generateData, sha256Of } from '../../support/faultServer';
import { hfCacheWith } from '../../support/foreignStores';
import { COMMIT } from '../../support/mockHub';

describe('catalog entries for models no catalog lists', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ma-found-catalog-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes a cached hub snapshot with its repo and commit and every file\'s sha256 (hashing the small ones), keeping what the file listed; a plain folder has no source', async () => {
    const gguf = generateData(100 * 1024, 51);
    const config = Buffer.from('{"model_type":"llama"}');
    await hfCacheWith(path.join(dir, 'hf'), { 'tiny.Q4_K_M.gguf': gguf, 'config.json': config });
    await mkdir(path.join(dir, 'plain'));
    await writeFile(path.join(dir, 'plain', 'x.gguf'), generateData(10, 1));
    const file = path.join(dir, 'catalog.json');
    await writeFile(file, JSON.stringify({ models: [{ id: 'org-tiny-gguf', name: 'Mine', files: [{ path: 'a.bin', url: 'https://example.com/a.bin' }] }] }));
    const found = [...await scanHfCache(path.join(dir, 'hf')), ...await scanModelFolder(path.join(dir, 'plain'), 'folder')];
    const added = await addToCatalogFile(file, found, new Set(['other']));
    assert.deepEqual(added.skipped, [{ name: 'plain', reason: 'no download source is known for files in a folder' }]);
    assert.deepEqual(added.models.map((m) => [m.id, m.version, m.origin]), [['org-tiny-gguf-2', COMMIT.slice(0, 12), file]]);
    const doc = JSON.parse(await readFile(file, 'utf8')) as { models: { id: string; files: { path: string; sha256: string; size: number; hf?: object }[] }[] };
    assert.deepEqual(doc.models.map((m) => m.id), ['org-tiny-gguf', 'org-tiny-gguf-2'], 'the existing entry stays; the new id does not collide');
    const files = Object.fromEntries(doc.models[1].files.map((f) => [f.path, f]));
    assert.deepEqual(files['tiny.Q4_K_M.gguf'], { path: 'tiny.Q4_K_M.gguf', sha256: sha256Of(gguf), size: gguf.length, hf: { repo: 'org/tiny-GGUF', revision: COMMIT, file: 'tiny.Q4_K_M.gguf' } });
    assert.equal(files['config.json'].sha256, sha256Of(config));
  });
});
