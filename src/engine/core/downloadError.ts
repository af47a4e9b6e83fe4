/**
 * Why a transfer stopped. `retryable` failures are retried with backoff; `fatal` ones are reported as-is;
 * `diskFull` pauses the download; `aborted` means the caller paused or cancelled it.
 */
export type DownloadErrorKind = 'retryable' | 'fatal' | 'diskFull' | 'aborted';

/**
 * What went wrong, for surfaces to decide on (never parse the message): `not-found` (404/410, or not in the
 * hub repo), `auth` (401/403: a token is missing or not accepted), `disk-full`, `checksum` (the bytes are not
 * what the catalog or hub says), `network` (connection, timeout, 5xx, 429), `write` (the store cannot be
 * written), `refused` (any other answer the server or the URL does not allow), `aborted` (paused or cancelled).
 */
export type DownloadFailureCode = 'not-found' | 'auth' | 'disk-full' | 'checksum' | 'network' | 'write' | 'refused' | 'aborted';

const CODE_OF_KIND: Record<DownloadErrorKind, DownloadFailureCode> = { retryable: 'network', fatal: 'refused', diskFull: 'disk-full', aborted: 'aborted' };

export class DownloadError extends Error {
  readonly code: DownloadFailureCode;
  readonly retryAfterMs?: number;

  constructor(readonly kind: DownloadErrorKind, message: string, details: { readonly code?: DownloadFailureCode; readonly retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'DownloadError';
    this.code = details.code ?? CODE_OF_KIND[kind];
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Maps anything thrown during a transfer onto a DownloadError, so the retry logic has one type to look at. */
export function toDownloadError(err: unknown): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DownloadError('diskFull', 'disk full');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new DownloadError('fatal', `cannot write: ${message}`, { code: 'write' });
  return new DownloadError('retryable', message || code || 'network error');
}

export function httpStatusError(status: number, url: string, isHub: boolean, retryAfterMs?: number): DownloadError {
  if (status === 401 || status === 403) {
    return new DownloadError('fatal', isHub
      ? `this model is gated: set a Hugging Face token (HTTP ${status} from ${url})`
      : `access denied (HTTP ${status}) at URL ${url}`, { code: 'auth' });
  }
  if (status === 404 || status === 410) return new DownloadError('fatal', `not found at URL ${url} (HTTP ${status})`, { code: 'not-found' });
  if (status === 408 || status === 429 || status >= 500) {
    return new DownloadError('retryable', `HTTP ${status} from ${url}`, { retryAfterMs });
  }
  return new DownloadError('fatal', `unexpected HTTP ${status} from ${url}`);
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const MAX_RETRY_DELAY_MS = 30_000;

/** Exponential backoff with full jitter on the upper half, capped; a server's Retry-After wins when given. */
export function retryDelayMs(attempt: number, baseDelayMs: number, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_DELAY_MS);
  const exp = Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
