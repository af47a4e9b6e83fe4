import { PIECE_HASH_WORKER_PRELUDE } from './pieceDigest';
import { ENTRY, FAILED_ENTRY, FAILED_ERRNO, HEAD, SIGNAL, TAIL, TRANSFER_WAITS, WORKER_WAITS } from './slotRing';

/** How long the 'whole' worker waits for the disk to close a gap before it hashes a slot; past that it reads the gap later. */
const DISK_WAIT_MS = 1000;
/** In the shared disk reach: how far the file is on disk without a gap (int64 at 0), bumped generation (int32 at 2). */
export const DISK_REACH_BYTES = 16;
export const DISK_GENERATION = 2;

// Kept as a source string (run with eval) so it works the same from tsx tests and from the esbuild bundle.
// One worker per role: 'store' writes each slot to the file and keeps one digest per piece (pieceDigest.ts),
// 'whole' keeps the file's sha256. Both take the bytes from the transfer's shared slots as they arrive; what
// they cannot get from memory (pieces on disk from before a restart, pieces that arrived out of order on
// other connections) they read from the file. The file descriptors are the transfer's, which closes them
// once the workers have exited (a terminated worker closes nothing).
// The writes are synchronous calls from the slot's memory in this thread: through libuv's pool they cost
// the event loop a hand-off and a completion per call (4096 per GiB), and the event loop is what sets the
// pace. Each call is at most MAX_WRITE: a page-cache write's length sets the size of the folios it fills,
// and on this VM large folios come from memory the VM has reported to its host as free, which costs far
// more to fill (curl's 4-12 KiB writes never pay that). 1 GiB with one connection, 4 rounds each after 3 s
// of idle memory: 16 KiB calls 1.72-2.16 s (kernel 1.21-1.76 s), 32 KiB 1.70-2.47 s, 64 KiB 2.22-2.56 s,
// 256 KiB 2.38-2.65 s (kernel 2.13-2.34 s), 4 KiB 2.67-3.68 s (too many calls); without the idle time,
// 16 KiB 1.86-2.30 s, 64 KiB 1.81-2.19 s, 256 KiB 2.33-2.93 s.
// Direct writes (O_DIRECT) would skip the page cache, but then the virtual disk sets the pace (1 GiB in
// 1.0-2.5 s, varying by the minute): 2.38-3.37 s against 1.59-1.98 s through the page cache.
// A write that fails (a full disk) marks its entry in the ring (FAILED_ENTRY, FAILED_ERRNO) before TAIL
// passes it; nothing after it is written, since nothing after it can count as on disk.
// Slots come through a ring in shared memory, not as messages: the transfer moves HEAD, the worker moves
// TAIL once it is done with an entry's slot, and neither side is woken while the other keeps up (a message
// per slot each way cost the transfer's thread more CPU than its socket reads). Pieces, advances and the
// finish come as messages; before each, the ring is drained, so they follow the slots written before them.
// The worker is one loop: it takes slots, then messages (receiveMessageOnPort), then sleeps on SIGNAL.
// The 'whole' hash must see bytes in order. A slot ahead of its cursor whose gap is already sealed in other
// slots (marked by the transfer) waits until the disk holds that gap, reads it back and goes on from memory:
// dropping such slots left the hash behind for good, reading the whole file back after one shared start.
// A worker started ahead of its file (prestartFileWorkers) waits for its job, posted to it, on 'wake'.
export const FILE_WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
function awaitJob(wake) {
  for (;;) {
    const m = receiveMessageOnPort(parentPort);
    if (m) return m.message;
    Atomics.wait(wake, 0, 0);
  }
}
const job = workerData.job ?? awaitJob(new Int32Array(workerData.wake));
const pieceHashJob = job;
${PIECE_HASH_WORKER_PRELUDE}
const { readFd, writeFd, pieceSize: ps, role, memory, slotSize, ring: ringMemory, control: controlMemory, disk } = job;
const MAX_WRITE = 16 * 1024;
const diskReach = new BigInt64Array(disk);
const diskGeneration = new Int32Array(disk);
const mem = Buffer.from(memory.buffer);
const ring = new Float64Array(ringMemory);
const control = new Int32Array(controlMemory);
const capacity = ring.length / ${ENTRY};
let taken = 0;
function drain() {
  for (let head = Atomics.load(control, ${HEAD}); taken !== head; head = Atomics.load(control, ${HEAD})) {
    while (taken !== head) {
      const at = (taken % capacity) * ${ENTRY};
      onData(ring[at], ring[at + 1], ring[at + 2], ring[at + 3] === 1, taken + 1);
      taken++;
      Atomics.store(control, ${TAIL}, taken);
      if (Atomics.load(control, ${TRANSFER_WAITS}) === 1) Atomics.notify(control, ${TAIL});
    }
  }
}
let failed = false;
let finished = false;
function run() {
  while (!failed && !finished) {
    const signal = Atomics.load(control, ${SIGNAL});
    try {
      drain();
      for (let m = receiveMessageOnPort(parentPort); m && !failed && !finished; m = receiveMessageOnPort(parentPort)) handle(m.message);
    } catch (e) {
      fail(e);
    }
    if (failed || finished) return;
    Atomics.store(control, ${WORKER_WAITS}, 1);
    // A second's timeout only as a safety net: every push or message that needs this worker bumps SIGNAL.
    if (Atomics.load(control, ${HEAD}) === taken) Atomics.wait(control, ${SIGNAL}, signal, 1000);
    Atomics.store(control, ${WORKER_WAITS}, 0);
  }
}
let writeFailed = false;
// Whether the slot's bytes are on disk now; entry is its number + 1.
function write(view, offset, entry) {
  if (writeFailed) return false;
  try {
    for (let done = 0; done < view.length;) {
      const n = fs.writeSync(writeFd, view, done, Math.min(MAX_WRITE, view.length - done), offset + done);
      // A regular file never takes nothing without an error; if it did, going on would never end.
      if (n <= 0) throw Object.assign(new Error('no bytes written'), { errno: -5 });
      done += n;
    }
    return true;
  } catch (e) {
    writeFailed = true;
    Atomics.store(control, ${FAILED_ERRNO}, typeof e.errno === 'number' ? e.errno : -5);
    Atomics.store(control, ${FAILED_ENTRY}, entry);
    return false;
  }
}
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
function hashFromDisk(hash, from, to) {
  for (let at = from; at < to;) {
    const n = fs.readSync(readFd, buf, 0, Math.min(buf.length, to - at), at);
    if (n === 0) throw new Error('the file is shorter than expected');
    hash.update(buf.subarray(0, n));
    at += n;
  }
}
// role 'whole': the file's hash covers [0, cursor).
const whole = role === 'whole' ? crypto.createHash('sha256') : undefined;
let cursor = 0;
// role 'store': finished digests, and the piece being hashed from memory per piece index.
const digests = [];
const partial = new Map();
// Whether the file is on disk without a gap up to 'offset' within ${DISK_WAIT_MS} ms.
function awaitDisk(offset) {
  const deadline = Date.now() + ${DISK_WAIT_MS};
  for (;;) {
    const generation = Atomics.load(diskGeneration, ${DISK_GENERATION});
    if (Number(Atomics.load(diskReach, 0)) >= offset) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(diskGeneration, ${DISK_GENERATION}, generation, left);
  }
}
function onData(slot, length, offset, gapSealed, entry) {
  const view = mem.subarray(slot * slotSize, slot * slotSize + length);
  if (whole) {
    // In order: hash it; already covered: skip; ahead of the cursor: read the gap from disk now if it is
    // sealed (about to be written), else once it is contiguous.
    if (offset > cursor && gapSealed && awaitDisk(offset)) {
      hashFromDisk(whole, cursor, offset);
      cursor = offset;
    }
    if (offset <= cursor && offset + length > cursor) {
      whole.update(view.subarray(cursor - offset));
      cursor = offset + length;
    }
    return;
  }
  if (!write(view, offset, entry)) return;
  const index = Math.floor(offset / ps);
  if (offset === index * ps) {
    partial.get(index)?.hash.drop();
    partial.set(index, { hash: newPieceHash().update(view), next: offset + length });
    return;
  }
  const p = partial.get(index);
  if (p && p.next === offset) {
    p.hash.update(view);
    p.next += length;
  } else if (p) {
    p.hash.drop();
    partial.delete(index);
  }
}
function onPiece(index, end) {
  if (digests[index] !== undefined) return;
  const p = partial.get(index);
  partial.delete(index);
  if (p && p.next !== end) p.hash.drop();
  if (p && p.next === end) {
    digests[index] = p.hash.digest();
  } else {
    const h = newPieceHash();
    hashFromDisk(h, index * ps, end);
    digests[index] = h.digest();
  }
}
function advance(upTo) {
  if (cursor < upTo) {
    hashFromDisk(whole, cursor, upTo);
    cursor = upTo;
  }
}
function fail(e) {
  if (failed) return;
  failed = true;
  parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
}
function handle(m) {
  drain();
  if (m.type === 'piece') {
    onPiece(m.index, m.end);
  } else if (m.type === 'advance') {
    advance(m.upTo);
  } else if (m.type === 'finish') {
    let reply;
    if (whole) {
      advance(m.size);
      reply = { type: 'done', sha256: whole.digest('hex') };
    } else {
      const count = Math.ceil(m.size / ps);
      for (let i = 0; i < count; i++) onPiece(i, Math.min(m.size, (i + 1) * ps));
      reply = { type: 'done', pieces: digests.slice(0, count) };
    }
    finished = true;
    parentPort.postMessage(reply);
  }
}
run();
`;
