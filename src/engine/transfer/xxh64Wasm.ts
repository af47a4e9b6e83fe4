import { XXHASH_WASM_FILE } from './xxhashWasmFile';

const MEMORY_SECTION = 5;
const IMPORT_SECTION = 2;
const FUNCTION_SECTION = 3;
const utf8 = (s: string): number[] => [s.length, ...Buffer.from(s)];
// One import: "js" "mem", a memory (kind 2) with a minimum and a maximum, shared (flags 3): 1 to 65536 pages.
const MEMORY_IMPORT = [1, ...utf8('js'), ...utf8('mem'), 2, 3, 1, 0x80, 0x80, 0x04];

/** The module with its one declared memory replaced by an imported shared memory; throws for any other shape. */
export function withImportedSharedMemory(module: Uint8Array): Uint8Array {
  const out: number[] = [...module.subarray(0, 8)];
  let at = 8;
  let memories = 0;
  while (at < module.length) {
    const start = at;
    const id = module[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = module[at++];
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    const end = at + size;
    if (id === IMPORT_SECTION) throw new Error('xxhash-wasm: the module imports something; expected none');
    if (id === MEMORY_SECTION) {
      // One memory without a maximum, and no other: what xxhash-wasm 1.x declares.
      if (module[at] !== 1 || module[at + 1] !== 0) throw new Error('xxhash-wasm: unexpected memory section');
      memories++;
    } else {
      if (id === FUNCTION_SECTION) out.push(IMPORT_SECTION, MEMORY_IMPORT.length, ...MEMORY_IMPORT);
      out.push(...module.subarray(start, end));
    }
    at = end;
  }
  if (memories !== 1) throw new Error('xxhash-wasm: expected one memory section');
  return Uint8Array.from(out);
}

/**
 * xxhash-wasm's XXH64, with its memory imported as a shared one (`js.mem`) instead of declared: the store
 * worker then hashes each slot where the socket put it. Through a module with its own memory every byte
 * was copied in first: 1 GiB in 1 MiB slots took 340-360 ms that way, 180-205 ms in place.
 */
export const XXH64_WASM: Uint8Array = withImportedSharedMemory(XXHASH_WASM_FILE);
