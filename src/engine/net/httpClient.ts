import got from 'got';
import type { IncomingHttpHeaders } from 'node:http';
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
 * Opens a streaming request. Redirects are followed here rather than by got so that the token rule is
 * explicit: Authorization goes only to the token's own origin. got never retries and has no overall
 * timeout (stall detection is the caller's job, since bodies can be many GB).
 */
export async function openRequest(req: HttpRequest): Promise<HttpResponse> {
  let url = assertHttpUrl(req.url);
  let method = req.method ?? 'GET';
  let body = req.body;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...req.headers };
    if (req.auth && url.origin === req.auth.origin) headers.authorization = `Bearer ${req.auth.token}`;
    const stream = got.stream(url, {
      method,
      headers,
      body,
      http2: false,
      decompress: false,
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      signal: req.signal,
    });
    const response = await new Promise<{ statusCode: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    }).catch((err: unknown) => {
      stream.destroy();
      throw req.signal?.aborted ? new DownloadError('aborted', 'aborted') : toDownloadError(err);
    });
    const location = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && location) {
      stream.destroy();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('fatal', `too many redirects from ${req.url}`);
      url = assertHttpUrl(new URL(location, url).toString());
      if (response.statusCode === 303 || (method === 'POST' && response.statusCode !== 307 && response.statusCode !== 308)) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { status: response.statusCode, headers: response.headers, url: url.toString(), body: stream };
  }
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
