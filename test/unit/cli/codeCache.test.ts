import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';

/**
 * The package's bin as built (src/cliLauncher.ts), run in its own processes: V8 takes code from a cache only
 * in a process that has not compiled the same source already.
 */
describe('the CLI launcher and its code cache', () => {
  let dir: string;
  let cacheHome: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ma-codecache-'));
    cacheHome = path.join(dir, 'cache-home');
    await esbuild.build({ entryPoints: { cli: 'src/cliLauncher.ts' }, outdir: dir, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    await writeBundle('');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A stand-in for the CLI's bundle: it shows its file name, folder and a working require, and sets the exit code. */
  const writeBundle = (extra: string): Promise<void> => writeFile(path.join(dir, 'cli-main.js'),
    `console.log(JSON.stringify({ filename: __filename, dirname: __dirname, sep: require('node:path').sep, args: process.argv.slice(2) }));\nprocess.exitCode = 3;\n${extra}`);
  const launch = (cacheDir = cacheHome): { code: number | null; out: unknown } => {
    const r = spawnSync(process.execPath, [path.join(dir, 'cli.js'), 'download', 'x'], { env: { ...process.env, XDG_CACHE_HOME: cacheDir }, encoding: 'utf8' });
    return { code: r.status, out: JSON.parse(r.stdout) as unknown };
  };
  const cacheFolder = (): string => path.join(cacheHome, 'model-availability-cli');
  const cacheFile = async (): Promise<string> => {
    const names = await readdir(cacheFolder());
    assert.equal(names.length, 1, `one cache file, found ${names.join(', ')}`);
    return path.join(cacheFolder(), names[0]);
  };
  const expected = (): unknown => ({ filename: path.join(dir, 'cli-main.js'), dirname: dir, sep: path.sep, args: ['download', 'x'] });

  it('runs the bundle as Node would, writes the cache after the first run and reads it, unchanged, after', async () => {
    assert.deepEqual(launch(), { code: 3, out: expected() });
    const file = await cacheFile();
    const written = await stat(file);
    assert.ok(written.size > 0);
    assert.deepEqual(launch(), { code: 3, out: expected() });
    // A cache V8 took is not written again (a rewrite renames a new file into place).
    assert.equal((await stat(await cacheFile())).ino, written.ino);
  });

  it('compiles again over a damaged cache, and replaces it', async () => {
    launch();
    const file = await cacheFile();
    const garbage = Buffer.alloc(4096, 0x5a);
    await writeFile(file, garbage);
    assert.deepEqual(launch(), { code: 3, out: expected() });
    assert.ok(!(await readFile(await cacheFile())).equals(garbage), 'the damaged cache was replaced');
  });

  it('keeps only the cache of the current bundle once the bundle changed', async () => {
    launch();
    const old = await cacheFile();
    await writeBundle('// a new build\n');
    assert.deepEqual(launch(), { code: 3, out: expected() });
    assert.notEqual(await cacheFile(), old);
  });

  it('keeps the cache of another install of the same bundle', async () => {
    launch();
    const other = path.join(dir, 'other');
    await esbuild.build({ entryPoints: { cli: 'src/cliLauncher.ts' }, outdir: other, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    await writeFile(path.join(other, 'cli-main.js'), 'process.exitCode = 0;\n');
    const r = spawnSync(process.execPath, [path.join(other, 'cli.js')], { env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    assert.equal(r.status, 0);
    assert.equal((await readdir(cacheFolder())).length, 2);
  });

  it('still runs the command when the cache cannot be written', async () => {
    // A file where the cache folder would go.
    await writeFile(path.join(dir, 'not-a-folder'), '');
    assert.deepEqual(launch(path.join(dir, 'not-a-folder')), { code: 3, out: expected() });
  });
});
