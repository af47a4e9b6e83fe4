import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';
import { factsOf, writeHfCache, writeOllamaStore } from '../../support/foreignStores';
import { startRepoHub } from '../../support/mockHub';
import { cli } from './cliRunner';

interface Line { source: string; path: string; sha256: string | null; size: number; matches: string | null; method: string; imported: boolean; installed: boolean; problem?: string }

describe('CLI import', function () {
  this.timeout(60_000);
  let dir: string;
  let cdn: FaultServer;
  let hub: Awaited<ReturnType<typeof startRepoHub>>;
  let catalog: string;
  let store: string;
  const gguf = generateData(256 * 1024, 21);
  const ollamaGguf = generateData(192 * 1024, 22);
  const unlisted = generateData(128 * 1024, 23);
  /** An isolated HOME, so the tools' usual places are ours. */
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await tempDir('ma-import-');
    store = path.join(dir, 'store');
    cdn = await FaultServer.start();
    cdn.addFile('tiny.Q4_K_M.gguf', gguf);
    cdn.addFile('ollama.gguf', ollamaGguf);
    hub = await startRepoHub(cdn, [{ name: 'tiny.Q4_K_M.gguf', lfs: true }]);
    await writeHfCache(path.join(dir, 'hf'), hub.endpoint);
    await writeOllamaStore(path.join(dir, 'ollama'), 'tiny', 'q4', ollamaGguf);
    await writeOllamaStore(path.join(dir, 'ollama'), 'other', 'latest', unlisted);
    cdn.bytesSent = 0;
    catalog = path.join(dir, 'models.json');
    await fs.writeFile(catalog, JSON.stringify({
      models: [
        { id: 'tiny-hf', name: 'Tiny HF', version: '1', files: [{ path: 'tiny.gguf', hf: { repo: 'org/tiny-GGUF', revision: 'main', file: 'tiny.Q4_K_M.gguf' } }] },
        { id: 'tiny-url', name: 'Tiny URL', version: '1', files: [{ path: 'tiny.gguf', url: cdn.url('ollama.gguf'), sha256: sha256Of(ollamaGguf), size: ollamaGguf.length }] },
      ],
    }));
    env = { HOME: path.join(dir, 'home'), HF_HUB_CACHE: path.join(dir, 'hf'), OLLAMA_MODELS: path.join(dir, 'ollama'), HF_ENDPOINT: hub.endpoint };
  });
  afterEach(async () => {
    await hub.close();
    await cdn.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => cli(['--store', store, '--catalog', catalog, ...args], env);

  it('--dry-run --json lists what it found and what each is; import then links them, verified, with 0 bytes downloaded', async () => {
    const blob = path.join(dir, 'hf', 'models--org--tiny-GGUF', 'blobs', sha256Of(gguf));
    const before = await factsOf(blob);
    const dry = await run(['import', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const listed = JSON.parse(dry.stdout) as Line[];
    assert.deepEqual(listed.map((l) => [l.source, l.matches, l.method, l.imported]).sort(), [
      ['hf', 'tiny-hf', 'hardlink', false], ['ollama', 'tiny-url', 'hardlink', false], ['ollama', null, 'hardlink', false],
    ].sort());
    assert.equal(listed.find((l) => l.source === 'hf')?.sha256, sha256Of(gguf));
    await assert.rejects(fs.stat(path.join(store, 'models', 'tiny-hf')), 'a dry run writes nothing');

    const real = await run(['import', '--json']);
    assert.equal(real.code, 0, real.stderr);
    const imported = JSON.parse(real.stdout) as Line[];
    assert.deepEqual(imported.filter((l) => l.imported).map((l) => l.matches).sort(), ['tiny-hf', 'tiny-url']);
    const list = JSON.parse((await run(['list', '--json'])).stdout) as { id: string; state: string; health: string; files: { localPath: string }[] }[];
    assert.deepEqual(list.filter((m) => m.id.startsWith('tiny-')).map((m) => [m.id, m.state, m.health]), [['tiny-hf', 'ready', 'green'], ['tiny-url', 'ready', 'green']]);
    assert.equal((await fs.stat(list.find((m) => m.id === 'tiny-hf')?.files[0].localPath ?? '')).ino, before.ino);
    assert.equal(cdn.bytesSent, 0);
    assert.deepEqual(await factsOf(blob), before);

    const text = await run(['import']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^installed +hf +org\/tiny-GGUF@c0ffee0 tiny\.Q4_K_M\.gguf .*→ tiny-hf$/m);
    assert.match(text.stdout, /^unlisted +ollama +other:latest /m);
  });

  it('--add-to-catalog writes the unlisted model (registry source, sha256, size) and adopts it', async () => {
    const added = path.join(dir, 'mine.json');
    const r = await run(['import', '--from', 'ollama', '--add-to-catalog', added, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(await fs.readFile(added, 'utf8')) as { models: { id: string; name: string; files: { path: string; url: string; sha256: string; size: number }[] }[] };
    assert.deepEqual(doc.models.map((m) => [m.id, m.name]), [['other-latest', 'other:latest']]);
    assert.deepEqual(doc.models[0].files, [{ path: 'other-latest.gguf', sha256: sha256Of(unlisted), size: unlisted.length, url: `https://registry.ollama.ai/v2/library/other/blobs/sha256:${sha256Of(unlisted)}` }]);
    const list = JSON.parse((await cli(['--store', store, '--catalog', added, 'list', '--json'], env)).stdout) as { id: string; state: string; health: string }[];
    assert.deepEqual(list.filter((m) => m.id === 'other-latest').map((m) => [m.state, m.health]), [['ready', 'green']]);
  });

  it('download links a cached copy instead of downloading; --no-reuse downloads', async () => {
    const r = await run(['download', 'tiny-hf']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /found in the Hugging Face cache .*linked .*0 bytes downloaded/);
    assert.equal(cdn.bytesSent, 0);
    const off = await cli(['--store', path.join(dir, 'store2'), '--catalog', catalog, 'download', 'tiny-url', '--no-reuse'], env);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(cdn.bytesSent, ollamaGguf.length);
  });

  it('exits 1 when a matched file is damaged (refused), 2 on usage errors', async () => {
    const blob = path.join(dir, 'ollama', 'blobs', `sha256-${sha256Of(ollamaGguf)}`);
    await fs.writeFile(blob, generateData(ollamaGguf.length, 99));
    const r = await run(['import', '--from', 'ollama', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const line = (JSON.parse(r.stdout) as Line[]).find((l) => l.matches === 'tiny-url');
    assert.equal(line?.imported, false);
    assert.match(r.stderr, /refused .* from Ollama: its sha256 is/);
    assert.equal((await run(['import', 'tiny-url'])).code, 2);
    assert.equal((await run(['list', '--add-to-catalog', 'x.json'])).code, 2);
  });
});
