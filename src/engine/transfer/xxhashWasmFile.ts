import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/**
 * xxhash-wasm's wasm module as its package ships it (its `exports` hide the file, so it is found beside the
 * package's main). From tsx it is read from node_modules; esbuild.mjs replaces this module with the bytes
 * inlined, so the bundles need no node_modules.
 */
export const XXHASH_WASM_FILE: Uint8Array = readFileSync(path.join(path.dirname(createRequire(__filename).resolve('xxhash-wasm')), '..', 'workerd', 'xxhash.wasm'));
