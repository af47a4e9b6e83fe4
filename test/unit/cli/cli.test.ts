import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPartState } from '../../../src/engine/store/partState';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { cli, startCli } from './cliRunner';

describe('CLI', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let dir: string;
  let catalog: string;
  let store: string;

  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir('ma-cli-');
    store = path.join(dir, 'store');
    catalog = path.join(dir, 'models.json');
    const good = server.addFile('good.bin', generateData(8 * PIECE, 1));
    server.addFile('nosha.bin', generateData(2 * PIECE, 2));
    server.addFile('big.bin', generateData(32 * PIECE, 3));
    await fs.writeFile(catalog, JSON.stringify({
      models: [
        { id: 'test-good', name: 'Good', version: '1', files: [{ path: 'good.bin', url: server.url('good.bin'), sha256: good.sha256, size: good.data.length }] },
        { id: 'test-nosha', name: 'No sha', version: '1', files: [{ path: 'nosha.bin', url: server.url('nosha.bin') }] },
        { id: 'test-missing', name: 'Missing', version: '1', files: [{ path: 'x.bin', url: server.url('x.bin') }] },
        { id: 'test-big', name: 'Big', version: '1', files: [{ path: 'big.bin', url: server.url('big.bin'), sha256: server.files.get('big.bin')?.sha256 }] },
      ],
    }));
  });
  afterEach(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  async function listJson(): Promise<{ id: string; version: string; installedVersion: string | null; state: string; health: string | null; bytesOnDisk: number; files: { path: string; localPath: string; state: string; sha256: string | null }[]; problems: string[] }[]> {
    const r = await cli(['--store', store, '--catalog', catalog, 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Awaited<ReturnType<typeof listJson>>;
  }

  it('list --json keeps a model ready on its installed version after the catalog moved on', async () => {
    assert.equal((await listJson()).find((m) => m.id === 'test-good')?.installedVersion, null);
    assert.equal((await cli(['--store', store, '--catalog', catalog, 'download', 'test-good'])).code, 0);
    const next = server.addFile('good2.bin', generateData(4 * PIECE, 7));
    await fs.writeFile(catalog, JSON.stringify({
      models: [{ id: 'test-good', name: 'Good', version: '2', files: [{ path: 'good2.bin', url: server.url('good2.bin'), sha256: next.sha256, size: next.data.length }] }],
    }));
    const good = (await listJson()).find((m) => m.id === 'test-good');
    assert.equal(good?.state, 'ready');
    assert.equal(good?.version, '2');
    assert.equal(good?.installedVersion, '1');
    assert.equal(good?.files[0].path, 'good.bin');
  });

  it('downloads, exits 3 when a file has no sha256 (0 when all verified), results on stdout, progress on stderr; list --json shows health', async () => {
    const before = (await listJson()).find((m) => m.id === 'test-good');
    assert.equal(before?.state, 'missing');
    assert.equal(before?.health, null);
    const r = await cli(['--store', store, '--catalog', catalog, 'download', 'test-good', 'test-nosha', '--connections', '2']);
    // 3: both are ready, but nosha.bin has no sha256 to verify it with, and the words say so.
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^ready {2}test-good /m);
    assert.match(r.stdout, /^ready {2}test-nosha /m);
    assert.match(r.stderr, /test-good: downloaded and verified \(/);
    assert.match(r.stderr, /^note: test-nosha: downloaded — not verifiable: the catalog gives no sha256 for nosha\.bin$/m);
    assert.doesNotMatch(r.stderr, /test-nosha: downloaded and verified|finished and verified/);
    assert.equal((await cli(['--store', store, '--catalog', catalog, 'download', 'test-good'])).code, 0, 'verified alone: 0');
    const list = await listJson();
    const good = list.find((m) => m.id === 'test-good');
    assert.equal(good?.state, 'ready');
    assert.equal(good?.health, 'green');
    assert.equal(good?.bytesOnDisk, 8 * PIECE);
    assert.equal(good?.files[0].state, 'ready');
    assert.deepEqual(await fs.readFile(good?.files[0].localPath ?? ''), server.files.get('good.bin')?.data);
    const nosha = list.find((m) => m.id === 'test-nosha');
    assert.equal(nosha?.health, 'yellow');
    assert.equal(nosha?.files[0].sha256, server.files.get('nosha.bin')?.sha256);
  });

  it('exits 1 when a download does not end verified, naming the URL', async () => {
    const r = await cli(['--store', store, '--catalog', catalog, 'download', 'test-missing']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /error {2}test-missing {2}failed: not found at URL .*x\.bin \(HTTP 404\); check the file's url .* in the catalog file given with --catalog/);
  });

  it('exits 2 on catalog errors with file, JSON path and reason', async () => {
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'Bad Id', files: [] }] }));
    const r = await cli(['--store', store, '--catalog', catalog, 'list']);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(catalog), r.stderr);
    assert.match(r.stderr, /models\[0\]|\/models\/0|models\.0/);
  });

  it('list: one broken --catalog hides nothing else — it lists what loaded, names the broken file in CLI words, exits 2', async () => {
    const broken = path.join(dir, 'broken.json');
    await fs.writeFile(broken, '{"models": [');
    const missing = path.join(dir, 'nowhere.json');
    const r = await cli(['--store', store, '--catalog', catalog, '--catalog', broken, '--catalog', missing, 'list']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^test-good +missing +- +Good {2}\[.*models\.json\]$/m);
    assert.match(r.stdout, /\[built-in\]$/m, 'the built-in catalog is merged by default');
    assert.match(r.stderr, new RegExp(`^catalog error: ${broken}:1:\\d+: is not valid JSON \\(\\w+\\); fix the syntax in that file$`, 'm'));
    assert.match(r.stderr, new RegExp(`^catalog error: ${missing}: does not exist; fix the --catalog path or create the file$`, 'm'));
    assert.doesNotMatch(r.stderr, /modelAvailability\.|and save|\(document\)/, 'no VS Code words in the CLI');
  });

  it('--no-builtin lists only the --catalog models; list --json names each model\'s catalog', async () => {
    const r = await cli(['--store', store, '--catalog', catalog, '--no-builtin', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { id: string; catalog: string }[];
    assert.deepEqual(listed.map((m) => m.id), ['test-good', 'test-nosha', 'test-missing', 'test-big']);
    assert.ok(listed.every((m) => m.catalog === catalog));
    const merged = JSON.parse((await cli(['--store', store, '--catalog', catalog, 'list', '--json'])).stdout) as { id: string; catalog: string }[];
    assert.ok(merged.some((m) => m.catalog === 'built-in') && merged.length > listed.length);
  });

  it('a bad flag prints one line that points to --help, not the whole usage', async () => {
    const r = await cli(['--store', store, 'list', '--jsn']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'model-availability: unknown option --jsn (see model-availability --help)\n');
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--no-builtin/);
  });

  it('exits 2 on an unknown id, naming it and close ids', async () => {
    const r = await cli(['--store', store, '--catalog', catalog, 'download', 'test-god']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown model id 'test-god'; did you mean: .*test-good/);
  });

  it('resumes after SIGKILL and transfers only the missing pieces', async () => {
    const size = 32 * PIECE;
    server.bytesPerSecondPerConnection = 512 * 1024;
    const first = startCli(['--store', store, '--catalog', catalog, 'download', 'test-big', '--connections', '1']);
    const finalPath = path.join(store, 'models', 'test-big', '1', 'big.bin');
    // Kill once the state file records a good part of the file.
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const s = await readPartState(finalPath);
      if ((s?.completePieces.length ?? 0) >= 8) break;
    }
    first.child.kill('SIGKILL');
    await first.done;
    const kept = (await readPartState(finalPath))?.completePieces.length ?? 0;
    assert.ok(kept >= 8 && kept < 32, `kept ${kept}`);
    server.resetCounters();
    server.bytesPerSecondPerConnection = 0;
    // The dead process's lock goes stale; the new run takes over.
    const second = await cli(['--store', store, '--catalog', catalog, 'download', 'test-big']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(server.bytesSent, size - kept * PIECE);
    assert.deepEqual(await fs.readFile(finalPath), server.files.get('big.bin')?.data);
  });
});
