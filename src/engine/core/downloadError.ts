/**
 * Why a transfer stopped. `retryable` failures are retried with backoff; `fatal` ones are reported as-is;
 * `diskFull` pauses the download; `aborted` means the caller paused or cancelled it.
 */
import type { Fix } from './fixes';

export type DownloadErrorKind = 'retryable' | 'fatal' | 'diskFull' | 'aborted';

/**
 * What went wrong, for surfaces to decide on (never parse the message): `not-found` (404/410, or not in the
 * hub repo), `auth` (401/403: a token is missing or not accepted), `disk-full`, `checksum` (the bytes are not
 * what the catalog or hub says), `network` (connection, timeout, 5xx, 429), `write` (the store cannot be
 * written), `refused` (any other answer the server or the URL does not allow), `aborted` (paused or cancelled).
 */
export type DownloadFailureCode = 'not-found' | 'auth' | 'disk-full' | 'checksum' | 'network' | 'write' | 'refused' | 'aborted';

const CODE_OF_KIND: Record<DownloadErrorKind, DownloadFailureCode> = { retryable: 'network', fatal: 'refused', diskFull: 'disk-full', aborted: 'aborted' };

export interface DownloadErrorDetails {
  readonly code?: DownloadFailureCode;
  readonly retryAfterMs?: number;
  /** What the user can do about it; surfaces phrase it (core/fixes). */
  readonly fix?: Fix;
}

export class DownloadError extends Error {
  readonly code: DownloadFailureCode;
  readonly retryAfterMs?: number;
  readonly fix?: Fix;

  constructor(readonly kind: DownloadErrorKind, message: string, details: DownloadErrorDetails = {}) {
    super(message);
    this.name = 'DownloadError';
    this.code = details.code ?? CODE_OF_KIND[kind];
    this.retryAfterMs = details.retryAfterMs;
    this.fix = details.fix;
  }
}

/** Maps anything thrown during a transfer onto a DownloadError, so the retry logic has one type to look at. */
export function toDownloadError(err: unknown): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DownloadError('diskFull', 'disk full');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new DownloadError('fatal', `cannot write: ${message}`, { code: 'write' });
  const network = networkFailure(err, code);
  if (network) return network;
  return new DownloadError('retryable', message || code || 'network error');
}

/** Name resolution and connection failures, named by host with their likely causes (retried like any transient failure). */
function networkFailure(err: unknown, code: string): DownloadError | undefined {
  const e = err as { hostname?: unknown; address?: unknown; port?: unknown };
  const host = typeof e.hostname === 'string' ? e.hostname
    : typeof e.address === 'string' ? `${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}` : undefined;
  if (!host) return undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new DownloadError('retryable', `cannot resolve ${host} (offline, DNS failing, or only reachable through a proxy)`, { fix: { kind: 'network', host } });
  }
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'].includes(code)) {
    return new DownloadError('retryable', `cannot connect to ${host} (${code}: offline, the host is down, or a proxy or firewall is in the way)`, { fix: { kind: 'network', host } });
  }
  return undefined;
}

export function httpStatusError(status: number, url: string, isHub: boolean, retryAfterMs?: number): DownloadError {
  if (status === 401 || status === 403) {
    const { origin, host } = new URL(url);
    return new DownloadError('fatal', isHub
      ? `this model is gated: the Hugging Face hub refused access (HTTP ${status} from ${url})`
      : `${host} refused access (HTTP ${status} for ${url}): it needs a token`, { code: 'auth', fix: { kind: 'credentials', origin } });
  }
  if (status === 404 || status === 410) return new DownloadError('fatal', `not found at URL ${url} (HTTP ${status})`, { code: 'not-found', fix: { kind: 'sourceNotFound' } });
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
