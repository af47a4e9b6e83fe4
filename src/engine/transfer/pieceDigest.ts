import type { PieceAlgorithm } from '../store/storeLayout';
import { XXHASH64_SOURCE } from './hashWasmSource';

/**
 * Pieces only locate damage; the whole file's sha256 is the proof, checked after every download, repair
 * and full check. So piece digests use XXH64, a fast non-cryptographic hash (hash-wasm's, 2-4 GiB/s on one
 * core here against sha256's 0.6-1.7): a collision can only make a repair keep a bad piece, which the
 * whole-file sha256 then rejects — a full re-download, never a wrong file.
 */
export const PIECE_ALGORITHM: PieceAlgorithm = 'xxh64';

/** What a hash worker needs to compute piece digests: pass as `workerData.pieceHash`. */
export interface PieceHashWorkerData {
  readonly algorithm: PieceAlgorithm;
  readonly xxhashSource: string;
}

export function pieceHashWorkerData(algorithm: PieceAlgorithm): PieceHashWorkerData {
  return { algorithm, xxhashSource: algorithm === 'xxh64' ? XXHASH64_SOURCE : '' };
}

/**
 * Worker source that defines `pieceHashReady` (a promise) and `newPieceHash()`, a hash with the node:crypto
 * shape (`update(view)` returning itself, `digest('hex')`). Many pieces can be in progress at once: XXH64
 * keeps one wasm instance and saves each piece's 88-byte state between updates.
 */
export const PIECE_HASH_WORKER_PRELUDE = `
const pieceHashData = require('node:worker_threads').workerData.pieceHash;
let xxh64;
const pieceHashReady = (async () => {
  if (pieceHashData.algorithm !== 'xxh64') return;
  const module = { exports: {} };
  new Function('exports', 'module', pieceHashData.xxhashSource)(module.exports, module);
  xxh64 = await module.exports.createXXHash64();
})();
function newPieceHash() {
  if (pieceHashData.algorithm === 'sha256') return require('node:crypto').createHash('sha256');
  let state;
  const resume = () => { if (state) xxh64.load(state); else xxh64.init(); };
  return {
    update(view) { resume(); xxh64.update(view); state = xxh64.save(); return this; },
    digest() { resume(); return xxh64.digest('hex'); },
  };
}
`;
