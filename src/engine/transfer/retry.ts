import { DownloadError, retryDelayMs, toDownloadError } from '../core/downloadError';
import { sleep } from '../core/sleep';
import type { DownloadSettings, Logger } from './settings';

export interface RetryOptions {
  readonly settings: () => Pick<DownloadSettings, 'maxRetries' | 'retryBaseDelayMs'>;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Names what is retried in the log (a file name). */
  readonly label: string;
  readonly modelId: string;
  /** Errors passed through untouched and never retried. */
  readonly passThrough?: (err: unknown) => boolean;
  /** A measure of progress (bytes done): an attempt that moved it starts the failure count again. */
  readonly progress?: () => number;
  /** Runs before each wait (e.g. to save partial state). */
  readonly beforeWait?: () => Promise<void>;
}

/**
 * Runs `request`, retrying retryable failures (HTTP 408/429/5xx, timeouts, name resolution and connection
 * failures) with exponential backoff; after `maxRetries` the failure is final and keeps its cause and fix.
 */
export async function withRetries<T>(opts: RetryOptions, request: () => Promise<T>): Promise<T> {
  let failures = 0;
  for (;;) {
    const before = opts.progress?.() ?? 0;
    try {
      return await request();
    } catch (raw) {
      if (opts.passThrough?.(raw)) throw raw;
      const err = opts.signal.aborted ? abortReason(opts.signal) : toDownloadError(raw);
      if (err.kind !== 'retryable') throw err;
      failures = (opts.progress?.() ?? 0) > before ? 1 : failures + 1;
      const { maxRetries, retryBaseDelayMs } = opts.settings();
      if (failures > maxRetries) throw new DownloadError('fatal', `${err.message} (gave up after ${maxRetries} retries)`, undefined, err.fix);
      const delay = retryDelayMs(failures, retryBaseDelayMs, err.retryAfterMs);
      opts.logger.warn(`${opts.label}: ${err.message}; retry ${failures}/${maxRetries} in ${delay} ms`, opts.modelId);
      await opts.beforeWait?.();
      await sleep(delay, opts.signal).catch(() => { throw abortReason(opts.signal); });
    }
  }
}

export function abortReason(signal: AbortSignal): DownloadError {
  const reason: unknown = signal.reason;
  return reason instanceof DownloadError ? reason : new DownloadError('aborted', 'aborted');
}
