import * as path from 'node:path';
import { DownloadError } from '../core/downloadError';
import { ConnectionPace, type PaceJudge } from './connectionPace';
import type { HttpResponse, ScopedToken } from './http/httpClient';
import { PartialFile, type InstalledFile } from './partialFile';
import { NODE_IO, type TransferIo } from './transferIo';
import { RangeWorkers } from './rangeWorkers';
import { RemoteFile, strongEtag } from './remoteFile';
import { RestartTransfer, RetryBudget } from './retryBudget';
import type { DownloadSettings, Logger } from './settings';
import type { SpeedLimiter } from './speedLimiter';

export { NODE_IO, type TransferIo } from './transferIo';

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
  /** Judges whether connections after the first still help (default: this event loop's ConnectionPace). */
  readonly pace?: PaceJudge;
}

export interface FileTransferResult extends InstalledFile {
  readonly url: string;
  readonly pieceSize: number;
}

/**
 * Downloads one file by fetching the missing pieces of its PieceMap — fresh, resumed, multi-connection
 * and repair alike — into `<final>.part`, then verifies the sha256 and renames it into place. This is the
 * attempt loop; the pieces are fetched by RangeWorkers (or one whole-file stream when the server has no
 * Range support) into a PartialFile, and one RetryBudget decides every retry.
 */
export class FileTransfer {
  private readonly partial: PartialFile;
  private readonly remote: RemoteFile;
  private readonly budget: RetryBudget;

  constructor(private readonly opts: FileTransferOptions) {
    this.partial = new PartialFile({ ...opts, io: opts.io ?? NODE_IO });
    this.remote = new RemoteFile(opts.url, opts.auth, opts.isHub, opts.settings);
    const name = path.basename(opts.finalPath);
    this.budget = new RetryBudget({
      settings: opts.settings,
      progress: () => this.partial.bytesComplete(),
      beforeWait: () => this.partial.saveState(true),
      warn: (message) => opts.logger.warn(`${name}: ${message}`, opts.modelId),
    });
  }

  async run(signal: AbortSignal): Promise<FileTransferResult> {
    for (;;) {
      try {
        return await this.attempt(signal);
      } catch (err) {
        if (!(err instanceof RestartTransfer)) throw err;
        await this.partial.discard();
        this.budget.restarted(err);
      } finally {
        await this.partial.close();
      }
    }
  }

  private async attempt(signal: AbortSignal): Promise<FileTransferResult> {
    await this.partial.open();
    try {
      if (!this.partial.pieces?.allComplete) await this.fetchMissing(signal);
    } finally {
      await this.partial.saveState(true);
    }
    const installed = await this.partial.install();
    return { url: this.opts.url, pieceSize: this.partial.pieceSize, ...installed };
  }

  /**
   * Fetches every missing piece. A 200 to a Range request (server ignores Range, or If-Range says the file
   * changed) switches to writing that whole body from offset 0; a failed whole-body stream resumes with
   * ranges when the server supports them, else restarts from 0.
   */
  private async fetchMissing(signal: AbortSignal): Promise<void> {
    const name = path.basename(this.opts.finalPath);
    const log = (message: string): void => this.opts.logger.info(`${name}: ${message}`, this.opts.modelId);
    const workers = new RangeWorkers(this.remote, this.partial, this.budget, this.opts.settings().connections, log, this.opts.pace ?? new ConnectionPace(log));
    let pending: HttpResponse | undefined;
    for (;;) {
      const startedAt = this.budget.started();
      try {
        pending ??= this.partial.validators.rangeSupported ? await workers.run(signal) : await this.remote.whole(signal);
        if (!pending) return;
        const res = pending;
        pending = undefined;
        await this.streamWhole(res, signal);
        if (this.partial.requireMap().allComplete) return;
      } catch (err) {
        await this.budget.failed('stream', startedAt, err, signal);
      }
    }
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
    if (this.partial.bytesComplete()) {
      this.opts.logger.warn(`${path.basename(this.opts.finalPath)}: the server sent the whole file; discarding partial data`, this.opts.modelId);
    }
    const v = this.partial.validators;
    v.rangeSupported = res.headers['accept-ranges'] === 'bytes';
    v.etag = strongEtag(res.headers.etag);
    v.lastModified = res.headers['last-modified'];
    await this.partial.startOver(size);
    const reached = await this.partial.receive(res.body, 0, size, signal);
    if (reached < size) throw new DownloadError('retryable', `connection closed after ${reached} of ${size} bytes`);
  }
}
