import { DownloadError, retryDelayMs, toDownloadError } from '../core/downloadError';
import { sleep } from '../core/sleep';
import type { DownloadSettings } from './settings';

/** The remote file is not what our partial data came from, or the result did not verify: start over. */
export class RestartTransfer extends Error {}

export interface RetryBudgetOptions {
  readonly settings: () => Pick<DownloadSettings, 'maxRetries' | 'retryBaseDelayMs'>;
  /** Bytes on disk so far: a request that moved them on was not a wasted one. */
  readonly progress: () => number;
  /** Before a backoff: persist what is on disk, in case the wait ends the process. */
  readonly beforeWait: () => Promise<void>;
  readonly warn: (message: string) => void;
}

/** Where a request runs: each connection retries on its own, as does the whole-file stream. */
export type RetryLane = number | 'stream';

/**
 * The one place a transfer decides "retry or give up": `maxRetries` failed requests in a row per lane
 * (progress or a success starts the count again), with jittered exponential backoff or the server's
 * Retry-After; and at most `maxRetries` restarts from zero (`RestartTransfer`). Nothing else retries.
 */
export class RetryBudget {
  private readonly failures = new Map<RetryLane, number>();
  private restarts = 0;

  constructor(private readonly opts: RetryBudgetOptions) {}

  /** Marks a request's start: pass the result to `failed` if it fails. */
  started(): number {
    return this.opts.progress();
  }

  succeeded(lane: RetryLane): void {
    this.failures.delete(lane);
  }

  /**
   * After a failed request: throws what to give up with (not retryable, aborted, out of retries, or a
   * restart for the attempt loop), otherwise waits out the backoff so the caller can try again.
   */
  async failed(lane: RetryLane, startedAt: number, raw: unknown, signal: AbortSignal): Promise<void> {
    if (raw instanceof RestartTransfer) throw raw;
    const err = signal.aborted ? abortReason(signal) : toDownloadError(raw);
    if (err.kind !== 'retryable') throw err;
    const failures = this.opts.progress() > startedAt ? 1 : (this.failures.get(lane) ?? 0) + 1;
    this.failures.set(lane, failures);
    const { maxRetries, retryBaseDelayMs } = this.opts.settings();
    if (failures > maxRetries) throw new DownloadError('fatal', `${err.message} (gave up after ${maxRetries} retries)`, { code: err.code, fix: err.fix });
    const delay = retryDelayMs(failures, retryBaseDelayMs, err.retryAfterMs);
    this.opts.warn(`${err.message}; retry ${failures}/${maxRetries} in ${delay} ms`);
    await this.opts.beforeWait();
    await sleep(delay, signal).catch(() => { throw abortReason(signal); });
  }

  /** The partial data was dropped for `reason`: throws once that happened more than `maxRetries` times. */
  restarted(reason: RestartTransfer): void {
    this.restarts++;
    this.failures.clear();
    if (this.restarts > this.opts.settings().maxRetries) {
      throw new DownloadError('fatal', `${reason.message}; gave up after ${this.restarts} attempts`, { code: 'checksum' });
    }
    this.opts.warn(`${reason.message}; downloading again (attempt ${this.restarts + 1})`);
  }
}

/**
 * Runs one request (a hub lookup, say) under a budget of its own, so it retries exactly as a transfer's
 * requests do: transient failures, name resolution and refused connections included.
 */
export async function withRetries<T>(
  opts: Pick<RetryBudgetOptions, 'settings' | 'warn'> & { readonly signal: AbortSignal },
  request: () => Promise<T>,
): Promise<T> {
  const budget = new RetryBudget({ settings: opts.settings, progress: () => 0, beforeWait: async () => undefined, warn: opts.warn });
  for (;;) {
    const startedAt = budget.started();
    try {
      return await request();
    } catch (err) {
      await budget.failed('stream', startedAt, err, opts.signal);
    }
  }
}

export function abortReason(signal: AbortSignal): DownloadError {
  const reason: unknown = signal.reason;
  return reason instanceof DownloadError ? reason : new DownloadError('aborted', 'aborted');
}
