import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadError } from '../../../src/engine/core/downloadError';
import { sendDirect } from '../../../src/engine/transfer/http/directHttp';
import type { DirectResponse } from '../../../src/engine/transfer/http/httpMessage';
import type { ResponseBody } from '../../../src/engine/transfer/http/responseBody';
import { TestProxy } from '../../support/testProxy';

const MiB = 1024 * 1024;
/** Fills sink memory nothing was delivered to, so a stray write shows. */
const SENTINEL = 0xee;

interface SinkOptions {
  /** Size of each space() window. */
  space?: number;
  /** Return false from every n-th landed() and resume from a timer. */
  pauseEvery?: number;
  capacity?: number;
  onLanded?: (total: number) => void;
}

interface Sunk {
  data: Buffer;
  /** The whole sink memory, including what is past the delivered bytes. */
  memory: Buffer;
  pauses: number;
  /** space()/landed() calls while paused or after readInto settled. */
  misuse: number;
}

/** Reads a body through a sink that hands out windows of one big buffer, like a consumer filling a file buffer. */
async function readBody(body: ResponseBody, opts: SinkOptions = {}): Promise<Sunk> {
  const memory = Buffer.alloc(opts.capacity ?? 4 * MiB, SENTINEL);
  const window = opts.space ?? 64 * 1024;
  let length = 0;
  let landings = 0;
  let paused = false;
  let settled = false;
  const sunk = { pauses: 0, misuse: 0 };
  try {
    await body.readInto({
      space: () => {
        if (paused || settled) sunk.misuse++;
        return memory.subarray(length, length + window);
      },
      landed: (n) => {
        if (paused || settled) sunk.misuse++;
        length += n;
        opts.onLanded?.(length);
        if (opts.pauseEvery && ++landings % opts.pauseEvery === 0) {
          paused = true;
          sunk.pauses++;
          setTimeout(() => {
            paused = false;
            body.resume();
          }, 1);
          return false;
        }
        return true;
      },
    });
  } finally {
    settled = true;
  }
  return { ...sunk, data: memory.subarray(0, length), memory };
}

function isError(kind: DownloadError['kind'], message: RegExp): (err: unknown) => boolean {
  return (err: unknown) => err instanceof DownloadError && err.kind === kind && message.test(err.message);
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('sendDirect (HTTP/1.1 over a raw socket, body read into the sink)', function () {
  this.timeout(4000);
  const cleanups: (() => void)[] = [];
  let connections = 0;

  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  /** Listens on a free port and closes the server and its connections after the test. */
  async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket: net.Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async function serve(handler: http.RequestListener): Promise<URL> {
    return new URL(`http://127.0.0.1:${await listen(http.createServer(handler))}/file.bin`);
  }

  /** A server that writes whatever the test wants once the request head is in. */
  async function raw(handler: (socket: net.Socket, request: string) => void): Promise<URL> {
    const server = net.createServer((socket) => {
      let request = '';
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        if (request.includes('\r\n\r\n')) return;
        request += d.toString('latin1');
        if (request.includes('\r\n\r\n')) handler(socket, request);
      });
    });
    return new URL(`http://127.0.0.1:${await listen(server)}/file.bin`);
  }

  const get = (url: URL, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<DirectResponse> =>
    sendDirect(url, 'GET', headers, undefined, signal, 2000);

  function lengthServer(data: Buffer): Promise<URL> {
    return serve((_req, res) => {
      res.writeHead(200, { 'content-length': data.length });
      res.end(data);
    });
  }

  beforeEach(() => {
    connections = 0;
  });

  describe('Content-Length bodies', () => {
    const data = randomBytes(3 * MiB + 123);

    it('delivers exactly the body into the sink', async () => {
      const res = await get(await lengthServer(data));
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-length'], String(data.length));
      const sunk = await readBody(res.body);
      assert.ok(sunk.data.equals(data));
      assert.equal(sunk.misuse, 0);
    });

    it('delivers the same bytes through small spaces', async () => {
      const res = await get(await lengthServer(data));
      const sunk = await readBody(res.body, { space: 1000 });
      assert.ok(sunk.data.equals(data));
    });

    it('delivers the same bytes to a sink that pauses and resumes later, with no call while paused', async () => {
      const res = await get(await lengthServer(data));
      const sunk = await readBody(res.body, { space: 20_000, pauseEvery: 3 });
      assert.ok(sunk.pauses > 10);
      assert.equal(sunk.misuse, 0);
      assert.ok(sunk.data.equals(data));
    });

    it('delivers the same bytes while pause() and resume() are called from outside the sink', async () => {
      const res = await get(await lengthServer(data));
      let externallyPaused = false;
      let landedWhilePaused = 0;
      const toggle = setInterval(() => {
        externallyPaused = !externallyPaused;
        if (externallyPaused) res.body.pause();
        else res.body.resume();
      }, 1);
      try {
        const sunk = await readBody(res.body, { space: 10_000, onLanded: () => { if (externallyPaused) landedWhilePaused++; } });
        assert.ok(sunk.data.equals(data));
        assert.equal(landedWhilePaused, 0);
      } finally {
        clearInterval(toggle);
      }
    });

    it('never writes bytes past the Content-Length into the sink, even when the server sends more', async () => {
      // In steps, so that the last part is read straight into the sink's space.
      const url = await raw((socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
        setTimeout(() => socket.write(data.subarray(0, 50)), 20);
        setTimeout(() => socket.end(data.subarray(50, 300)), 40);
      });
      const res = await get(url);
      const sunk = await readBody(res.body, { capacity: 1000 });
      assert.ok(sunk.data.equals(data.subarray(0, 100)));
      assert.ok(sunk.memory.subarray(100).every((b) => b === SENTINEL));
    });

    it('resolves with the bytes that came when the peer closes early (the caller counts them)', async () => {
      const url = await raw((socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'), data.subarray(0, 400)])));
      const sunk = await readBody((await get(url)).body);
      assert.ok(sunk.data.equals(data.subarray(0, 400)));
    });

    it('ends at once when there is no body (204, Content-Length: 0), without waiting for the peer to close', async () => {
      const url = await raw((socket) => socket.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n'));
      const res = await get(url);
      assert.equal(res.status, 204);
      assert.equal((await readBody(res.body)).data.length, 0);
      const empty = await raw((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
      assert.equal((await readBody((await get(empty)).body)).data.length, 0);
    });
  });

  describe('other framings', () => {
    const data = randomBytes(300 * 1024 + 7);
    /** node:http answers in chunks when the body is written in parts without a Content-Length. */
    const chunkedServer = (): Promise<URL> => serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let at = 0, i = 1; at < data.length; at += i * 997, i++) res.write(data.subarray(at, at + i * 997));
      res.end();
    });

    it('decodes a chunked body', async () => {
      const res = await get(await chunkedServer());
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      const sunk = await readBody(res.body);
      assert.ok(sunk.data.equals(data));
    });

    it('decodes a chunked body into tiny spaces and through pauses', async () => {
      const tiny = await readBody((await get(await chunkedServer())).body, { space: 7 });
      assert.ok(tiny.data.equals(data));
      const pausing = await readBody((await get(await chunkedServer())).body, { space: 3000, pauseEvery: 5 });
      assert.ok(pausing.pauses > 10);
      assert.equal(pausing.misuse, 0);
      assert.ok(pausing.data.equals(data));
    });

    it('ignores chunk extensions and trailers, and nothing after the last chunk reaches the sink', async () => {
      const url = await raw((socket) => socket.end(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGARBAGE',
      ));
      const sunk = await readBody((await get(url)).body, { capacity: 100 });
      assert.equal(sunk.data.toString(), 'hello world');
      assert.ok(sunk.memory.subarray(11).every((b) => b === SENTINEL));
    });

    it('rejects a chunked body cut short as retryable', async () => {
      const url = await raw((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhello'));
      await assert.rejects(readBody((await get(url)).body), isError('retryable', /middle of a chunked body/));
    });

    it('rejects a malformed chunk size as retryable', async () => {
      const url = await raw((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'));
      await assert.rejects(readBody((await get(url)).body), isError('retryable', /malformed chunked body/));
    });

    it('reads a body without length until the peer closes', async () => {
      const url = await raw((socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
        socket.write(data.subarray(0, 1000));
        setTimeout(() => socket.end(data.subarray(1000)), 20);
      });
      const sunk = await readBody((await get(url)).body, { space: 5000 });
      assert.ok(sunk.data.equals(data));
    });
  });

  describe('the response head', () => {
    it('gives the status and lowercased headers, joining repeated ones', async () => {
      const url = await raw((socket) => socket.end('HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nX-Dup: a\r\nx-dup: b\r\nETag: "e1"\r\nContent-Length: 2\r\n\r\nok'));
      const res = await get(url);
      assert.equal(res.status, 206);
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.headers['x-dup'], 'a, b');
      assert.equal(res.headers.etag, '"e1"');
      assert.equal((await readBody(res.body)).data.toString(), 'ok');
    });

    it('skips interim 1xx responses, even when they arrive with the final head', async () => {
      const url = await raw((socket) => {
        socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        setTimeout(() => socket.end('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'), 10);
      });
      const res = await get(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.link, undefined);
      assert.equal((await readBody(res.body)).data.toString(), 'hello');
    });

    it('refuses 101 and a head over 64 KiB as fatal', async () => {
      const upgrade = await raw((socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'));
      await assert.rejects(get(upgrade), isError('fatal', /101/));
      const big = await raw((socket) => socket.end(`HTTP/1.1 200 OK\r\n${'X-Big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(2000)}\r\n`));
      await assert.rejects(get(big), isError('fatal', /response head too large/));
    });

    it('fails as retryable when no head comes within the timeout', async () => {
      const url = await raw(() => undefined);
      const started = Date.now();
      await assert.rejects(sendDirect(url, 'GET', {}, undefined, undefined, 200), isError('retryable', /^no response from 127\.0\.0\.1:\d+ within 0\.2 s$/));
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 150 && elapsed < 1500, `${elapsed} ms`);
    });

    it('fails as retryable when the peer closes or refuses before a head', async () => {
      const closing = await raw((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-'));
      await assert.rejects(get(closing), isError('retryable', /closed by 127\.0\.0\.1:\d+ without a response/));
      const refusing = new URL(`http://127.0.0.1:${await listen(net.createServer())}/`);
      cleanups.pop()?.();
      await wait(10);
      await assert.rejects(get(refusing), isError('retryable', /ECONNREFUSED/));
    });
  });

  describe('the request', () => {
    it('sends the request line, Host with the port and the given headers, and no Connection: close for a GET', async () => {
      let seen: http.IncomingMessage | undefined;
      const url = await serve((req, res) => {
        seen = req;
        res.writeHead(206, { 'content-length': 5 });
        res.end('56789');
      });
      const res = await get(new URL(`/a/b.bin?x=1&y=%20`, url), { range: 'bytes=5-9', 'user-agent': 'ma-test', 'if-range': '"e1"' });
      assert.equal((await readBody(res.body)).data.toString(), '56789');
      assert.equal(seen?.method, 'GET');
      assert.equal(seen?.url, '/a/b.bin?x=1&y=%20');
      assert.equal(seen?.httpVersion, '1.1');
      assert.equal(seen?.headers.host, url.host);
      assert.equal(seen?.headers.range, 'bytes=5-9');
      assert.equal(seen?.headers['if-range'], '"e1"');
      assert.equal(seen?.headers['user-agent'], 'ma-test');
      // HTTP/1.1 keeps the connection by default: a GET's is kept for the next request to the origin.
      assert.equal(seen?.headers.connection, undefined);
    });

    it('sends a POST body with its Content-Length', async () => {
      let received = '';
      const url = await serve((req, res) => {
        req.setEncoding('utf8');
        req.on('data', (d: string) => { received += d; });
        req.on('end', () => res.end(`${req.method} ${req.headers['content-length']}`));
      });
      const res = await sendDirect(url, 'POST', { 'content-type': 'application/json' }, '{"q":"é"}', undefined, 2000);
      assert.equal((await readBody(res.body)).data.toString(), 'POST 10');
      assert.equal(received, '{"q":"é"}');
    });

    it('sends the next GET to the same origin on the kept connection; a POST asks to close', async () => {
      const seen: (string | undefined)[] = [];
      const url = await serve((req, res) => {
        seen.push(req.headers.connection);
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      });
      for (let i = 0; i < 3; i++) assert.equal((await readBody((await get(url)).body)).data.toString(), 'ok');
      assert.equal(connections, 1);
      assert.equal((await readBody((await sendDirect(url, 'POST', {}, 'x', undefined, 2000)).body)).data.toString(), 'ok');
      assert.deepEqual(seen, [undefined, undefined, undefined, 'close']);
    });

    it('does not keep a connection whose body was not read to the end', async () => {
      const data = randomBytes(256 * 1024);
      const url = await lengthServer(data);
      const first = await get(url);
      await first.body.readInto({ space: () => Buffer.alloc(1024), landed: () => { first.body.destroy(); return false; } });
      assert.equal((await readBody((await get(url)).body)).data.length, data.length);
      assert.equal(connections, 2);
    });

    it('sends a request again on a new connection when the server closed the kept one without answering', async () => {
      // Each connection answers its first request and drops the second unanswered (an idle timeout racing the request).
      const server = net.createServer((socket) => {
        let requests = 0;
        let buffered = '';
        socket.on('error', () => undefined);
        socket.on('data', (d: Buffer) => {
          buffered += d.toString('latin1');
          for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
            buffered = buffered.slice(end + 4);
            if (++requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
            else socket.destroy();
          }
        });
      });
      const url = new URL(`http://127.0.0.1:${await listen(server)}/file.bin`);
      assert.equal((await readBody((await get(url)).body)).data.toString(), 'ok');
      assert.equal((await readBody((await get(url)).body)).data.toString(), 'ok');
      assert.equal(connections, 2);
    });

    it('refuses CR or LF in a header name or value as fatal, before connecting', async () => {
      const url = await raw((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
      await assert.rejects(get(url, { 'x-a': 'b\r\nInjected: 1' }), isError('fatal', /invalid HTTP header/));
      await assert.rejects(get(url, { 'x-a\nInjected': 'b' }), isError('fatal', /invalid HTTP header/));
      assert.equal(connections, 0);
    });

    // Needs IPv6 loopback (these machines and CI have it); without it the listen fails and says so.
    it('connects to an IPv6 literal and keeps the brackets in Host', async () => {
      let host: string | undefined;
      const server = http.createServer((req, res) => {
        host = req.headers.host;
        res.end('v6');
      });
      const port = await listen(server, '::1');
      const res = await get(new URL(`http://[::1]:${port}/x`));
      assert.equal((await readBody(res.body)).data.toString(), 'v6');
      assert.equal(host, `[::1]:${port}`);
    });
  });

  describe('aborting and closing', () => {
    it('rejects as aborted when the signal fires before the head, and does not connect when it already has', async () => {
      const url = await raw(() => undefined);
      const early = new AbortController();
      early.abort();
      await assert.rejects(get(url, {}, early.signal), isError('aborted', /^aborted$/));
      assert.equal(connections, 0);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      await assert.rejects(get(url, {}, controller.signal), isError('aborted', /^aborted$/));
    });

    /** A server that sends the head and part of a 1 MiB body, then keeps the connection open; `closed` tells when the client left. */
    async function stallingServer(): Promise<{ url: URL; closed: Promise<void> }> {
      let clientGone: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => { clientGone = resolve; });
      const url = await raw((socket) => {
        socket.on('close', () => clientGone());
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MiB}\r\n\r\n`);
        socket.write(randomBytes(1000));
      });
      return { url, closed };
    }

    it('rejects readInto as aborted when the signal fires during the body, and closes the connection', async () => {
      const { url, closed } = await stallingServer();
      const controller = new AbortController();
      const res = await get(url, {}, controller.signal);
      const reading = readBody(res.body, { onLanded: () => setTimeout(() => controller.abort(), 10) });
      await assert.rejects(reading, isError('aborted', /^aborted$/));
      await closed;
    });

    it('settles readInto when the body is destroyed, and calls the sink no more', async () => {
      const { url, closed } = await stallingServer();
      const res = await get(url);
      let landedAfterDestroy = 0;
      let destroyed = false;
      const sunk = await readBody(res.body, {
        space: 100,
        onLanded: () => {
          if (destroyed) landedAfterDestroy++;
          destroyed = true;
          res.body.destroy();
          res.body.destroy();
        },
      });
      assert.equal(sunk.data.length, 100);
      await closed;
      await wait(10);
      assert.equal(landedAfterDestroy, 0);
    });

    it('rejects readInto as retryable when the connection is reset during the body', async () => {
      const url = await raw((socket) => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${MiB}\r\n\r\n`);
        socket.write(randomBytes(1000));
        setTimeout(() => socket.resetAndDestroy(), 30);
      });
      const res = await get(url);
      await assert.rejects(readBody(res.body), isError('retryable', /ECONNRESET/));
    });
  });

  describe('https', () => {
    let dir: string;
    let key: Buffer;
    let cert: Buffer;
    const data = randomBytes(3 * MiB + 5);

    before(async function () {
      this.timeout(10_000);
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ma-direct-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-days', '2', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      key = await fs.readFile(path.join(dir, 'key.pem'));
      cert = await fs.readFile(path.join(dir, 'cert.pem'));
    });
    after(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    async function tlsServer(): Promise<URL> {
      const server = https.createServer({ key, cert }, (_req, res) => {
        res.writeHead(200, { 'content-length': data.length });
        res.end(data);
      });
      return new URL(`https://127.0.0.1:${await listen(server)}/file.bin`);
    }

    it('delivers a body intact through TLS, also to a sink that pauses', async () => {
      const url = await tlsServer();
      const plain = await readBody((await sendDirect(url, 'GET', {}, undefined, undefined, 2000, { ca: cert })).body);
      assert.ok(plain.data.equals(data));
      // TLS hands over already-decrypted bytes after reading stopped: they must wait for resume(), in order.
      const pausing = await readBody((await sendDirect(url, 'GET', {}, undefined, undefined, 2000, { ca: cert })).body, { space: 5000, pauseEvery: 4 });
      assert.ok(pausing.pauses > 10);
      assert.equal(pausing.misuse, 0);
      assert.ok(pausing.data.equals(data));
    });

    it('refuses a certificate it does not trust', async () => {
      const url = await tlsServer();
      await assert.rejects(get(url), isError('retryable', /certificate/));
    });

    it('goes through HTTPS_PROXY in a CONNECT tunnel (TLS inside it), also to a sink that pauses, unless NO_PROXY names the host', async () => {
      const url = await tlsServer();
      const proxy = await TestProxy.start();
      const saved = { ...process.env };
      try {
        process.env.HTTPS_PROXY = proxy.url;
        const pausing = await readBody((await sendDirect(url, 'GET', {}, undefined, undefined, 2000, { ca: cert })).body, { space: 5000, pauseEvery: 4 });
        assert.ok(pausing.pauses > 10);
        assert.equal(pausing.misuse, 0);
        assert.ok(pausing.data.equals(data));
        assert.deepEqual(proxy.requests.map((r) => `${r.method} ${r.target}`), [`CONNECT ${url.host}`]);
        process.env.NO_PROXY = 'example.com,127.0.0.1';
        assert.ok((await readBody((await sendDirect(url, 'GET', {}, undefined, undefined, 2000, { ca: cert })).body)).data.equals(data));
        assert.equal(proxy.requests.length, 1, 'NO_PROXY: straight to the server');
      } finally {
        process.env = saved;
        await proxy.close();
      }
    });
  });
});
