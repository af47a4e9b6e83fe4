// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ENGINE_LAYERS = ['core', 'catalog', 'store', 'transfer', 'availability', 'usage'];
const LOCK_WRAPPER = 'src/engine/store/crossProcessLock.ts';
const LOCK_LIBRARY = { name: 'proper-lockfile', message: `Take cross-process locks through ${LOCK_WRAPPER}: it never throws from a timer and takes over locks of dead processes.` };

/** What one engine layer's files may import: the layers before it, never after; `paths` are banned modules. */
function layerImports(layer, i, files, paths) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/engine must not depend on VS Code: put VS Code surfaces in src/vscode/.' }, ...paths],
        patterns: [
          ...(i + 1 < ENGINE_LAYERS.length ? [{
            regex: `^(\\.\\./)+(${ENGINE_LAYERS.slice(i + 1).join('|')})(/|$)`,
            message: `src/engine/${layer} is below ${ENGINE_LAYERS.slice(i + 1).join(', ')}: it may import only ${ENGINE_LAYERS.slice(0, i).join(', ') || 'node modules'} (see docs/architecture.md).`,
          }] : []),
          { regex: '^\\.\\.(/\\.\\.)*(/index)?$', message: 'Inside the engine, import the module itself, not the engine index.' },
          { regex: '^(\\.\\./)+(vscode|cli|api|localApi)(/|$)', message: 'The engine must not depend on its surfaces.' },
        ],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', '.demo/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  // The engine is plain Node (everything it does runs in the CLI and in tests without VS Code), laid in
  // layers that depend one way only: each folder may import the ones before it in ENGINE_LAYERS, never after.
  ...ENGINE_LAYERS.map((layer, i) => layerImports(layer, i, [`src/engine/${layer}/**/*.ts`], [LOCK_LIBRARY])),
  // The one lock wrapper: the only module that may use proper-lockfile itself.
  layerImports('store', ENGINE_LAYERS.indexOf('store'), [LOCK_WRAPPER], []),
  {
    // Surfaces translate; they reach the engine only through its index.
    files: ['src/vscode/**/*.ts', 'src/cli/**/*.ts', 'src/api/**/*.ts', 'src/localApi/**/*.ts', 'src/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '(^|/)engine/.+', message: 'Import the engine through its index (src/engine/index.ts), not its folders.' }],
      }],
    },
  },
  {
    // Plain CommonJS: the test-runner extension and the mocha reporter are loaded with require().
    files: ['**/*.cjs', 'test/vscode-runner/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable' },
    },
  },
);
