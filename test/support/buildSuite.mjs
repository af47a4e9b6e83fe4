// Bundles the extension-host mocha suite (test/suite) into out/suite/index.js; mocha stays external
// and loads from the repository's node_modules.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function buildSuite() {
  const outfile = path.join(repo, 'out', 'suite', 'index.js');
  await esbuild.build({
    entryPoints: [path.join(repo, 'test', 'suite', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}
