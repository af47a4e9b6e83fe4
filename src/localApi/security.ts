import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './apiError';

export interface SecurityOptions {
  /** The port the server listens on (Host must name it). */
  readonly port: () => number;
  /** undefined: no token needed (`modelAvailability.api.requireToken` off); the Host and Origin checks stay on. */
  readonly token: string | undefined;
  /** Origins besides the server's own that may call it from a browser, e.g. `http://localhost:3000`. */
  readonly allowedOrigins: readonly string[];
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Host must be a loopback name with our port: a page on evil.example that rebinds its DNS to 127.0.0.1 still
 * sends `Host: evil.example` (CVE-2024-28224 in Ollama).
 */
export function checkHost(req: IncomingMessage, opts: SecurityOptions): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!LOOPBACK_NAMES.some((name) => host === `${name}:${opts.port()}`)) {
    throw new ApiError(403, 'forbidden_host', `the Host header must be 127.0.0.1:${opts.port()}, localhost:${opts.port()} or [::1]:${opts.port()}; connect to the server by one of those names`);
  }
}

/** The origin a browser page sends, when it is one that may call us; undefined when no Origin was sent. */
export function allowedOrigin(req: IncomingMessage, opts: SecurityOptions): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const own = LOOPBACK_NAMES.map((name) => `http://${name}:${opts.port()}`);
  if (own.includes(origin.toLowerCase()) || opts.allowedOrigins.includes(origin)) return origin;
  // A web page's form POST (a CORS simple request, sent without preflight) lands here and goes no further.
  throw new ApiError(403, 'forbidden_origin', `requests from ${origin.slice(0, 100)} are not allowed; add it to modelAvailability.api.allowedOrigins to allow it`);
}

/** `Authorization: Bearer …`, or `?token=` where `queryToken` (browser WebSockets cannot set headers). */
export function checkToken(req: IncomingMessage, url: URL, opts: SecurityOptions, queryToken: boolean): void {
  if (opts.token === undefined) return;
  const header = req.headers.authorization;
  const sent = header?.startsWith('Bearer ') ? header.slice(7).trim() : queryToken ? url.searchParams.get('token') ?? undefined : undefined;
  if (sent === undefined || !sameSecret(sent, opts.token)) {
    throw new ApiError(401, 'unauthorized', sent === undefined
      ? 'send the API token as "Authorization: Bearer <token>" (the token file\'s path is in the server\'s log; in VS Code: Copy API Token)'
      : 'the API token is wrong; copy it again from the token file (in VS Code: Copy API Token)');
  }
}

/** Constant time whatever the lengths: compares digests of equal length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
