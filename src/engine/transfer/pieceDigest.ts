import type { PieceAlgorithm } from '../store/storeLayout';
import { XXH64_WASM } from './xxh64Wasm';

/**
 * Pieces only locate damage; the whole file's sha256 is the proof, checked after every download, repair
 * and full check. So piece digests use XXH64, a fast non-cryptographic hash (xxhash-wasm's, 5-6 GiB/s on
 * one core here against sha256's 0.6-1.7): a collision can only make a repair keep a bad piece, which the
 * whole-file sha256 then rejects — a full re-download, never a wrong file.
 */
export const PIECE_ALGORITHM: PieceAlgorithm = 'xxh64';

/** XXH64's state (xxhash-wasm's layout), and how many pieces can be hashed at once. */
const STATE_BYTES = 88;
const STATE_COUNT = 256;
/** Where bytes from outside the shared memory (reads from disk) are copied to be hashed. */
export const PIECE_HASH_SCRATCH_BYTES = 256 * 1024;
/** The part of a hash worker's shared memory that XXH64 keeps for itself: scratch, then the states. */
export const PIECE_HASH_AREA_BYTES = PIECE_HASH_SCRATCH_BYTES + STATE_BYTES * STATE_COUNT;
const PAGE = 64 * 1024;

/**
 * Shared memory for `bytes` of the caller's, followed by the piece-hash area (at offset `bytes`). The hash
 * workers get it as `memory` in their data; a view on it is hashed where it is, any other view through scratch.
 */
export function pieceHashMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil((bytes + PIECE_HASH_AREA_BYTES) / PAGE);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** What a hash worker needs to compute piece digests: pass as `pieceHash` in its data, with `memory`. */
export interface PieceHashWorkerData {
  readonly algorithm: PieceAlgorithm;
  readonly wasm?: Uint8Array;
  /** The piece-hash area's offset in the worker's `memory`. */
  readonly area: number;
}

export function pieceHashWorkerData(algorithm: PieceAlgorithm, area = 0): PieceHashWorkerData {
  return algorithm === 'xxh64' ? { algorithm, wasm: XXH64_WASM, area } : { algorithm, area };
}

/**
 * Worker source that defines `newPieceHash()`: `update(view)` returning itself, `digest()` (hex) and
 * `drop()` for a hash given up. XXH64 keeps each piece's state in the shared memory's hash area, so many
 * pieces can be in progress at once with one wasm instance. Reads `pieceHashJob`: the worker's data, with
 * `pieceHash` and `memory`, to be defined before it.
 */
export const PIECE_HASH_WORKER_PRELUDE = `
const pieceHashData = pieceHashJob.pieceHash;
const XXH_STATE = ${STATE_BYTES};
const XXH_SCRATCH = ${PIECE_HASH_SCRATCH_BYTES};
const xxhStates = [];
let xxh;
let xxhHeap;
if (pieceHashData.algorithm === 'xxh64') {
  const memory = pieceHashJob.memory;
  xxh = new WebAssembly.Instance(new WebAssembly.Module(pieceHashData.wasm), { js: { mem: memory } }).exports;
  xxhHeap = Buffer.from(memory.buffer);
  for (let i = ${STATE_COUNT} - 1; i >= 0; i--) xxhStates.push(pieceHashData.area + XXH_SCRATCH + i * XXH_STATE);
}
function newPieceHash() {
  if (pieceHashData.algorithm === 'sha256') {
    const sha = require('node:crypto').createHash('sha256');
    return { update(view) { sha.update(view); return this; }, digest: () => sha.digest('hex'), drop() {} };
  }
  const state = xxhStates.pop();
  if (state === undefined) throw new Error('more than ${STATE_COUNT} pieces hashed at once');
  xxhHeap.fill(0, state, state + XXH_STATE);
  xxh.init64(state, 0n);
  let held = true;
  return {
    update(view) {
      if (view.buffer === xxhHeap.buffer) {
        xxh.update64(state, view.byteOffset, view.length);
        return this;
      }
      for (let at = 0; at < view.length; at += XXH_SCRATCH) {
        const part = view.subarray(at, at + XXH_SCRATCH);
        xxhHeap.set(part, pieceHashData.area);
        xxh.update64(state, pieceHashData.area, part.length);
      }
      return this;
    },
    digest() {
      const digest = BigInt.asUintN(64, xxh.digest64(state)).toString(16).padStart(16, '0');
      this.drop();
      return digest;
    },
    drop() {
      if (held) xxhStates.push(state);
      held = false;
    },
  };
}
`;
