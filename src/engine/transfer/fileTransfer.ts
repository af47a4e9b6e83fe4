import { formatBytes } from '../core/format';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { FileHasher } from './fileHasher';
import { DownloadError, httpStatusError, parseRetryAfter, retryDelayMs, toDownloadError } from '../core/downloadError';
import { openRequest, type HttpResponse, type ScopedToken } from './http/httpClient';
import { sleep } from '../core/sleep';
import type { SpeedLimiter } from './speedLimiter';
import { partPath } from '../store/storeLayout';
import { parseContentRange, receiveBody, type ReceiveTarget } from './bodyReceiver';
import { clearRepairMarker, pieceMapFromState, readPartState, removePartData, writePartState, type PartState } from '../store/partState';
import { PieceMap } from '../store/pieceMap';
import type { DownloadSettings, Logger } from './settings';
import { SlotPool } from './slotPool';

/** File-system seams, so tests can inject a full disk. */
export interface TransferIo {
  write(fh: FileHandle, chunk: Buffer, position: number): Promise<void>;
  freeBytes(dir: string): Promise<number>;
}

/**
 * The largest single write. Bigger writes make the kernel take large page-cache folios, which here cost up
 * to five times the CPU when memory is fragmented: 1 GiB written in 1 MiB writes took 0.9-1.7 s of kernel
 * time in 6 runs of 10, in 256 KiB writes 0.23-0.27 s every time (this machine, ext4, kernel 6.18).
 */
const MAX_WRITE = 256 * 1024;

export const NODE_IO: TransferIo = {
  async write(fh, chunk, position) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, done, Math.min(MAX_WRITE, chunk.length - done), position + done);
      done += bytesWritten;
    }
  },
  async freeBytes(dir) {
    const s = await fs.statfs(dir);
    return s.bavail * s.bsize;
  },
};

export interface FileTransferOptions {
  readonly modelId: string;
  readonly finalPath: string;
  readonly url: string;
  readonly auth?: ScopedToken;
  /** The source is a Hugging Face file: 401/403 then means "gated". */
  readonly isHub: boolean;
  readonly expectedSize?: number;
  readonly expectedSha256?: string;
  readonly settings: () => DownloadSettings;
  readonly limiter: SpeedLimiter;
  readonly logger: Logger;
  readonly io?: TransferIo;
  readonly onProgress?: (bytesDone: number, total: number | undefined) => void;
  /** Pieces to fetch again even though the state says complete (a repair). */
  readonly damagedPieces?: readonly number[];
}

export interface FileTransferResult {
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
  readonly pieceSize: number;
  readonly pieces: string[];
}

/** The remote file is not what our partial data came from, or the result did not verify: start over. */
class RestartTransfer extends Error {}

const MAX_RUN_BYTES = 64 * 1024 * 1024;
const STATE_SAVE_INTERVAL_MS = 1000;
/**
 * 32 slots of 1 MiB: room for every connection to read while earlier slots are written and hashed. With 16
 * the socket often waited for a free slot (1 GiB from localhost: 2.1-2.35 s with 16, 1.7-1.95 s with 32,
 * no better with 64 or 96).
 */
const SLOT_COUNT = 32;
const SLOT_SIZE = 1024 * 1024;

/**
 * Downloads one file by fetching the missing pieces of its PieceMap — fresh, resumed, multi-connection
 * and repair alike — into `<final>.part`, then verifies the sha256 and renames it into place.
 */
export class FileTransfer {
  private readonly io: TransferIo;
  private readonly part: string;
  private map: PieceMap | undefined;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private rangeSupported = true;
  /** A 206 was seen (now or before a restart): only then do several connections start at once. */
  private rangeConfirmed = false;
  private onRangeConfirmed: (() => void) | undefined;
  private readonly claimed = new Set<number>();
  private activeRuns = 0;
  /** Bytes landed beyond the complete pieces, per response (progress only). */
  private readonly inflight = new Map<number, () => number>();
  private readonly pool = new SlotPool(SLOT_COUNT, SLOT_SIZE);
  /** Writes run one at a time, in order: a piece counts as on disk only after every earlier write of it. */
  private writes: Promise<void> = Promise.resolve();
  private fh: FileHandle | undefined;
  private hasher: FileHasher | undefined;
  private lastSave = 0;
  private saving: Promise<void> = Promise.resolve();
  private readonly pieceSize: number;

  constructor(private readonly opts: FileTransferOptions) {
    this.io = opts.io ?? NODE_IO;
    this.part = partPath(opts.finalPath);
    this.pieceSize = opts.settings().pieceSizeBytes;
  }

  async run(signal: AbortSignal): Promise<FileTransferResult> {
    let restarts = 0;
    for (;;) {
      try {
        return await this.attempt(signal);
      } catch (err) {
        if (!(err instanceof RestartTransfer)) throw err;
        restarts++;
        await removePartData(this.opts.finalPath);
        if (restarts > this.opts.settings().maxRetries) {
          throw new DownloadError('fatal', `${err.message}; gave up after ${restarts} attempts`, { code: 'checksum' });
        }
        this.opts.logger.warn(`${path.basename(this.opts.finalPath)}: ${err.message}; downloading again (attempt ${restarts + 1})`, this.opts.modelId);
      } finally {
        await this.closeFile();
      }
    }
  }

  private async attempt(signal: AbortSignal): Promise<FileTransferResult> {
    await this.loadState();
    await fs.mkdir(path.dirname(this.part), { recursive: true });
    if (this.map) await this.checkFreeSpace(this.map.size - this.map.bytesComplete());
    this.fh = await openForWrite(this.part);
    this.hasher = new FileHasher(this.part, this.pieceSize, this.pool);
    if (this.map) {
      // Pieces already on disk are hashed from the file while the missing ones download.
      this.hasher.advance(this.map.contiguousEnd());
      for (const i of this.map.completeIndices()) this.hasher.piece(i, this.map.end(i));
    }

    try {
      if (!this.map || !this.map.allComplete) await this.fetchMissing(signal);
    } finally {
      await this.saveState(true);
    }
    return this.verifyAndInstall();
  }

  private async loadState(): Promise<void> {
    const state = await readPartState(this.opts.finalPath);
    const usable = state && state.url === this.opts.url && state.pieceSize === this.pieceSize &&
      (this.opts.expectedSize === undefined || state.size === this.opts.expectedSize) &&
      state.sha256 === this.opts.expectedSha256 && (await fileExists(this.part));
    if (state && usable) {
      this.map = pieceMapFromState(state);
      if (this.opts.damagedPieces) this.map.markMissing(this.opts.damagedPieces);
      // A partial file cut short since (a full disk, a copy, a crash of the file system) lost its tail pieces.
      const onDisk = (await fs.stat(this.part)).size;
      const map = this.map;
      map.markMissing(map.completeIndices().filter((i) => map.end(i) > onDisk));
      this.etag = state.etag;
      this.lastModified = state.lastModified;
      this.rangeSupported = state.rangeSupported;
      this.rangeConfirmed = state.rangeSupported;
      if (!this.rangeSupported) this.map.reset();
      this.opts.logger.info(`resuming ${path.basename(this.opts.finalPath)}: ${this.map.bytesComplete()} of ${this.map.size} bytes on disk`, this.opts.modelId);
    } else {
      if (state) await removePartData(this.opts.finalPath);
      this.map = this.opts.expectedSize !== undefined ? new PieceMap(this.opts.expectedSize, this.pieceSize) : undefined;
      this.etag = undefined;
      this.lastModified = undefined;
      this.rangeSupported = true;
      this.rangeConfirmed = false;
    }
  }

  private async checkFreeSpace(missing: number): Promise<void> {
    const free = await this.io.freeBytes(path.dirname(this.part));
    const needed = missing + this.opts.settings().diskMarginBytes;
    if (free < needed) {
      throw new DownloadError('diskFull', `disk full: ${formatBytes(needed)} needed, ${formatBytes(free)} free`);
    }
  }

  /**
   * Fetches every missing piece. A 200 to a Range request (server ignores Range, or If-Range says the file
   * changed) switches to writing that whole body from offset 0; a failed whole-body stream resumes with
   * ranges when the server supports them, else restarts from 0.
   */
  private async fetchMissing(signal: AbortSignal): Promise<void> {
    let pending: HttpResponse | undefined;
    await this.withRetries(signal, async () => {
      for (;;) {
        pending ??= this.rangeSupported ? await this.fetchRanged(signal) : await this.openWhole(signal);
        if (!pending) return;
        const res = pending;
        pending = undefined;
        await this.streamWhole(res, signal);
        if (this.requireMap().allComplete) return;
      }
    });
  }

  /**
   * Runs `connections` workers over the missing pieces. Only the first starts until a 206 shows that Range
   * works, so a server that ignores Range is not asked for the whole file N times. Returns the whole-file
   * body if the server answered 200.
   */
  private async fetchRanged(outer: AbortSignal): Promise<HttpResponse | undefined> {
    const workers = Math.max(1, this.opts.settings().connections);
    // One controller per connection: a whole-file answer stops the others but must not abort its own body.
    const controllers = Array.from({ length: workers }, () => new AbortController());
    const stopOthers = (except: number, reason: unknown): void => controllers.forEach((c, k) => { if (k !== except) c.abort(reason); });
    let wholeBody: HttpResponse | undefined;
    let firstError: unknown;
    const confirmed = new Promise<void>((resolve) => {
      this.onRangeConfirmed = resolve;
      if (this.rangeConfirmed) resolve();
    });
    await Promise.allSettled(controllers.map(async (own, index) => {
      const signal = AbortSignal.any([outer, own.signal]);
      try {
        if (index > 0) {
          await new Promise<void>((resolve) => {
            void confirmed.then(resolve);
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          if (signal.aborted) return;
        }
        for (;;) {
          // Each attempt claims afresh, so a retry asks only for what is still missing.
          const outcome = await this.withRetries(signal, () => this.fetchNextRun(workers, signal));
          if (outcome === 'done') return;
          if (outcome === 'more') continue;
          if (wholeBody) {
            outcome.body.destroy();
          } else {
            wholeBody = outcome;
            stopOthers(index, new DownloadError('aborted', 'switching to one stream'));
          }
          return;
        }
      } catch (err) {
        if (!wholeBody && firstError === undefined) firstError = err;
        stopOthers(index, err);
      }
    }));
    this.onRangeConfirmed = undefined;
    if (wholeBody) return wholeBody;
    if (firstError !== undefined) throw firstError;
    if (!this.requireMap().allComplete) throw new DownloadError('retryable', 'transfer ended with pieces missing');
    return undefined;
  }

  private async fetchNextRun(workers: number, signal: AbortSignal): Promise<HttpResponse | 'done' | 'more'> {
    // Unknown size: the first piece's Content-Range tells it.
    if (!this.map) {
      this.claimed.add(0);
      try {
        return await this.fetchRange(0, this.pieceSize, signal) ?? 'more';
      } finally {
        this.claimed.delete(0);
      }
    }
    const run = this.claimRun(workers);
    if (!run) return 'done';
    const map = this.map;
    this.activeRuns++;
    try {
      return await this.fetchRange(map.start(run[0]), map.end(run[run.length - 1]), signal) ?? 'more';
    } finally {
      this.activeRuns--;
      for (const i of run) this.claimed.delete(i);
    }
  }

  /** Claims the next run of contiguous missing pieces, sized so the connections share the remaining work. */
  private claimRun(workers: number): number[] | undefined {
    const map = this.requireMap();
    const free = map.missing().filter((i) => !this.claimed.has(i));
    if (free.length === 0) return undefined;
    // Split what is left among the connections not busy yet, so N connections make about N requests.
    const idle = Math.max(1, workers - this.activeRuns);
    const maxRun = Math.max(1, Math.min(Math.ceil(free.length / idle), Math.floor(MAX_RUN_BYTES / map.pieceSize)));
    const run = [free[0]];
    for (let k = 1; k < free.length && run.length < maxRun && free[k] === run[run.length - 1] + 1; k++) run.push(free[k]);
    for (const i of run) this.claimed.add(i);
    return run;
  }

  /** Retries one request on retryable failures with backoff; progress resets the failure count. */
  private async withRetries<T>(signal: AbortSignal, request: () => Promise<T>): Promise<T> {
    let failures = 0;
    for (;;) {
      const before = this.map?.bytesComplete() ?? 0;
      try {
        return await request();
      } catch (raw) {
        if (raw instanceof RestartTransfer) throw raw;
        const err = signal.aborted ? abortReason(signal) : toDownloadError(raw);
        if (err.kind !== 'retryable') throw err;
        failures = (this.map?.bytesComplete() ?? 0) > before ? 1 : failures + 1;
        const { maxRetries, retryBaseDelayMs } = this.opts.settings();
        if (failures > maxRetries) throw new DownloadError('fatal', `${err.message} (gave up after ${maxRetries} retries)`, { code: err.code });
        const delay = retryDelayMs(failures, retryBaseDelayMs, err.retryAfterMs);
        this.opts.logger.warn(`${path.basename(this.opts.finalPath)}: ${err.message}; retry ${failures}/${maxRetries} in ${delay} ms`, this.opts.modelId);
        await this.saveState(true);
        await sleep(delay, signal).catch(() => { throw abortReason(signal); });
      }
    }
  }

  /** One Range request; returns the response instead when it is a whole-file 200. */
  private async fetchRange(start: number, end: number, signal: AbortSignal): Promise<HttpResponse | undefined> {
    const headers: Record<string, string> = { range: `bytes=${start}-${end - 1}` };
    const validator = this.etag ?? this.lastModified;
    if (validator) headers['if-range'] = validator;
    const res = await openRequest({ url: this.opts.url, headers, auth: this.opts.auth, signal, headersTimeoutMs: this.stallMs(), transport: this.opts.settings().transport });
    if (res.status === 200) return res;
    if (res.status !== 206) throw this.statusError(res);
    const range = parseContentRange(res.headers['content-range']);
    if (!range) {
      res.body.destroy();
      throw new DownloadError('retryable', '206 without a valid Content-Range');
    }
    const etag = strongEtag(res.headers.etag);
    if (range.total === undefined || (this.map && range.total !== this.map.size) || (this.etag && etag && etag !== this.etag)) {
      res.body.destroy();
      throw new RestartTransfer(`the file at ${this.opts.url} changed during the download`);
    }
    this.rememberValidators(res);
    this.rangeConfirmed = true;
    this.onRangeConfirmed?.();
    this.map ??= new PieceMap(range.total, this.pieceSize);
    const map = this.map;
    const stop = Math.min(range.end + 1, Math.max(end, range.start), map.size);
    const key = start;
    let piece = Math.floor(range.start / map.pieceSize);
    let landed = range.start;
    this.inflight.set(key, () => (piece < map.count ? landed - Math.max(range.start, map.start(piece)) : 0));
    const reached = await receiveBody(res.body, range.start, stop, this.receiveTarget(signal, (pos) => {
      landed = pos;
    }, (writtenEnd) => {
      // A piece counts only if this response covered it from its first byte.
      while (piece < map.count && map.end(piece) <= writtenEnd) {
        if (map.start(piece) >= range.start) this.completePiece(piece);
        piece++;
      }
    })).finally(() => this.inflight.delete(key));
    if (reached < stop) {
      throw new DownloadError('retryable', `connection closed after ${reached - range.start} of ${stop - range.start} bytes`);
    }
    return undefined;
  }

  /** Writes a whole-file (200) body from offset 0, discarding any partial data: never appended. */
  private async streamWhole(res: HttpResponse, signal: AbortSignal): Promise<void> {
    const header = res.headers['content-length'];
    const size = header !== undefined && Number.isFinite(Number(header)) ? Number(header) : this.opts.expectedSize;
    if (size === undefined) {
      res.body.destroy();
      throw new DownloadError('fatal', `the server at ${this.opts.url} did not give the file size`);
    }
    if (this.opts.expectedSize !== undefined && size !== this.opts.expectedSize) {
      res.body.destroy();
      throw new RestartTransfer(`the server sent ${size} bytes but the catalog says ${this.opts.expectedSize}`);
    }
    if (this.map?.bytesComplete()) {
      this.opts.logger.warn(`${path.basename(this.opts.finalPath)}: the server sent the whole file; discarding partial data`, this.opts.modelId);
    }
    this.rangeSupported = res.headers['accept-ranges'] === 'bytes';
    this.etag = strongEtag(res.headers.etag);
    this.lastModified = res.headers['last-modified'];
    const map = new PieceMap(size, this.pieceSize);
    this.map = map;
    this.hasher?.dispose();
    this.hasher = new FileHasher(this.part, this.pieceSize, this.pool);
    await this.writes;
    await this.requireFile().truncate(0);
    await this.checkFreeSpace(size);
    let piece = 0;
    let landed = 0;
    this.inflight.set(-1, () => (piece < map.count ? landed - map.start(piece) : 0));
    const reached = await receiveBody(res.body, 0, size, this.receiveTarget(signal, (pos) => {
      landed = pos;
    }, (writtenEnd) => {
      while (piece < map.count && map.end(piece) <= writtenEnd) this.completePiece(piece++);
    })).finally(() => this.inflight.delete(-1));
    if (reached < size) throw new DownloadError('retryable', `connection closed after ${reached} of ${size} bytes`);
  }

  private async openWhole(signal: AbortSignal): Promise<HttpResponse> {
    const res = await openRequest({ url: this.opts.url, auth: this.opts.auth, signal, headersTimeoutMs: this.stallMs(), transport: this.opts.settings().transport });
    if (res.status !== 200) throw this.statusError(res);
    return res;
  }

  private statusError(res: HttpResponse): DownloadError {
    res.body.destroy();
    return httpStatusError(res.status, this.opts.url, this.opts.isHub, parseRetryAfter(res.headers['retry-after']));
  }

  private rememberValidators(res: HttpResponse): void {
    this.etag ??= strongEtag(res.headers.etag);
    this.lastModified ??= res.headers['last-modified'];
  }

  private receiveTarget(signal: AbortSignal, landed: (pos: number) => void, written: (end: number) => void): ReceiveTarget {
    return {
      pool: this.pool,
      pieceSize: this.pieceSize,
      stallMs: this.stallMs(),
      limiter: this.opts.limiter,
      signal,
      write: (data, offset) => this.write(data, offset),
      hash: (slot, length, offset) => this.hasher?.data(slot, length, offset),
      written: (offset, length) => written(offset + length),
      landed: (pos) => {
        landed(pos);
        this.reportProgress();
      },
    };
  }

  private write(chunk: Buffer, offset: number): Promise<void> {
    const fh = this.requireFile();
    const done = this.writes.then(() => this.io.write(fh, chunk, offset)).catch((err: unknown) => {
      const e = toDownloadError(err);
      throw e.kind === 'retryable' ? new DownloadError('fatal', `cannot write ${this.part}: ${e.message}`, { code: 'write' }) : e;
    });
    this.writes = done.catch(() => undefined);
    return done;
  }

  private completePiece(index: number): void {
    const map = this.requireMap();
    map.markComplete(index);
    this.hasher?.piece(index, map.end(index));
    this.hasher?.advance(map.contiguousEnd());
    void this.saveState(false);
  }

  private reportProgress(): void {
    let inflight = 0;
    for (const v of this.inflight.values()) inflight += Math.max(0, v());
    const map = this.map;
    this.opts.onProgress?.(map ? Math.min(map.size, map.bytesComplete() + inflight) : inflight, map?.size);
  }

  /** Persists which pieces are on disk, at most once a second unless forced. */
  private saveState(force: boolean): Promise<void> {
    const now = Date.now();
    if (!this.map || (!force && now - this.lastSave < STATE_SAVE_INTERVAL_MS)) return this.saving;
    this.lastSave = now;
    const state: PartState = {
      formatVersion: 1,
      url: this.opts.url,
      size: this.map.size,
      pieceSize: this.pieceSize,
      sha256: this.opts.expectedSha256,
      etag: this.etag,
      lastModified: this.lastModified,
      rangeSupported: this.rangeSupported,
      completePieces: this.map.completeIndices(),
      updatedAt: new Date(now).toISOString(),
    };
    // No fsync of the data here: it stalls the transfer on writeback, and a piece lost to a power cut is
    // caught by the final sha256 (and its piece hash) anyway. A killed process loses nothing: the page cache survives it.
    this.saving = this.saving.then(() => writePartState(this.opts.finalPath, state)).catch((err: unknown) => {
      this.opts.logger.warn(`cannot save download state: ${toDownloadError(err).message}`, this.opts.modelId);
    });
    return this.saving;
  }

  private async verifyAndInstall(): Promise<FileTransferResult> {
    const map = this.requireMap();
    const hasher = this.hasher;
    if (!hasher) throw new Error('hasher missing');
    const { sha256, pieces } = await hasher.finish(map.size);
    this.hasher = undefined;
    const expected = this.opts.expectedSha256;
    if (expected && sha256 !== expected.toLowerCase()) {
      throw new RestartTransfer(`sha256 mismatch for ${path.basename(this.opts.finalPath)}: expected ${expected}, got ${sha256}`);
    }
    await this.closeFile();
    await fs.rename(this.part, this.opts.finalPath);
    await clearRepairMarker(this.opts.finalPath);
    await removePartData(this.opts.finalPath);
    return { url: this.opts.url, size: map.size, sha256, pieceSize: this.pieceSize, pieces };
  }

  private async closeFile(): Promise<void> {
    this.hasher?.dispose();
    this.hasher = undefined;
    await this.saving;
    await this.writes;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private stallMs(): number {
    return this.opts.settings().stallTimeoutSeconds * 1000;
  }

  private requireMap(): PieceMap {
    if (!this.map) throw new Error('piece map not initialised');
    return this.map;
  }

  private requireFile(): FileHandle {
    if (!this.fh) throw new Error('partial file not open');
    return this.fh;
  }
}

async function openForWrite(file: string): Promise<FileHandle> {
  try {
    return await fs.open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return fs.open(file, 'w+');
  }
}

async function fileExists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

/** Weak ETags cannot be used with If-Range. */
function strongEtag(value: string | undefined): string | undefined {
  return value && !value.startsWith('W/') ? value : undefined;
}

function abortReason(signal: AbortSignal): DownloadError {
  const reason: unknown = signal.reason;
  return reason instanceof DownloadError ? reason : new DownloadError('aborted', 'aborted');
}

