import type { FileHandle } from 'node:fs/promises';
import type { TransferIo } from './transferIo';

/** The most one batch takes: 8 slots, settled together once they are all on disk. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

interface QueuedWrite {
  readonly chunk: Buffer;
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The writes to one file: one at a time, in the order they were asked for, so each promise settles after
 * every write queued before it. Writes that wait and continue each other go to TransferIo as one batch.
 */
export class WriteQueue {
  private readonly queued: QueuedWrite[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly io: TransferIo, private readonly file: () => FileHandle) {}

  write(chunk: Buffer, offset: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ chunk, offset, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once every write queued so far has settled. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) {
      try {
        await this.io.write(this.file(), batch.map((w) => w.chunk), batch[0].offset);
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = undefined;
  }

  /** The first queued write and those that continue it, up to MAX_BATCH_BYTES. */
  private takeBatch(): QueuedWrite[] {
    const first = this.queued.shift();
    if (!first) return [];
    const batch = [first];
    let end = first.offset + first.chunk.length;
    let bytes = first.chunk.length;
    for (let next = this.queued[0]; next && next.offset === end && bytes + next.chunk.length <= MAX_BATCH_BYTES; next = this.queued[0]) {
      batch.push(next);
      this.queued.shift();
      end += next.chunk.length;
      bytes += next.chunk.length;
    }
    return batch;
  }
}
