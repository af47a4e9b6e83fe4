import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { DownloadError, toDownloadError } from '../core/downloadError';
import { throttled } from '../core/throttle';
import { clearRepairMarker, pieceMapFromState, readResumableState, removePartData } from '../store/partState';
import { PieceMap } from '../store/pieceMap';
import { partPath } from '../store/storeLayout';
import { receiveBody } from './bodyReceiver';
import { ByteRanges, type ByteRange } from './byteRanges';
import { FileWorkers, type FileHashResult } from './fileWorkers';
import type { ResponseBody } from './http/responseBody';
import { RestartTransfer } from './retryBudget';
import type { DownloadSettings, Logger } from './settings';
import { SlotPool } from './slotPool';
import type { SpeedLimiter } from './speedLimiter';
import { allocatedBytes, ensureFreeSpace, openForWrite, type TransferIo } from './transferIo';
import { PartStateSaver } from './partStateSaver';

export interface PartialFileOptions {
  readonly modelId: string;
  readonly finalPath: string;
  readonly url: string;
  readonly expectedSize?: number;
  readonly expectedSha256?: string;
  readonly settings: () => DownloadSettings;
  readonly limiter: SpeedLimiter;
  readonly logger: Logger;
  readonly io: TransferIo;
  readonly onProgress?: (bytesDone: number, total: number | undefined) => void;
  /** Pieces to fetch again even though the state says complete (a repair). */
  readonly damagedPieces?: readonly number[];
}

/** What the server said about the file, kept in the state so a resume can ask "still the same file?". */
export interface Validators {
  etag?: string;
  lastModified?: string;
  /** The server answers Range requests. */
  rangeSupported: boolean;
  /** A 206 was seen (now or before a restart): only then do several connections start at once. */
  rangeConfirmed: boolean;
}

export interface InstalledFile extends FileHashResult {
  readonly size: number;
}

/** 16 slots of 1 MiB: room for every connection to read while earlier slots are written and hashed (8, 32, 2 MiB: no better). */
const SLOT_COUNT = 16;
const SLOT_SIZE = 1024 * 1024;

/**
 * `<final>.part` with its PieceMap and `.part.json`: which pieces are on disk, bodies landing in it (in
 * order, hashed on the way), the state saved as pieces complete, and the verified rename into place.
 */
export class PartialFile {
  readonly path: string;
  readonly pieceSize: number;
  private map: PieceMap | undefined;
  readonly validators: Validators = { rangeSupported: true, rangeConfirmed: false };
  private readonly pool = new SlotPool(SLOT_COUNT, SLOT_SIZE);
  /** Bytes of unfinished pieces written in this attempt: a piece completes when all of its bytes are here. */
  private landed = new ByteRanges();
  /** Bytes in memory, not yet on disk, per body being received (progress only). */
  private readonly inflight = new Set<() => number>();
  private fh: FileHandle | undefined;
  /** Write and hash what lands, in order: a piece counts as on disk only after every earlier write of it. */
  private workers: FileWorkers | undefined;
  private stateSaved: Promise<void> = Promise.resolve();
  private readonly stateSaver: PartStateSaver;

  constructor(private readonly opts: PartialFileOptions) {
    this.path = partPath(opts.finalPath);
    this.pieceSize = opts.settings().pieceSizeBytes;
    this.stateSaver = new PartStateSaver(opts.finalPath, (message) => opts.logger.warn(message, opts.modelId));
  }

  /** The piece map; undefined until the size is known (no catalog size, no response yet). */
  get pieces(): PieceMap | undefined {
    return this.map;
  }

  requireMap(): PieceMap {
    if (!this.map) throw new Error('piece map not initialised');
    return this.map;
  }

  bytesComplete(): number {
    return this.map?.bytesComplete() ?? 0;
  }

  /** What is left to fetch: the missing pieces, less the bytes of them already written. */
  missingRanges(): ByteRange[] {
    const map = this.requireMap();
    const out: ByteRange[] = [];
    for (const i of map.missing()) {
      for (const gap of this.landed.gaps(map.start(i), map.end(i))) {
        const last = out.at(-1);
        if (last && last.end === gap.start) out[out.length - 1] = { start: last.start, end: gap.end };
        else out.push(gap);
      }
    }
    return out;
  }

  /** Resumes what the state describes (if it still fits this file) or starts empty; opens the file for writing. */
  async open(): Promise<void> {
    await this.loadState();
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    if (this.map) await this.checkFreeSpace(this.map.size - Math.max(this.map.bytesComplete(), await allocatedBytes(this.path)));
    this.fh = await openForWrite(this.path);
    this.workers = this.startWorkers();
    if (this.map) {
      // Pieces already on disk are hashed from the file while the missing ones download.
      this.workers.advance(this.map.contiguousEnd());
      for (const i of this.map.completeIndices()) this.workers.piece(i, this.map.end(i));
      // Before the first byte lands (receive() waits): a disk that fills up early must not leave a .part
      // without its state. The first request goes out meanwhile instead of after its fsyncs.
      this.stateSaved = this.saveState(true);
      this.stateSaved.catch(() => undefined);
    }
  }

  private async loadState(): Promise<void> {
    const { opts } = this;
    this.landed = new ByteRanges();
    const state = await readResumableState(opts.finalPath, { url: opts.url, pieceSize: this.pieceSize, size: opts.expectedSize, sha256: opts.expectedSha256 });
    const v = this.validators;
    if (state) {
      const map = pieceMapFromState(state);
      this.map = map;
      if (opts.damagedPieces) map.markMissing(opts.damagedPieces);
      // A partial file cut short since (a full disk, a copy, a crash of the file system) lost its tail pieces.
      const onDisk = (await fs.stat(this.path)).size;
      map.markMissing(map.completeIndices().filter((i) => map.end(i) > onDisk));
      v.etag = state.etag;
      v.lastModified = state.lastModified;
      v.rangeSupported = state.rangeSupported;
      v.rangeConfirmed = state.rangeSupported;
      if (!v.rangeSupported) map.reset();
      opts.logger.info(`resuming ${path.basename(opts.finalPath)}: ${map.bytesComplete()} of ${map.size} bytes on disk`, opts.modelId);
    } else {
      this.map = opts.expectedSize !== undefined ? new PieceMap(opts.expectedSize, this.pieceSize) : undefined;
      v.etag = undefined;
      v.lastModified = undefined;
      v.rangeSupported = true;
      v.rangeConfirmed = false;
    }
  }

  /** The size came with the first response (the catalog did not give it). */
  learnSize(total: number): PieceMap {
    if (!this.map) {
      this.map = new PieceMap(total, this.pieceSize);
      void this.saveState(true);
    }
    return this.map;
  }

  /** A whole-file (200) body replaces whatever partial data there was: never appended to it. */
  async startOver(size: number): Promise<void> {
    this.map = new PieceMap(size, this.pieceSize);
    this.landed = new ByteRanges();
    void this.saveState(true);
    // No write of the old workers may land after the truncation.
    await this.workers?.dispose();
    this.workers = this.startWorkers();
    await this.requireFile().truncate(0);
    await this.checkFreeSpace(size);
  }

  private checkFreeSpace(missing: number): Promise<void> {
    return ensureFreeSpace(this.opts.io, path.dirname(this.path), missing + this.opts.settings().diskMarginBytes);
  }

  /**
   * Lands a body for file offsets [start, stop) and returns the offset reached on disk. A piece counts as
   * complete once every byte of it was written in this attempt (by this body or others).
   */
  async receive(body: ResponseBody, start: number, stop: number, signal: AbortSignal): Promise<number> {
    await this.stateSaved;
    const map = this.requireMap();
    let inMemory = start;
    let onDisk = start;
    const inflight = (): number => inMemory - onDisk;
    this.inflight.add(inflight);
    try {
      return await receiveBody(body, start, stop, {
        pool: this.pool,
        pieceSize: this.pieceSize,
        stallMs: this.opts.settings().stallTimeoutSeconds * 1000,
        limiter: this.opts.limiter,
        signal,
        store: (slot, length, offset) => this.store(slot, length, offset),
        written: (offset, length) => {
          onDisk = offset + length;
          this.workers?.written(offset, length);
          this.landed.add(offset, onDisk);
          // A slot never spans two pieces.
          const piece = Math.floor(offset / map.pieceSize);
          if (!map.isComplete(piece) && this.landed.covers(map.start(piece), map.end(piece))) {
            this.landed.remove(map.start(piece), map.end(piece));
            this.completePiece(piece);
          }
        },
        landed: (pos) => {
          inMemory = pos;
          this.progress.push();
        },
      });
    } finally {
      this.inflight.delete(inflight);
    }
  }

  private store(slot: number, length: number, offset: number): Promise<void> {
    if (!this.workers) return Promise.reject(new Error('partial file not open'));
    return this.workers.store(slot, length, offset).catch((err: unknown) => {
      const e = toDownloadError(err);
      throw e.kind === 'retryable' ? new DownloadError('fatal', `cannot write ${this.path}: ${e.message}`, { code: 'write' }) : e;
    });
  }

  private completePiece(index: number): void {
    const map = this.requireMap();
    map.markComplete(index);
    this.workers?.piece(index, map.end(index));
    this.workers?.advance(map.contiguousEnd());
    void this.saveState(false);
  }

  /** Bytes on disk or in memory: complete pieces, bytes of unfinished ones written, bodies not yet written. */
  bytesOnHand(): number {
    let inflight = 0;
    for (const bytes of this.inflight) inflight += Math.max(0, bytes());
    const map = this.map;
    return map ? Math.min(map.size, map.bytesComplete() + this.landed.total() + inflight) : inflight;
  }

  // Every 50 ms at most, the last never lost (per socket read it cost 27 ms per GiB); here, so bytesOnHand() stays exact.
  private readonly progress = throttled(50, () => this.opts.onProgress?.(this.bytesOnHand(), this.map?.size));

  /** Persists which pieces are on disk, at most once a second unless forced. */
  saveState(force: boolean): Promise<void> {
    const map = this.map;
    if (!map) return this.stateSaver.idle();
    const v = this.validators;
    return this.stateSaver.save((now) => ({
      formatVersion: 1, url: this.opts.url, size: map.size, pieceSize: this.pieceSize, sha256: this.opts.expectedSha256,
      etag: v.etag, lastModified: v.lastModified, rangeSupported: v.rangeSupported,
      completePieces: map.completeIndices(), updatedAt: new Date(now).toISOString(),
    }), force);
  }

  /** Checks the whole file's sha256 and renames it into place; a mismatch means starting over. */
  async install(): Promise<InstalledFile> {
    const map = this.requireMap();
    const workers = this.workers;
    if (!workers) throw new Error('partial file not open');
    const hashed = await workers.finish(map.size);
    const { sha256 } = hashed;
    this.workers = undefined;
    const expected = this.opts.expectedSha256;
    if (expected && sha256 !== expected.toLowerCase()) {
      throw new RestartTransfer(`sha256 mismatch for ${path.basename(this.opts.finalPath)}: expected ${expected}, got ${sha256}`);
    }
    await this.close();
    await fs.rename(this.path, this.opts.finalPath);
    await clearRepairMarker(this.opts.finalPath);
    await removePartData(this.opts.finalPath);
    return { size: map.size, ...hashed };
  }

  /** Drops the partial data (an in-place repair gets its installed file back). */
  discard(): Promise<void> {
    return removePartData(this.opts.finalPath);
  }

  async close(): Promise<void> {
    this.progress.dispose();
    const workers = this.workers;
    this.workers = undefined;
    await workers?.dispose();
    await this.stateSaver.idle();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private startWorkers(): FileWorkers {
    const { fd } = this.requireFile();
    return new FileWorkers({ read: fd, write: fd }, this.pieceSize, this.pool);
  }

  private requireFile(): FileHandle {
    if (!this.fh) throw new Error('partial file not open');
    return this.fh;
  }
}
