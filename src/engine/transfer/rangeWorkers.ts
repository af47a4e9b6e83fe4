import { DownloadError } from '../core/downloadError';
import { parseContentRange } from './bodyReceiver';
import type { HttpResponse } from './http/httpClient';
import type { PartialFile } from './partialFile';
import { strongEtag, type RemoteFile } from './remoteFile';
import { RestartTransfer, type RetryBudget } from './retryBudget';

/** The most one request asks for, so connections that finish early find work left to take. */
const MAX_RUN_BYTES = 64 * 1024 * 1024;

/** Pieces [first, last] that one connection is fetching. */
interface Assignment {
  readonly first: number;
  readonly last: number;
}

type RequestOutcome = 'more' | 'done' | HttpResponse;

/**
 * Connections fetching the missing pieces of a PartialFile with Range requests, each taking the next
 * assignment from `claim()` until none is left, each retrying through the transfer's one RetryBudget.
 * Only the first starts until a 206 shows that Range works, so a server that ignores Range is not asked
 * for the whole file N times; a 200 instead stops them all and is handed back to be streamed whole.
 */
export class RangeWorkers {
  private readonly inFlight = new Set<Assignment>();
  private onRangeConfirmed: (() => void) | undefined;

  constructor(
    private readonly remote: RemoteFile,
    private readonly partial: PartialFile,
    private readonly budget: RetryBudget,
    private readonly connections: number,
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
            void confirmed.then(resolve);
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          if (signal.aborted) return;
        }
        const body = await this.work(index, workers, signal);
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
        outcome = await this.fetchNext(workers, signal);
      } catch (err) {
        await this.budget.failed(index, startedAt, err, signal);
        continue;
      }
      this.budget.succeeded(index);
      if (outcome === 'done') return undefined;
      if (outcome !== 'more') return outcome;
    }
  }

  private async fetchNext(workers: number, signal: AbortSignal): Promise<RequestOutcome> {
    const map = this.partial.pieces;
    // Unknown size: the first piece's Content-Range tells it.
    const assignment = map ? this.claim(workers) : { first: 0, last: 0 };
    if (!assignment) return 'done';
    this.inFlight.add(assignment);
    try {
      const pieceSize = this.partial.pieceSize;
      const end = map ? map.end(assignment.last) : pieceSize;
      return await this.fetchRange(assignment.first * pieceSize, end, signal) ?? 'more';
    } finally {
      this.inFlight.delete(assignment);
    }
  }

  /**
   * The next run of contiguous missing pieces no connection has, sized so the connections share what is
   * left: N connections make about N requests. (Where dynamic splitting would go: with nothing left, take
   * the second half of the largest assignment in flight.)
   */
  private claim(workers: number): Assignment | undefined {
    const map = this.partial.requireMap();
    const taken = (i: number): boolean => [...this.inFlight].some((a) => i >= a.first && i <= a.last);
    const free = map.missing().filter((i) => !taken(i));
    if (free.length === 0) return undefined;
    const idle = Math.max(1, workers - this.inFlight.size);
    const maxRun = Math.max(1, Math.min(Math.ceil(free.length / idle), Math.floor(MAX_RUN_BYTES / map.pieceSize)));
    let last = free[0];
    for (let k = 1; k < free.length && k < maxRun && free[k] === last + 1; k++) last = free[k];
    return { first: free[0], last };
  }

  /** One Range request for [start, end); returns the response instead when it is a whole-file 200. */
  private async fetchRange(start: number, end: number, signal: AbortSignal): Promise<HttpResponse | undefined> {
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
    const reached = await this.partial.receive(res.body, range.start, stop, signal);
    if (reached < stop) {
      throw new DownloadError('retryable', `connection closed after ${reached - range.start} of ${stop - range.start} bytes`);
    }
    return undefined;
  }
}
