import * as http from 'node:http';
import * as https from 'node:https';
import { sendDirect } from './directHttp';
import { DownloadError, toDownloadError } from '../../core/downloadError';
import { StreamBody, type ResponseBody } from './responseBody';

export const MAX_REDIRECTS = 10;

/**
 * A credential and the only origin (scheme://host:port) it may be sent to — never to a redirect target
 * elsewhere. Sent as `Bearer token`, or as Basic `login:token` when there is a login (netrc entries).
 */
export interface ScopedToken {
  readonly token: string;
  readonly origin: string;
  readonly login?: string;
}

/** A credential without its origin: what a lookup by origin returns. */
export type Credential = Omit<ScopedToken, 'origin'>;

/**
 * The credential for an origin (scheme://host:port), asked each time a file is resolved so one set later is
 * used: VS Code's SecretStorage, or the CLI's ~/.netrc and HF_TOKEN.
 */
export type CredentialLookup = (origin: string) => Promise<Credential | undefined>;

export function authorizationHeader(auth: ScopedToken): string {
  return auth.login !== undefined ? `Basic ${Buffer.from(`${auth.login}:${auth.token}`).toString('base64')}` : `Bearer ${auth.token}`;
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
  /** How to connect; default 'platform'. */
  readonly transport?: Transport;
}

/**
 * 'platform': node:http(s), which VS Code routes through its proxy and certificate settings — right for
 * API calls, and for downloads inside VS Code unless its proxy support is off. 'direct': our own HTTP/1.1
 * client on a plain socket that reads bodies straight into the transfer's memory, about four times less
 * CPU per byte (the CLI, and VS Code without proxy support); it honours HTTPS_PROXY, HTTP_PROXY and
 * NO_PROXY as curl does.
 */
export type Transport = 'platform' | 'direct';

interface RawResponse {
  readonly status: number;
  /** Names in lower case; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: ResponseBody;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The URL after redirects. */
  readonly url: string;
  readonly body: ResponseBody;
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
 * Opens a streaming request. Redirects are followed here, for both transports, so that the token rule is
 * explicit: Authorization goes only to the token's own origin. Nothing is retried and there is no overall
 * timeout (stall detection is the caller's job, since bodies can be many GB).
 */
export async function openRequest(req: HttpRequest): Promise<HttpResponse> {
  let url = assertHttpUrl(req.url);
  let method = req.method ?? 'GET';
  let body = req.body;
  for (let hop = 0; ; hop++) {
    // Some servers refuse requests without a User-Agent (node:http sends none).
    const headers: Record<string, string> = { 'user-agent': 'model-availability', 'accept-encoding': 'identity', ...req.headers };
    if (req.auth && url.origin === req.auth.origin) headers.authorization = authorizationHeader(req.auth);
    const timeoutMs = req.headersTimeoutMs ?? 30_000;
    const response = req.transport === 'direct'
      ? await sendDirect(url, method, headers, body, req.signal, timeoutMs)
      : await send(url, method, headers, body, req.signal, timeoutMs);
    const location = response.headers.location;
    const status = response.status;
    if (status >= 300 && status < 400 && location) {
      response.body.destroy();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('fatal', `too many redirects from ${req.url}`);
      url = assertHttpUrl(new URL(location, url).toString());
      if (status === 303 || (method === 'POST' && status !== 307 && status !== 308)) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { status, headers: response.headers, url: url.toString(), body: response.body };
  }
}

function send(url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DownloadError('aborted', 'aborted'));
      return;
    }
    // A server that accepts the connection and never answers would otherwise hold a download slot forever.
    const noAnswer = setTimeout(() => request.destroy(new DownloadError('retryable', `no response from ${url.host} within ${Math.round(headersTimeoutMs / 1000)} s`)), headersTimeoutMs);
    const request = (url.protocol === 'https:' ? https.request : http.request)(url, { method, headers, signal }, (res) => {
      clearTimeout(noAnswer);
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      resolve({ status: res.statusCode ?? 0, headers: flat, body: new StreamBody(res) });
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
