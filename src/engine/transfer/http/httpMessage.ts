import { DownloadError } from '../../core/downloadError';
import { proxyAuthorization } from '../../core/proxy';
import type { ResponseBody } from './responseBody';

/** What the direct client answers with. */
export interface DirectResponse {
  status: number;
  /** Names lowercased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: ResponseBody;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The bytes of an HTTP/1.1 request; without `keepAlive` it asks the server to close the connection after it. */
export function requestBytes(url: URL, method: string, headers: Record<string, string>, body: string | undefined, forward: URL | undefined, keepAlive: boolean): Buffer {
  // A forwarding proxy takes the absolute URL (RFC 9112 §3.2.2).
  const target = forward ? `${url.origin}${url.pathname}${url.search}` : `${url.pathname}${url.search}`;
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${url.host}`];
  const proxyAuth = forward && proxyAuthorization(forward);
  if (proxyAuth) lines.push(`Proxy-Authorization: ${proxyAuth}`);
  for (const [name, value] of Object.entries(headers)) {
    // Set here; a second copy would make the request ambiguous.
    if (/^(host|connection|content-length)$/i.test(name)) continue;
    // CR/LF would let a value inject headers or a second request.
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) throw new DownloadError('fatal', `invalid HTTP header ${JSON.stringify(name)}`);
    lines.push(`${name}: ${value}`);
  }
  if (!keepAlive) lines.push('Connection: close');
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body ?? '')]);
}

/** Header lines of a response head: names lowercased, repeated headers joined with ', '. */
function parseHeaderLines(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/**
 * How a response body ends: after this many bytes, with a zero-size chunk, or when the server closes the
 * connection; 'invalid' for a Content-Length that cannot be trusted.
 */
function bodyFraming(status: number, headers: Readonly<Record<string, string>>): number | 'chunked' | 'close' | 'invalid' {
  if (status === 204 || status === 304) return 0;
  if (/(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) return 'chunked';
  const length = headers['content-length'];
  if (length === undefined || headers['transfer-encoding'] !== undefined) return 'close';
  // A repeated Content-Length arrives joined; copies that agree are harmless.
  const values = new Set(length.split(',').map((v) => v.trim()));
  const [value] = values;
  return values.size === 1 && /^\d{1,15}$/.test(value) ? Number(value) : 'invalid';
}

/** What a response head says: an interim answer (another head follows), the final one, or a refusal. */
export type ResponseHead =
  | { readonly kind: 'interim' }
  | { readonly kind: 'final'; readonly status: number; readonly headers: Record<string, string>; readonly keepAlive: boolean; readonly framing: number | 'chunked' | 'close' }
  | { readonly kind: 'refused'; readonly error: DownloadError };

/** A response head's lines, the status line first, from `host`. */
export function parseResponseHead(lines: readonly string[], host: string): ResponseHead {
  const status = Number(/^HTTP\/1\.[01] ([1-9]\d\d)(?: |$)/.exec(lines[0])?.[1] ?? NaN);
  if (Number.isNaN(status) || status === 101) {
    return { kind: 'refused', error: new DownloadError('fatal', `unexpected response from ${host}: ${lines[0].slice(0, 100)}`) };
  }
  // Interim answers (100 Continue, 103 Early Hints): the real one follows.
  if (status < 200) return { kind: 'interim' };
  const headers = parseHeaderLines(lines.slice(1));
  const keepAlive = /^HTTP\/1\.1 /.test(lines[0]) && !/(^|,)\s*close\s*(,|$)/i.test(headers.connection ?? '');
  const framing = bodyFraming(status, headers);
  if (framing === 'invalid') {
    return { kind: 'refused', error: new DownloadError('fatal', `invalid Content-Length from ${host}: ${headers['content-length']}`) };
  }
  return { kind: 'final', status, headers, keepAlive, framing };
}
