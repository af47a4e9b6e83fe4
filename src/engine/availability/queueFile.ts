import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import { toDownloadError } from '../core/downloadError';
import type { Logger } from '../transfer/settings';
import type { DownloadPriority } from './queueTypes';

/** One queued download as queue.json keeps it. */
export interface SavedQueueItem {
  readonly id: string;
  readonly priority: DownloadPriority;
  readonly state: 'queued' | 'paused';
  readonly pausedReason?: string;
}

interface PersistedQueue {
  readonly formatVersion: 1;
  readonly items: readonly SavedQueueItem[];
}

const PRIORITIES: readonly DownloadPriority[] = ['high', 'normal', 'low'];

/** queue.json: the download queue across restarts, saved one write after another. */
export class QueueFile {
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string, private readonly logger: Logger) {}

  /** The saved items whose models still exist, with anything malformed made safe. */
  async read(known: ReadonlySet<string>): Promise<SavedQueueItem[]> {
    const raw = await readJsonIfPresent(this.file) as Partial<PersistedQueue> | undefined;
    return (Array.isArray(raw?.items) ? raw.items : [])
      .filter((saved) => typeof saved.id === 'string' && known.has(saved.id))
      .map((saved) => ({
        id: saved.id, priority: PRIORITIES.includes(saved.priority) ? saved.priority : 'normal',
        state: saved.state === 'paused' ? 'paused' : 'queued', pausedReason: saved.pausedReason,
      }));
  }

  save(items: readonly SavedQueueItem[]): void {
    const data: PersistedQueue = { formatVersion: 1, items };
    this.saving = this.saving.then(() => writeJsonAtomic(this.file, data)).catch((err: unknown) => {
      this.logger.warn(`cannot save the download queue: ${toDownloadError(err).message}`);
    });
  }

  /** Resolves when queue.json reflects every save so far. */
  flush(): Promise<void> {
    return this.saving;
  }
}
