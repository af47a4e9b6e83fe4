import { DownloadError, toDownloadError } from '../../core/downloadError';
import { proxyFor } from '../../core/proxy';
import { DirectSocket, type Route, type SocketUser } from './directSocket';
import { parseResponseHead, requestBytes, type DirectResponse } from './httpMessage';
import { openTunnel } from './proxyTunnel';
import type { ByteSink, ResponseBody } from './responseBody';

/** Where reads go when they cannot go straight into the sink: the response head, chunked framing, pauses. */
const SCRATCH_SIZE = 16 * 1024;
const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 4096;

/** A request on a kept-alive socket found it closed by the server before any answer: sent again on another. */
class IdleSocketClosed extends DownloadError {
  constructor(host: string) {
    super('retryable', `connection closed by ${host} without a response`);
  }
}

/**
 * A minimal HTTP/1.1 client whose body is read by the socket straight into the
 * consumer's memory (net `onread`): a multi-GB body then costs no Buffer per read and none of node:http's
 * stream machinery. GET requests keep their connection alive for the next request to the same origin
 * (directSocket.ts); a POST closes it. Proxies come from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY: core/proxy): https
 * goes through a CONNECT tunnel, http is forwarded. No platform certificate settings: callers that need
 * those use node:http.
 */
export async function sendDirect(
  url: URL, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined,
  signal: AbortSignal | undefined, headersTimeoutMs: number, tls?: { ca?: string | Buffer },
): Promise<DirectResponse> {
  if (signal?.aborted) throw new DownloadError('aborted', 'aborted');
  const proxy = proxyFor(url);
  const tunnel = proxy && url.protocol === 'https:' ? await openTunnel(proxy, url, signal, headersTimeoutMs) : undefined;
  const forward = tunnel ? undefined : proxy;
  const keepAlive = method === 'GET';
  const request = { bytes: requestBytes(url, method, headers, body, forward, keepAlive), keepAlive };
  for (;;) {
    try {
      return await new Promise<DirectResponse>((resolve, reject) => {
        new DirectExchange(url, request, signal, headersTimeoutMs, { ca: tls?.ca, tunnel, forward }, resolve, reject);
      });
    } catch (err) {
      // Each retry takes another idle socket or, with none left, a new one (which cannot fail this way).
      if (!(err instanceof IdleSocketClosed)) throw err;
    }
  }
}

/**
 * One request and its response body, on a DirectSocket (new or kept alive). Node calls `nextBuffer` after
 * every read callback (even while paused) to get the memory for the next read; it gets the sink's space only
 * when those bytes can be handed over as-is, else the scratch buffer, whose bytes are then copied. TLS keeps delivering what it has already
 * decrypted after reading was stopped, so bytes (and the end) can arrive while paused: they wait in `pending`.
 */
class DirectExchange implements ResponseBody, SocketUser {
  private readonly conn: DirectSocket;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private readonly timer: NodeJS.Timeout;
  /** Bytes of an incomplete response head; undefined once the final head is parsed. */
  private head: Buffer | undefined = Buffer.alloc(0);
  /** Body bytes still to come: Infinity while the body is chunked or ends when the peer closes. */
  private remaining = Infinity;
  private chunked = false;
  private expect: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private chunkLeft = 0;
  private line = '';
  private sink: ByteSink | undefined;
  /** The sink memory the next read goes into, when it does. */
  private lent: Buffer | undefined;
  /** Wire bytes received but not yet processed, in order (the sink was paused or not there yet). */
  private pending: Buffer | undefined;
  private paused = false;
  private eof = false;
  /** The whole response was read, nothing after it, and the server keeps the connection: it can serve the next request. */
  private reusable = false;
  /** HTTP/1.1 without `Connection: close`, and we did not ask to close. */
  private keepAlive = false;
  private outcome: { err?: DownloadError } | undefined;
  private resolveBody: (() => void) | undefined;
  private rejectWaiter: ((err: DownloadError) => void) | undefined;
  private readonly onAbort = (): void => this.finish(new DownloadError('aborted', 'aborted'));

  constructor(
    private readonly url: URL, request: { bytes: Buffer; keepAlive: boolean }, private readonly signal: AbortSignal | undefined, headersTimeoutMs: number,
    route: Route, private readonly onHead: (res: DirectResponse) => void, reject: (err: DownloadError) => void,
  ) {
    this.rejectWaiter = reject;
    this.keepAlive = request.keepAlive;
    this.conn = DirectSocket.open(url, route, this, request.keepAlive);
    this.conn.socket.write(request.bytes);
    // A server that accepts the connection and never answers would otherwise hold a download slot forever.
    this.timer = setTimeout(() => this.finish(new DownloadError('retryable', `no response from ${url.host} within ${headersTimeoutMs / 1000} s`)), headersTimeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  readInto(sink: ByteSink): Promise<void> {
    if (this.outcome) return this.outcome.err ? Promise.reject(this.outcome.err) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.resolveBody = resolve;
      this.rejectWaiter = reject;
      this.sink = sink;
      this.drain();
    });
  }

  pause(): void {
    this.paused = true;
    this.conn.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  destroy(): void {
    this.finish();
  }

  nextBuffer(): Buffer {
    this.lent = undefined;
    if (this.sink && !this.paused && !this.pending && !this.chunked) {
      // The sink must keep this memory for us until the next landed(): the read may come after a pause().
      const space = this.sink.space();
      // Never more than the body: what follows it must not land in the sink's memory.
      const lent = space.length > this.remaining ? space.subarray(0, this.remaining) : space;
      // An empty buffer would fail the read (ENOBUFS).
      if (lent.length > 0) return (this.lent = lent);
    }
    return this.scratch;
  }

  /** Returns whether to go on reading. */
  onRead(n: number, buf: Uint8Array): boolean {
    if (buf === this.lent && this.sink && !this.paused) this.landed(this.sink, n);
    else this.feed(Buffer.from(buf.buffer, buf.byteOffset, n));
    return this.outcome === undefined && (this.head !== undefined || (this.sink !== undefined && !this.paused));
  }

  /** Processes wire bytes that are in memory the sink does not own (or must not be told about yet). */
  private feed(bytes: Buffer): void {
    if (this.head) {
      const rest = this.readHead(Buffer.concat([this.head, bytes]));
      if (rest === undefined) return;
      bytes = rest;
    }
    let at = 0;
    while (at < bytes.length && this.outcome === undefined) {
      const sink = this.sink;
      if (!sink || this.paused) {
        // Copied: the scratch buffer is reused by the next read.
        const rest = bytes.subarray(at);
        this.pending = this.pending ? Buffer.concat([this.pending, rest]) : Buffer.from(rest);
        return;
      }
      if (this.chunked && this.expect !== 'data') {
        at = this.chunkLine(bytes, at);
        continue;
      }
      const space = sink.space();
      if (space.length === 0) {
        this.paused = true;
        continue;
      }
      const n = Math.min(space.length, bytes.length - at, this.chunked ? this.chunkLeft : this.remaining);
      bytes.copy(space, 0, at, at + n);
      at += n;
      this.landed(sink, n, bytes.length - at);
    }
  }

  /** `n` body bytes landed in the sink; `after` more wire bytes follow them in the same read. */
  private landed(sink: ByteSink, n: number, after = 0): void {
    this.remaining -= n;
    if (this.chunked && (this.chunkLeft -= n) === 0) this.expect = 'crlf';
    // Known before the sink hears of the bytes: a sink that has all it asked for destroys the body at once,
    // and the socket must then go back to the idle ones, not be closed (a new connection per range request).
    if (this.remaining === 0) this.completed(after + (this.pending?.length ?? 0));
    if (!sink.landed(n)) this.paused = true;
    if (this.remaining === 0) this.finish();
  }

  /** Hands over what waited, then lets the socket read again unless the sink paused once more. */
  private drain(): void {
    if (!this.sink || this.paused) return;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.feed(pending);
    if (this.eof && !this.pending) this.onEof();
    else if (this.sink && !this.paused) this.conn.socket.resume();
  }

  /**
   * Parses complete heads off `data` (our own copy, not the scratch buffer); returns the body bytes after the
   * final one, or undefined until then.
   */
  private readHead(data: Buffer): Buffer | undefined {
    for (;;) {
      const end = data.indexOf('\r\n\r\n');
      if ((end < 0 ? data.length : end) > MAX_HEAD) {
        this.finish(new DownloadError('fatal', `response head too large from ${this.url.host}`));
        return undefined;
      }
      if (end < 0) {
        this.head = data;
        return undefined;
      }
      const head = parseResponseHead(data.toString('latin1', 0, end).split('\r\n'), this.url.host);
      data = data.subarray(end + 4);
      if (head.kind === 'refused') {
        this.finish(head.error);
        return undefined;
      }
      if (head.kind === 'interim') continue;
      if (!head.keepAlive) this.keepAlive = false;
      if (head.framing === 'chunked') this.chunked = true;
      else if (head.framing !== 'close') this.remaining = head.framing;
      this.head = undefined;
      clearTimeout(this.timer);
      this.rejectWaiter = undefined;
      this.onHead({ status: head.status, headers: head.headers, body: this });
      if (this.remaining === 0) {
        this.completed(data.length);
        this.finish();
      }
      return data;
    }
  }

  /** Reads a chunk-size line, the CRLF after chunk data or a trailer line; returns where it stopped. */
  private chunkLine(bytes: Buffer, at: number): number {
    const nl = bytes.indexOf(10, at);
    this.line += bytes.toString('latin1', at, nl < 0 ? bytes.length : nl);
    if (nl < 0 && this.line.length <= MAX_CHUNK_LINE) return bytes.length;
    // A line over the limit is handled as complete: refused, or dropped if it is a trailer.
    const line = this.line.replace(/\r$/, '');
    this.line = '';
    // Chunk extensions (after ';') carry nothing a download needs.
    const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line)?.[1];
    if (this.expect === 'trailer') {
      if (line === '') {
        this.completed(bytes.length - nl - 1);
        this.finish();
      }
    } else if (this.expect === 'crlf' && line === '') {
      this.expect = 'size';
    } else if (this.expect === 'size' && size !== undefined && nl >= 0) {
      this.chunkLeft = parseInt(size, 16);
      this.expect = this.chunkLeft === 0 ? 'trailer' : 'data';
    } else {
      this.finish(new DownloadError('retryable', 'malformed chunked body'));
    }
    return nl < 0 ? bytes.length : nl + 1;
  }

  onError(err: Error): void {
    if (this.signal?.aborted) this.finish(new DownloadError('aborted', 'aborted'));
    else if (this.closedWhileIdle()) this.finish(new IdleSocketClosed(this.url.host));
    else this.finish(toDownloadError(err));
  }

  onEof(): void {
    if (this.outcome) return;
    if (this.closedWhileIdle()) this.finish(new IdleSocketClosed(this.url.host));
    else if (this.head) this.finish(new DownloadError('retryable', `connection closed by ${this.url.host} without a response`));
    // What arrived before the end is delivered first (drain() comes back here).
    else if (this.pending) this.eof = true;
    else if (this.chunked) this.finish(new DownloadError('retryable', 'connection closed in the middle of a chunked body'));
    // Complete or cut short: the caller compares the bytes that landed with the Content-Length.
    else this.finish();
  }

  /** A reused socket that ended before a byte of the answer: the server closed it while it was idle. */
  private closedWhileIdle(): boolean {
    return this.conn.reused && this.head !== undefined && this.head.length === 0;
  }

  /** The response ended exactly at `rest` bytes into what was read: the connection is clean when nothing follows. */
  private completed(rest: number): void {
    this.reusable = this.keepAlive && rest === 0;
  }

  /** Ends the exchange: no sink call and no read happens after this. */
  private finish(err?: DownloadError): void {
    if (this.outcome) return;
    this.outcome = { err };
    this.sink = undefined;
    this.pending = undefined;
    this.lent = undefined;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (!err && this.reusable) this.conn.release();
    else this.conn.destroy();
    if (err) this.rejectWaiter?.(err);
    else this.resolveBody?.();
  }
}
