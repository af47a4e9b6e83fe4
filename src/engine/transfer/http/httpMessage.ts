import { DownloadError } from '../../core/downloadError';
import { proxyAuthorization } from '../../core/proxy';

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
export function parseHeaderLines(lines: readonly string[]): Record<string, string> {
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
export function bodyFraming(status: number, headers: Readonly<Record<string, string>>): number | 'chunked' | 'close' | 'invalid' {
  if (status === 204 || status === 304) return 0;
  if (/(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '')) return 'chunked';
  const length = headers['content-length'];
  if (length === undefined || headers['transfer-encoding'] !== undefined) return 'close';
  // A repeated Content-Length arrives joined; copies that agree are harmless.
  const values = new Set(length.split(',').map((v) => v.trim()));
  const [value] = values;
  return values.size === 1 && /^\d{1,15}$/.test(value) ? Number(value) : 'invalid';
}
