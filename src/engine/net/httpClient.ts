import * as http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { DownloadError, toDownloadError } from './downloadError';

export const MAX_REDIRECTS = 10;

/** A bearer token and the only origin it may be sent to (never to a redirect target elsewhere). */
export interface ScopedToken {
  readonly token: string;
  readonly origin: string;
}

export interface HttpRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly auth?: ScopedToken;
  readonly signal?: AbortSignal;
  /** How long to wait for the response headers (the body has its own stall watchdog); default 30 s. */
  readonly headersTimeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL after redirects. */
  readonly url: string;
  readonly body: Readable;
}

export function assertHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError('fatal', `invalid URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError('fatal', `only http and https URLs are supported: ${url}`);
  }
  return parsed;
}

/**
 * Opens a streaming request with node:http(s) directly: a multi-GB body passes through one stream, with none
 * of an HTTP library's per-chunk work (progress events, re-emitted chunks) on the event loop.
 * Redirects are followed here so that the token rule is explicit: Authorization goes only to the token's
 * own origin. Nothing is retried and there is no overall timeout (stall detection is the caller's job,
 * since bodies can be many GB).
 */
export async function openRequest(req: HttpRequest): Promise<HttpResponse> {
  let url = assertHttpUrl(req.url);
  let method = req.method ?? 'GET';
  let body = req.body;
  for (let hop = 0; ; hop++) {
    // Some servers refuse requests without a User-Agent (node:http sends none).
    const headers: Record<string, string> = { 'user-agent': 'model-availability', 'accept-encoding': 'identity', ...req.headers };
    if (req.auth && url.origin === req.auth.origin) headers.authorization = `Bearer ${req.auth.token}`;
    const response = await send(url, method, headers, body, req.signal, req.headersTimeoutMs ?? 30_000);
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('fatal', `too many redirects from ${req.url}`);
      url = assertHttpUrl(new URL(location, url).toString());
      if (status === 303 || (method === 'POST' && status !== 307 && status !== 308)) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { status, headers: response.headers, url: url.toString(), body: response };
  }
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DownloadError('aborted', 'aborted'));
      return;
    }
    // A server that accepts the connection and never answers would otherwise hold a download slot forever.
    const noAnswer = setTimeout(() => request.destroy(new DownloadError('retryable', `no response from ${url.host} within ${Math.round(headersTimeoutMs / 1000)} s`)), headersTimeoutMs);
    const request = (url.protocol === 'https:' ? https.request : http.request)(url, { method, headers, signal }, (res) => {
      clearTimeout(noAnswer);
      resolve(res);
    });
    // Kept for the request's life: a socket error after the response arrives is also emitted here (and
    // reaches the body stream's reader as well); with no listener it would crash the process.
    request.on('error', (err) => {
      clearTimeout(noAnswer);
      reject(signal?.aborted ? new DownloadError('aborted', 'aborted') : toDownloadError(err));
    });
    request.end(body);
  });
}

/** Reads a small response body (API calls), refusing anything unreasonably large. */
export async function readSmallBody(body: Readable, limit = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      body.destroy();
      throw new DownloadError('fatal', 'response too large');
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
