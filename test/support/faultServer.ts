import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import xxhash from 'xxhash-wasm';

/** One injected misbehaviour; applies to the next `times` requests for its file (default 1). */
export interface Fault {
  times?: number;
  /** Answer with this status (e.g. 503, 429, 401, 404, 408) and no body. */
  status?: number;
  retryAfter?: string;
  /** Destroy the connection after this many body bytes. */
  dropAfterBytes?: number;
  /** Stop sending (but keep the connection open) after this many body bytes. */
  stallAfterBytes?: number;
  /** Answer 200 with the whole file even for a Range request. */
  ignoreRange?: boolean;
  /** Declare a Content-Length this many bytes off from what is sent. */
  contentLengthDelta?: number;
  /** 302 to this absolute URL. */
  redirectTo?: string;
  /** Serve a range starting this many bytes away from the requested start (Content-Range tells the truth). */
  rangeStartShift?: number;
  /** Accept the request and never answer it (no status line, no headers). */
  noResponse?: boolean;
}

export interface ServedFile {
  readonly name: string;
  data: Buffer;
  etag: string;
  sha256: string;
  /** Whether Range requests are honoured for this file. */
  rangeSupport: boolean;
  /** Require `Authorization: Bearer <token>` or answer 401. */
  requireToken?: string;
  faults: Fault[];
}

export interface RequestRecord {
  readonly path: string;
  readonly host: string | undefined;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  readonly authorization: string | undefined;
  readonly status: number;
  /** Which TCP connection it came on: 1 for the first the server accepted, and so on. */
  readonly connection: number;
  /** How many other responses' bodies were being sent when it arrived. */
  readonly alongside: number;
}

/** Deterministic pseudo-random bytes, so tests can create files of any size without fixtures. */
export function generateData(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, n = 0; off < size; off += 32, n++) {
    createHash('sha256').update(`${seed}:${n}`).digest().copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The piece digests a download records (XXH64, computed here by xxhash-wasm's own API, with its own memory), in order. */
export async function pieceDigestsOf(data: Buffer, pieceSize: number): Promise<string[]> {
  const { h64Raw } = await xxhash();
  return Array.from({ length: Math.ceil(data.length / pieceSize) }, (_, i) => h64Raw(data.subarray(i * pieceSize, (i + 1) * pieceSize)).toString(16).padStart(16, '0'));
}

/**
 * A real HTTP server on 127.0.0.1 for download tests: serves in-memory files with Range/If-Range, and
 * injects faults per request. It counts body bytes sent, so tests can assert what was transferred.
 */
export class FaultServer {
  readonly files = new Map<string, ServedFile>();
  readonly requests: RequestRecord[] = [];
  bytesSent = 0;
  /** Each body's file offsets [start, end) as actually sent, per file name: which bytes went out more than once. */
  readonly sentRanges = new Map<string, { start: number; end: number }[]>();
  /** Most body responses in flight at once. */
  maxConcurrent = 0;
  private active = 0;
  /** Per-connection cap in bytes/s; 0 = none. */
  bytesPerSecondPerConnection = 0;
  /** Every this many TCP connections (0 = none), one gets half the cap: a slow connection. */
  halfSpeedEvery = 0;
  private readonly sockets = new Set<Socket>();
  private readonly slowSockets = new WeakSet<Socket>();
  private readonly serials = new WeakMap<Socket, number>();
  private accepted = 0;
  private connected = 0;
  private contentVersion = 0;

  private constructor(private readonly server: http.Server, readonly port: number) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      this.serials.set(s, ++this.connected);
      if (this.halfSpeedEvery > 0 && ++this.accepted % this.halfSpeedEvery === 0) this.slowSockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<FaultServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fs = new FaultServer(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => { void fs.handle(req, res); });
    return fs;
  }

  /** `host` lets tests use "localhost" as a second origin on the same server. */
  url(name: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}/files/${name}`;
  }

  addFile(name: string, data: Buffer, options: Partial<Pick<ServedFile, 'rangeSupport' | 'requireToken'>> = {}): ServedFile {
    const file: ServedFile = {
      name, data, etag: '', sha256: '', rangeSupport: options.rangeSupport ?? true, requireToken: options.requireToken, faults: [],
    };
    this.files.set(name, file);
    this.setContent(name, data);
    return file;
  }

  /** Replaces a file's bytes and ETag, as if it were re-uploaded. */
  setContent(name: string, data: Buffer): void {
    const file = this.mustGet(name);
    file.data = data;
    file.etag = `"v${++this.contentVersion}-${sha256Of(data).slice(0, 12)}"`;
    file.sha256 = sha256Of(data);
  }

  inject(name: string, ...faults: Fault[]): void {
    this.mustGet(name).faults.push(...faults);
  }

  requestsFor(name: string): RequestRecord[] {
    return this.requests.filter((r) => r.path === `/files/${name}`);
  }

  /** Bytes of `name` that were sent more than once (0: every byte went out at most once). */
  bytesSentTwice(name: string): number {
    const ranges = [...(this.sentRanges.get(name) ?? [])].sort((a, b) => a.start - b.start);
    let twice = 0;
    let reach = 0;
    for (const r of ranges) {
      twice += Math.max(0, Math.min(r.end, reach) - r.start);
      reach = Math.max(reach, r.end);
    }
    return twice;
  }

  resetCounters(): void {
    this.sentRanges.clear();
    this.bytesSent = 0;
    this.maxConcurrent = 0;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private mustGet(name: string): ServedFile {
    const f = this.files.get(name);
    if (!f) throw new Error(`no such test file ${name}`);
    return f;
  }

  private nextFault(file: ServedFile): Fault {
    const fault = file.faults[0];
    if (!fault) return {};
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) file.faults.shift();
    return fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const urlPath = (req.url ?? '/').split('?')[0];
    const record = (status: number): void => {
      this.requests.push({
        path: urlPath, host: req.headers.host, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined,
        authorization: req.headers.authorization, status, connection: this.serials.get(req.socket) ?? 0, alongside: this.active,
      });
    };
    const file = this.files.get(urlPath.replace(/^\/files\//, ''));
    if (!file || !urlPath.startsWith('/files/')) {
      record(404);
      res.writeHead(404).end();
      return;
    }
    const fault = this.nextFault(file);
    if (fault.noResponse) {
      record(0);
      return;
    }
    if (fault.redirectTo) {
      record(302);
      res.writeHead(302, { location: fault.redirectTo }).end();
      return;
    }
    if (file.requireToken && req.headers.authorization !== `Bearer ${file.requireToken}`) {
      record(401);
      res.writeHead(401).end();
      return;
    }
    if (fault.status) {
      record(fault.status);
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}).end();
      return;
    }
    const size = file.data.length;
    let start = 0;
    let end = size; // exclusive
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const rangeValid = !ifRange || ifRange === file.etag;
    if (range && file.rangeSupport && !fault.ignoreRange && rangeValid) {
      start = Math.max(0, Number(range[1]) + (fault.rangeStartShift ?? 0));
      end = range[2] ? Math.min(size, Number(range[2]) + 1) : size;
      if (start >= size) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-length': end - start + (fault.contentLengthDelta ?? 0),
      etag: file.etag,
      'content-type': 'application/octet-stream',
    };
    if (file.rangeSupport) headers['accept-ranges'] = 'bytes';
    if (status === 206) headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    record(status);
    res.writeHead(status, headers);
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    try {
      const sent = await this.sendBody(res, file.data.subarray(start, end), fault);
      const ranges = this.sentRanges.get(file.name) ?? [];
      ranges.push({ start, end: start + sent });
      this.sentRanges.set(file.name, ranges);
    } finally {
      this.active--;
    }
  }

  /** Returns the body bytes written. */
  private async sendBody(res: http.ServerResponse, body: Buffer, fault: Fault): Promise<number> {
    const chunkSize = 16 * 1024;
    const started = Date.now();
    let sent = 0;
    const limit = Math.min(body.length, fault.dropAfterBytes ?? Infinity, fault.stallAfterBytes ?? Infinity);
    while (sent < limit) {
      if (res.destroyed) return sent;
      const chunk = body.subarray(sent, Math.min(limit, sent + chunkSize));
      this.bytesSent += chunk.length;
      sent += chunk.length;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      if (this.bytesPerSecondPerConnection > 0) {
        const cap = res.socket && this.slowSockets.has(res.socket) ? this.bytesPerSecondPerConnection / 2 : this.bytesPerSecondPerConnection;
        const due = started + (sent / cap) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    if (fault.dropAfterBytes !== undefined && sent < body.length) {
      res.socket?.destroy();
    } else if (fault.stallAfterBytes !== undefined && sent < body.length) {
      // Leave the response open: the client must notice the stall by itself.
    } else if (fault.contentLengthDelta) {
      res.socket?.destroy();
    } else {
      res.end();
    }
    return sent;
  }
}
