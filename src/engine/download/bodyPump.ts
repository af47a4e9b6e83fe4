import type { Readable } from 'node:stream';
import { DownloadError } from '../net/downloadError';

export interface ContentRange {
  readonly start: number;
  /** Inclusive, as in the header. */
  readonly end: number;
  readonly total?: number;
}

export function parseContentRange(value: string | undefined): ContentRange | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** Our own read-ahead: enough to keep the socket busy while a chunk is written, small enough to bound memory. */
const HIGH_WATER = 4 * 1024 * 1024;
const WRITE_BATCH = 1024 * 1024;

/**
 * Reads a response body and hands each chunk to `write` with its file offset, up to `end` (exclusive).
 * The chunk's memory is reused once `write` settles, so `write` must not keep it.
 * Chunks are taken eagerly from 'data' events into a bounded queue because a destroyed stream drops its
 * buffered data: a connection that breaks must not lose bytes that already arrived.
 * A watchdog fails the read when no bytes arrive for `stallMs` while we are waiting on the network
 * (time spent in `write` — disk, speed limit — does not count). Returns the offset reached.
 */
export async function pumpBody(
  body: Readable,
  start: number,
  end: number,
  stallMs: number,
  write: (chunk: Buffer, offset: number) => Promise<void>,
): Promise<number> {
  const queue: Buffer[] = [];
  let queued = 0;
  let batch: Buffer | undefined;
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  body.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > HIGH_WATER) body.pause();
    notify();
  });
  body.on('end', () => { finished = true; notify(); });
  body.on('close', () => { finished = true; notify(); });
  body.on('error', (err) => { failure ??= err; notify(); });
  if (body.destroyed || body.readableEnded) finished = true;
  let pos = start;
  let waitingSince: number | undefined;
  const watchdog = setInterval(() => {
    if (waitingSince !== undefined && Date.now() - waitingSince > stallMs) {
      failure ??= new DownloadError('retryable', `stalled: no data for ${Math.round(stallMs / 100) / 10} s`);
      notify();
    }
  }, Math.max(50, Math.min(1000, stallMs / 4)));
  try {
    while (pos < end) {
      if (queue.length > 0) {
        // Coalesce what has arrived into one write: far fewer syscalls than one per socket chunk.
        let take = 1;
        let bytes = queue[0].length;
        while (take < queue.length && bytes + queue[take].length <= WRITE_BATCH) bytes += queue[take++].length;
        let next = queue[0];
        if (take > 1) {
          // Gathered into one reused buffer: no allocation per write for the GC to catch up with.
          batch ??= Buffer.allocUnsafeSlow(WRITE_BATCH);
          for (let k = 0, at = 0; k < take; at += queue[k++].length) queue[k].copy(batch, at);
          next = batch.subarray(0, bytes);
        }
        queue.splice(0, take);
        queued -= next.length;
        if (queued < HIGH_WATER / 2 && body.isPaused()) body.resume();
        const chunk = pos + next.length > end ? next.subarray(0, end - pos) : next;
        await write(chunk, pos);
        pos += chunk.length;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) break;
      waitingSince = Date.now();
      await new Promise<void>((resolve) => { wake = resolve; });
      waitingSince = undefined;
    }
  } finally {
    clearInterval(watchdog);
    body.destroy();
  }
  return pos;
}
