import type { Readable } from 'node:stream';
import { DownloadError, toDownloadError } from '../../core/downloadError';

/**
 * Where a response body's bytes go: memory the reader fills in place. A multi-GB body then costs no
 * allocation per chunk — the direct transport reads from the socket straight into `space()`.
 */
export interface ByteSink {
  /** Memory for the next bytes; must not be empty while reading is not paused. */
  space(): Buffer;
  /** `n` bytes were written at the start of the last `space()`. Returning false pauses reading until `resume()`. */
  landed(n: number): boolean;
}

/** A response body, read once into a ByteSink. */
export interface ResponseBody {
  /**
   * Delivers the body into `sink`. Resolves when the body ended — complete, or cut short by the peer (the
   * caller compares what landed with what it expected) — and rejects on a connection error.
   */
  readInto(sink: ByteSink): Promise<void>;
  pause(): void;
  resume(): void;
  /** Stops reading and closes the connection; a pending readInto settles. Safe to call more than once. */
  destroy(): void;
}

/** Reads a small body (API answers) as text, refusing anything over `limit` bytes. */
export async function readText(body: ResponseBody, limit = 16 * 1024 * 1024): Promise<string> {
  let buf = Buffer.allocUnsafe(64 * 1024);
  let length = 0;
  let tooLarge = false;
  await body.readInto({
    space: () => {
      if (length === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, length);
        buf = grown;
      }
      return buf.subarray(length);
    },
    landed: (n) => {
      length += n;
      if (length > limit) {
        tooLarge = true;
        body.destroy();
      }
      return true;
    },
  });
  if (tooLarge) throw new DownloadError('fatal', 'response too large');
  return buf.toString('utf8', 0, length);
}

/**
 * A node:http response as a ResponseBody. Used where the platform's networking must be kept (VS Code routes
 * node:http through its proxy and certificate settings); each chunk is copied into the sink.
 */
export class StreamBody implements ResponseBody {
  private sink: ByteSink | undefined;
  /** The rest of a chunk the sink had no room for (it paused). */
  private pending: Buffer | undefined;
  private paused = false;
  /** The stream has ended; readInto settles once `pending` is delivered too. */
  private ended = false;
  private destroyed = false;
  private settle: ((err?: unknown) => void) | undefined;

  constructor(private readonly stream: Readable) {}

  readInto(sink: ByteSink): Promise<void> {
    this.sink = sink;
    return new Promise<void>((resolve, reject) => {
      this.settle = (err?: unknown): void => {
        this.settle = undefined;
        if (err === undefined) resolve();
        else reject(toDownloadError(err));
      };
      this.stream.on('data', (chunk: Buffer) => this.deliver(chunk));
      // 'end' and 'close' both mean no more bytes: complete or cut short, the caller counts.
      this.stream.on('end', () => this.end());
      this.stream.on('close', () => this.end());
      this.stream.on('error', (err) => this.settle?.(err));
      if (this.stream.destroyed || this.stream.readableEnded) this.end();
    });
  }

  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    const rest = this.pending;
    this.pending = undefined;
    if (rest) this.deliver(rest);
    if (this.paused || this.pending) return;
    if (this.ended) this.settle?.();
    else this.stream.resume();
  }

  destroy(): void {
    this.destroyed = true;
    this.pending = undefined;
    this.stream.destroy();
    this.end();
  }

  private end(): void {
    this.ended = true;
    if (!this.pending) this.settle?.();
  }

  private deliver(chunk: Buffer): void {
    const sink = this.sink;
    // After a destroy, a stream may still flush what it had read: nobody wants it now.
    if (!sink || this.destroyed) return;
    let rest = chunk;
    while (rest.length > 0) {
      if (this.paused) {
        this.pending = rest;
        this.stream.pause();
        return;
      }
      const space = sink.space();
      const n = Math.min(space.length, rest.length);
      rest.copy(space, 0, 0, n);
      rest = rest.subarray(n);
      if (!sink.landed(n)) this.pause();
    }
  }
}
