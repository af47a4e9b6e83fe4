import { toDownloadError } from '../core/downloadError';
import { writePartState, type PartState } from '../store/partState';

const STATE_SAVE_INTERVAL_MS = 1000;

/**
 * Saves a partial file's `.part.json`: at most once a second unless forced, one write after another. No fsync
 * of the data here: it stalls the transfer on writeback, and a piece lost to a power cut is caught by the final
 * sha256 (and its piece hash) anyway. A killed process loses nothing: the page cache survives it.
 */
export class PartStateSaver {
  private lastSave = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly finalPath: string, private readonly warn: (message: string) => void) {}

  /** Saves what `state` gives (called only when a save is due); resolves when it and every earlier save are done. */
  save(state: (now: number) => PartState, force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastSave < STATE_SAVE_INTERVAL_MS) return this.saving;
    this.lastSave = now;
    const data = state(now);
    this.saving = this.saving.then(() => writePartState(this.finalPath, data)).catch((err: unknown) => {
      this.warn(`cannot save download state: ${toDownloadError(err).message}`);
    });
    return this.saving;
  }

  /** Resolves when every save so far is done. */
  idle(): Promise<void> {
    return this.saving;
  }
}
