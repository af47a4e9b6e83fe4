import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * hash-wasm's XXH64 build (its UMD file: the wasm inlined, no imports), as source text for the hash
 * workers, which run as eval'd strings and so cannot import it. From tsx it is read from node_modules;
 * esbuild.mjs replaces this module with the text inlined, so the bundles need no node_modules.
 */
export const XXHASH64_SOURCE: string = readFileSync(createRequire(__filename).resolve('hash-wasm/dist/xxhash64.umd.min.js'), 'utf8');
