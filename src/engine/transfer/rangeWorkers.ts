import { DownloadError } from '../core/downloadError';
import { parseContentRange } from './bodyReceiver';
import { ByteRanges, type ByteRange } from './byteRanges';
import { EARLY_LOOK_MS, type PaceJudge } from './connectionPace';
import { sleep } from '../core/sleep';
import type { HttpResponse } from './http/httpClient';
import type { PartialFile } from './partialFile';
import { strongEtag, type RemoteFile } from './remoteFile';
import { RestartTransfer, type RetryBudget } from './retryBudget';

/** The most one request asks for: requests shrink towards the end, so connections finish together. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** The smallest range worth a request of its own (and so the smallest half a split leaves). */
const MIN_SPLIT_BYTES = 1024 * 1024;
/** Requests ask for at most this share (1 / (connections × this)) of what no request has asked for yet. */
const REQUESTS_PER_CONNECTION_LEFT = 4;

/**
 * The byte range one connection owns: [pos, requested) is asked for, [requested, end) not yet. A split
 * moves `end` down to hand the second half of the unrequested part to another connection.
 */
interface Segment {
  pos: number;
  requested: number;
  end: number;
}

type RequestOutcome = 'more' | 'done' | HttpResponse;

/**
 * Connections fetching the missing bytes of a PartialFile with Range requests, each taking its next range
 * from `claim()` until none is left, each retrying through the transfer's one RetryBudget. With nothing
 * left to start, a connection takes the second half of the largest range still unrequested (aria2's
 * approach), so a slow connection does not finish alone; no byte is asked for twice unless a request fails,
 * and then only what did not land.
 * Only the first starts until a 206 shows that Range works, so a server that ignores Range is not asked
 * for the whole file N times; a 200 instead stops them all and is handed back to be streamed whole.
 */
export class RangeWorkers {
  private readonly segments = new Set<Segment>();
  /** Each connection's speed (bytes/s) in its last request, by connection index. */
  private readonly rates = new Map<number, number>();
  /** The connections that have finished a request, and what all of them have brought since the start. */
  private readonly measured = new Set<number>();
  private readonly received = new Throughput();
  /** The first connection has nothing left to claim: the others then take what a failed request left. */
  private firstDone = false;
  /** The others have stopped: the first asks for the rest in one request, as a single connection does. */
  private alone = false;
  private onRangeConfirmed: (() => void) | undefined;

  constructor(
    private readonly remote: RemoteFile,
    private readonly partial: PartialFile,
    private readonly budget: RetryBudget,
    private readonly connections: number,
    /** Says when a range is split, e.g. "a.bin: splitting bytes 100-200: …". */
    private readonly log: (message: string) => void,
    /** Asked whether the connections after the first help: before they start, and once every connection has finished a request. */
    private readonly pace: PaceJudge,
  ) {}

  /** Fetches every missing piece; returns the whole-file body if the server answered 200 instead. */
  async run(outer: AbortSignal): Promise<HttpResponse | undefined> {
    const workers = Math.max(1, this.connections);
    // One controller per connection: a whole-file answer stops the others but must not abort its own body.
    const controllers = Array.from({ length: workers }, () => new AbortController());
    const stopOthers = (except: number, reason: unknown): void => controllers.forEach((c, k) => { if (k !== except) c.abort(reason); });
    let wholeBody: HttpResponse | undefined;
    let firstError: unknown;
    const confirmed = new Promise<void>((resolve) => {
      this.onRangeConfirmed = resolve;
      if (this.partial.validators.rangeConfirmed) resolve();
    });
    await Promise.allSettled(controllers.map(async (own, index) => {
      const signal = AbortSignal.any([outer, own.signal]);
      try {
        if (index > 0) {
          await new Promise<void>((resolve) => {
            // Aborted before it began (a cancel during the transfer's set-up): 'abort' has fired already.
            if (signal.aborted) resolve();
            void confirmed.then(resolve);
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          // A moment of the first connection alone, its body flowing: when it already brings more than this
          // machine can take, the others would only cost CPU, and never start.
          await sleep(EARLY_LOOK_MS / 2, signal).catch(() => undefined);
          // The second half only: the first still carries this process's own start (workers starting, code compiling).
          const look = new Throughput();
          const onHand = this.partial.bytesOnHand();
          await sleep(EARLY_LOOK_MS / 2, signal).catch(() => undefined);
          if (signal.aborted) return;
          if (!this.alone && this.pace.boundEarly?.(look.bytesPerSecond(this.partial.bytesOnHand() - onHand))) this.alone = true;
          if (this.alone) return;
        }
        const body = await this.work(index, workers, signal);
        if (index === 0) this.firstDone = true;
        if (!body) return;
        if (wholeBody) {
          body.body.destroy();
        } else {
          wholeBody = body;
          stopOthers(index, new DownloadError('aborted', 'switching to one stream'));
        }
      } catch (err) {
        if (!wholeBody && firstError === undefined) firstError = err;
        stopOthers(index, err);
      }
    }));
    this.onRangeConfirmed = undefined;
    if (wholeBody) return wholeBody;
    if (firstError !== undefined) throw firstError;
    if (!this.partial.requireMap().allComplete) throw new DownloadError('retryable', 'transfer ended with pieces missing');
    return undefined;
  }

  /** One connection: request after request until nothing is left to claim (or a whole-file 200 arrives). */
  private async work(index: number, workers: number, signal: AbortSignal): Promise<HttpResponse | undefined> {
    for (;;) {
      const startedAt = this.budget.started();
      let outcome: RequestOutcome;
      try {
        outcome = await this.fetchNext(index, workers, signal);
      } catch (err) {
        await this.budget.failed(index, startedAt, err, signal);
        continue;
      }
      this.budget.succeeded(index);
      if (outcome === 'done') return undefined;
      if (outcome !== 'more') return outcome;
    }
  }

  private async fetchNext(index: number, workers: number, signal: AbortSignal): Promise<RequestOutcome> {
    // Unknown size: the first piece's Content-Range tells it (and only one connection runs until then).
    const first = this.partial.pieces ? undefined : { pos: 0, requested: 0, end: this.partial.pieceSize };
    // When this machine, not the network, sets the pace, the extra connections stop at their next claim.
    const retire = !first && index > 0 && !this.firstDone && this.measured.size === workers && this.pace.machineBound(this.received.bytesPerSecond());
    if (retire) this.alone = true;
    const segment = first ?? (retire ? undefined : this.claim(index, workers));
    if (!segment) return 'done';
    this.segments.add(segment);
    try {
      while (segment.pos < segment.end) {
        segment.requested = this.cut(segment.pos, segment.end, this.requestSize(index, workers));
        const whole = await this.fetchRange(index, segment.pos, segment.requested, signal);
        if (whole) return whole;
        segment.pos = segment.requested;
      }
      return 'more';
    } finally {
      // A failed request's unlanded bytes are free again: the next claim resumes from where they start.
      this.segments.delete(segment);
    }
  }

  /**
   * The start of the first missing range no connection owns, a stripe of at most one request's size (or a
   * piece); with none, the second half of the largest unrequested range another connection owns (no half
   * smaller than MIN_SPLIT_BYTES), as aria2 does. Stripes keep the connections side by side near the front
   * of what is missing, so the complete prefix of the file grows during the download and the file's sha256
   * follows it: with each connection on its own quarter, three quarters of the file were left to hash
   * after the last byte arrived.
   */
  private claim(index: number, workers: number): Segment | undefined {
    const free = this.freeRanges()[0];
    if (free) {
      const end = this.cut(free.start, free.end, Math.max(this.partial.pieceSize, this.requestSize(index, workers)));
      return { pos: free.start, requested: free.start, end };
    }
    let largest: Segment | undefined;
    for (const s of this.segments) if (!largest || s.end - s.requested > largest.end - largest.requested) largest = s;
    if (!largest || largest.end - largest.requested < 2 * MIN_SPLIT_BYTES) return undefined;
    const mid = largest.requested + Math.floor((largest.end - largest.requested) / 2);
    const taken = { pos: mid, requested: mid, end: largest.end };
    this.log(`splitting bytes ${largest.requested}-${largest.end}: another connection takes ${mid}-${largest.end}`);
    largest.end = mid;
    return taken;
  }

  /** The missing bytes no connection owns, in order. */
  private freeRanges(): ByteRange[] {
    const owned = new ByteRanges();
    for (const s of this.segments) owned.add(s.pos, s.end);
    return this.partial.missingRanges().flatMap((range) => owned.gaps(range.start, range.end));
  }

  /**
   * Where `length` bytes from `start` end within [start, end): moved back to a piece boundary when one is
   * far enough in, so a piece mostly comes over one connection and is hashed from memory.
   */
  private cut(start: number, end: number, length: number): number {
    if (start + length >= end) return end;
    const boundary = Math.floor((start + length) / this.partial.pieceSize) * this.partial.pieceSize;
    return boundary - start >= MIN_SPLIT_BYTES ? boundary : start + length;
  }

  /**
   * Large while much is left, down to MIN_SPLIT_BYTES at the end: what is asked for cannot be split off.
   * In proportion to the connection's share of the measured speed, so that a slow connection's last
   * request takes no longer than the others' (with equal speeds: 1 / (connections × 4) of what is left).
   */
  private requestSize(index: number, workers: number): number {
    if (workers === 1 || this.alone || !this.partial.pieces) return Number.MAX_SAFE_INTEGER;
    let unrequested = 0;
    for (const s of this.segments) unrequested += s.end - s.requested;
    for (const r of this.freeRanges()) unrequested += r.end - r.start;
    let total = 0;
    for (const rate of this.rates.values()) total += rate;
    const own = this.rates.get(index);
    const share = own !== undefined && this.rates.size === workers && total > 0 ? own / total : 1 / workers;
    // One piece at most until every connection has finished a request: the speeds, and whether this machine
    // is the limit (ConnectionPace), are then known before a quarter of the file is spread over the connections.
    const most = this.measured.size < workers ? Math.min(MAX_REQUEST_BYTES, this.partial.pieceSize) : MAX_REQUEST_BYTES;
    return Math.max(MIN_SPLIT_BYTES, Math.min(most, Math.floor((unrequested * share) / REQUESTS_PER_CONNECTION_LEFT)));
  }

  /** One Range request for [start, end); returns the response instead when it is a whole-file 200. */
  private async fetchRange(index: number, start: number, end: number, signal: AbortSignal): Promise<HttpResponse | undefined> {
    const v = this.partial.validators;
    const headers: Record<string, string> = { range: `bytes=${start}-${end - 1}` };
    const validator = v.etag ?? v.lastModified;
    if (validator) headers['if-range'] = validator;
    const res = await this.remote.request(signal, headers);
    if (res.status === 200) return res;
    if (res.status !== 206) throw this.remote.statusError(res);
    const range = parseContentRange(res.headers['content-range']);
    if (!range) {
      res.body.destroy();
      throw new DownloadError('retryable', '206 without a valid Content-Range');
    }
    const etag = strongEtag(res.headers.etag);
    const known = this.partial.pieces;
    if (range.total === undefined || (known && range.total !== known.size) || (v.etag && etag && etag !== v.etag)) {
      res.body.destroy();
      throw new RestartTransfer(`the file at ${this.remote.url} changed during the download`);
    }
    v.etag ??= etag;
    v.lastModified ??= res.headers['last-modified'];
    v.rangeConfirmed = true;
    this.onRangeConfirmed?.();
    const map = this.partial.learnSize(range.total);
    const stop = Math.min(range.end + 1, Math.max(end, range.start), map.size);
    const began = performance.now();
    const reached = await this.partial.receive(res.body, range.start, stop, signal);
    const seconds = (performance.now() - began) / 1000;
    // Bytes per second of this connection's last request (too short a one says little).
    if (seconds > 0.05) this.rates.set(index, (reached - range.start) / seconds);
    this.measured.add(index);
    this.received.add(reached - range.start);
    if (reached < stop) {
      throw new DownloadError('retryable', `connection closed after ${reached - range.start} of ${stop - range.start} bytes`);
    }
    return undefined;
  }
}

/** Bytes since it was made, per second. */
class Throughput {
  private readonly since = performance.now();
  private bytes = 0;

  add(n: number): void { this.bytes += n; }

  /** Of the bytes added, or of `bytes` when given. */
  bytesPerSecond(bytes = this.bytes): number {
    const seconds = (performance.now() - this.since) / 1000;
    return seconds > 0 ? bytes / seconds : 0;
  }
}
