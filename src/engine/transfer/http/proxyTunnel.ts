import * as net from 'node:net';
import * as tls from 'node:tls';
import { DownloadError, toDownloadError } from '../../core/downloadError';
import { proxyAuthorization } from '../../core/proxy';

const MAX_HEAD = 16 * 1024;

/**
 * Opens a tunnel to `target` through an HTTP proxy (`CONNECT host:port`), resolving with the socket once
 * the proxy answered 2xx; TLS to the target then runs inside it, so the proxy sees only the host name.
 */
export function openTunnel(proxy: URL, target: URL, signal: AbortSignal | undefined, timeoutMs: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const authority = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`;
    const proxyPort = Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80);
    const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket: net.Socket = proxy.protocol === 'https:'
      ? tls.connect({ host: proxyHost, port: proxyPort, servername: net.isIP(proxyHost) ? undefined : proxyHost })
      : net.connect({ host: proxyHost, port: proxyPort });
    let head = Buffer.alloc(0);
    const fail = (err: DownloadError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new DownloadError('aborted', 'aborted'));
    const onError = (err: Error): void => {
      const e = toDownloadError(err);
      fail(new DownloadError(e.kind, `proxy ${proxy.host}: ${e.message}`, { code: e.code, retryAfterMs: e.retryAfterMs, fix: e.fix }));
    };
    const onClose = (): void => fail(new DownloadError('retryable', `proxy ${proxy.host} closed the connection before answering CONNECT ${authority}`));
    const timer = setTimeout(() => fail(new DownloadError('retryable', `proxy ${proxy.host} did not answer CONNECT ${authority} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) fail(new DownloadError('fatal', `proxy ${proxy.host} sent an oversized answer to CONNECT`));
        return;
      }
      const statusLine = head.toString('latin1', 0, head.indexOf('\r\n'));
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      if (!(status >= 200 && status < 300)) {
        const fix = status === 407 ? ' (it wants credentials: put them in the proxy URL, http://user:password@host:port)' : '';
        fail(new DownloadError(status === 502 || status === 503 || status === 504 ? 'retryable' : 'fatal', `proxy ${proxy.host} refused the tunnel to ${authority}: ${statusLine.slice(0, 100)}${fix}`));
        return;
      }
      // Nothing may follow a CONNECT answer before we speak TLS; anything else is not a tunnel.
      if (head.length > end + 4) {
        fail(new DownloadError('fatal', `proxy ${proxy.host} sent data before the tunnel was open`));
        return;
      }
      // The server speaks only after our TLS ClientHello, so nothing is read between here and tls.connect.
      cleanup();
      resolve(socket);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    const auth = proxyAuthorization(proxy);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  });
}
