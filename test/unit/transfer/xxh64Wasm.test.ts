import assert from 'node:assert/strict';
import xxhash from 'xxhash-wasm';
import { generateData } from '../../support/faultServer';
import { XXH64_WASM, withImportedSharedMemory } from '../../../src/engine/transfer/xxh64Wasm';
import { XXHASH_WASM_FILE } from '../../../src/engine/transfer/xxhashWasmFile';

interface Xxh64Exports {
  init64(state: number, seed: bigint): void;
  update64(state: number, at: number, length: number): void;
  digest64(state: number): bigint;
}

describe('XXH64 on shared memory', () => {
  it('gives xxhash-wasm\'s own digests, for any length and any split of the updates', async () => {
    const { h64Raw } = await xxhash();
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 40, shared: true });
    const heap = Buffer.from(memory.buffer);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(XXH64_WASM), { js: { mem: memory } });
    const xxh = instance.exports as unknown as Xxh64Exports;
    const data = generateData(2 * 1024 * 1024 + 3, 11);
    const at = 4096 + 5;
    data.copy(heap, at);
    const state = 64;
    for (const length of [0, 1, 31, 32, 33, 1000, 65_537, data.length]) {
      for (const cuts of [[], [1], [7, 40], [Math.floor(length / 3), Math.floor(length / 2)]]) {
        heap.fill(0, state, state + 88);
        xxh.init64(state, 0n);
        let from = 0;
        for (const cut of [...cuts.filter((c) => c <= length), length]) {
          xxh.update64(state, at + from, cut - from);
          from = cut;
        }
        const expected = h64Raw(data.subarray(0, length)).toString(16).padStart(16, '0');
        assert.equal(BigInt.asUintN(64, xxh.digest64(state)).toString(16).padStart(16, '0'), expected, `length ${length}, cut at ${cuts.join(', ')}`);
      }
    }
  });

  it('refuses a module of another shape than xxhash-wasm 1.x, rather than making a wrong one', () => {
    // The same module with its memory section taken out: nothing to replace.
    const withoutMemory = Buffer.from(withImportedSharedMemory(XXHASH_WASM_FILE));
    assert.throws(() => withImportedSharedMemory(withoutMemory), /imports something/);
    assert.throws(() => withImportedSharedMemory(XXHASH_WASM_FILE.subarray(0, 8)), /one memory section/);
  });
});
