// Builds everything the extension ships into dist/: the extension host bundle, the CLI,
// the webview script and sql.js's wasm. `--production` minifies; `--watch` rebuilds on change; `--cli` builds
// only the CLI (npm's `prepare`, so `npx model-availability` works right after `npm install`).
import * as esbuild from 'esbuild';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const cliOnly = process.argv.includes('--cli');

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

/**
 * Replaces src/engine/catalog/catalogSchema.ts with the same validator compiled ahead of time (ajv's
 * standalone code, same options), so the bundles neither ship ajv's compiler nor run it at start-up.
 */
const precompiledCatalogSchema = {
  name: 'precompiled-catalog-schema',
  setup(build) {
    build.onLoad({ filter: /[\\/]catalog[\\/]catalogSchema\.ts$/ }, async () => {
      const { default: Ajv } = await import('ajv');
      const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
      const schema = JSON.parse(await readFile('schemas/models.schema.json', 'utf8'));
      const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, esm: true } });
      const code = standaloneCode(ajv, ajv.compile(schema));
      return { contents: `${code}\nexport { validate as validateCatalogSchema };`, loader: 'js', resolveDir: process.cwd() };
    });
  },
};

/**
 * Replaces src/engine/transfer/xxhashWasmFile.ts (which reads xxhash-wasm's wasm from node_modules) with
 * the bytes inlined: the hash workers instantiate them, and the packaged extension has no node_modules.
 */
const inlinedXxhashWasm = {
  name: 'inlined-xxhash-wasm',
  setup(build) {
    build.onLoad({ filter: /[\\/]transfer[\\/]xxhashWasmFile\.ts$/ }, async () => {
      const file = path.join(path.dirname(require.resolve('xxhash-wasm')), '..', 'workerd', 'xxhash.wasm');
      const base64 = (await readFile(file)).toString('base64');
      return { contents: `export const XXHASH_WASM_FILE = Buffer.from(${JSON.stringify(base64)}, 'base64');`, loader: 'js' };
    });
  },
};

const nodeBuild = {
  ...common,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  // jsonc-parser's UMD build hides its requires from the bundler; its ESM build does not.
  mainFields: ['module', 'main'],
  // got and its dependencies are ESM; import.meta.url is the only ESM-only construct they use.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  plugins: [precompiledCatalogSchema, inlinedXxhashWasm],
};

// The bin (dist/cli.js) is a small launcher that runs the CLI's bundle (dist/cli-main.js) from V8's code cache.
const cliBuild = [
  { ...nodeBuild, entryPoints: { 'cli-main': 'src/cli.ts' }, outdir: 'dist' },
  { ...common, platform: 'node', target: 'node20', format: 'cjs', entryPoints: { cli: 'src/cliLauncher.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
];
const builds = cliOnly ? cliBuild : [
  { ...nodeBuild, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist' },
  ...cliBuild,
  {
    ...common,
    entryPoints: { webview: 'webview-ui/src/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  },
];

async function copyAssets() {
  await mkdir('dist', { recursive: true });
  const wasm = path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm');
  await copyFile(wasm, 'dist/sql-wasm.wasm');
}

await copyAssets();
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  // The package's bin: runnable as ./dist/cli.js too.
  await chmod('dist/cli.js', 0o755);
}
