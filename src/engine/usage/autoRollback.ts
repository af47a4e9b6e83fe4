import { Emitter, type Event } from '../core/event';
import { Disposable } from '../core/lifecycle';
import type { Logger } from '../transfer/settings';
import type { TrialUpdate, VersionSwitch } from '../availability/updates/modelUpdates';
import type { AnalyticsDatabase } from './analytics/eventTypes';
import { resultsByVersion, type VersionResults } from './analytics/versionQueries';

export interface AutoRollbackSettings {
  /** Generations the new version needs before it is judged. */
  readonly minGenerations: number;
  /** Rolled back when its success rate is this many percentage points below the previous version's. */
  readonly successDropPoints: number;
  /** Rolled back when its median duration is this many percent longer than the previous version's. */
  readonly slowerPercent: number;
}

export const DEFAULT_AUTO_ROLLBACK: AutoRollbackSettings = { minGenerations: 5, successDropPoints: 20, slowerPercent: 50 };

/** The comparison window: the previous version's last 30 days. */
const WINDOW_DAYS = 30;

export interface AutoRollbackDeps {
  readonly updates: {
    /** The updates on trial, as the store keeps them (a restart continues a trial). */
    trials(): readonly TrialUpdate[];
    rollBackWorse(id: string, from: string, to: string, reason: string): Promise<VersionSwitch>;
  };
  /** Reads the analytics database (AnalyticsStore.read). */
  read<T>(query: (db: AnalyticsDatabase) => T): T;
  /** Fires after recorded generations were saved (AnalyticsStore.onDidSave). */
  readonly onDidSave: Event<void>;
  readonly settings: () => AutoRollbackSettings;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** An automatic rollback, with the sentence that says why ("Rolled back m to 1.0.0: 3 of 5 generations failed with 1.1.0"). */
export interface AutoRollbackEvent {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly message: string;
}

/**
 * After an update switches, compares the new version's generations with the previous version's and goes
 * back when the new one fails clearly more or is clearly slower; the update is then held back (not
 * offered again) until a newer one appears or the person asks for it. Says so once.
 */
export class AutoRollback extends Disposable {
  /** Models whose rollback is underway. */
  private readonly judging = new Set<string>();
  private readonly _onDidRollBack = this._register(new Emitter<AutoRollbackEvent>());
  readonly onDidRollBack: Event<AutoRollbackEvent> = this._onDidRollBack.event;

  constructor(private readonly deps: AutoRollbackDeps) {
    super();
    this._register(deps.onDidSave(() => void this.evaluate()));
  }

  /** Judges every update on trial; returns the rollbacks made. */
  async evaluate(): Promise<AutoRollbackEvent[]> {
    const made: AutoRollbackEvent[] = [];
    for (const trial of this.deps.updates.trials()) {
      // Judged once at a time: a save during the rollback below finds the trial ended.
      if (this.judging.has(trial.id)) continue;
      const results = this.deps.read((db) => resultsByVersion(db, trial.id, (this.deps.now ?? Date.now)(), WINDOW_DAYS));
      const message = worseBy(results.get(trial.to), results.get(trial.from), this.deps.settings());
      if (!message) continue;
      this.judging.add(trial.id);
      try {
        await this.deps.updates.rollBackWorse(trial.id, trial.to, trial.from, message);
      } catch (err) {
        this.deps.logger.warn(`automatic rollback to ${trial.from} not possible: ${err instanceof Error ? err.message : String(err)}`, trial.id);
        continue;
      } finally {
        this.judging.delete(trial.id);
      }
      const event = { id: trial.id, from: trial.to, to: trial.from, message: `Rolled back ${trial.id} to ${trial.from}: ${message}` };
      this.deps.logger.warn(`${event.message}; ${trial.to} is held back until a newer version appears or you update to it`, trial.id);
      this._onDidRollBack.fire(event);
      made.push(event);
    }
    return made;
  }
}

/** Why `now` did worse than `before` ("3 of 5 generations failed with 1.1.0"), or undefined when it did not. */
function worseBy(now: VersionResults | undefined, before: VersionResults | undefined, s: AutoRollbackSettings): string | undefined {
  if (!now || !before || now.generations < s.minGenerations || before.generations === 0) return undefined;
  const rate = (r: VersionResults) => (100 * (r.generations - r.failed)) / r.generations;
  if (rate(before) - rate(now) >= s.successDropPoints) {
    return `${now.failed} of ${now.generations} generations failed with ${now.version} (${before.failed} of ${before.generations} with ${before.version})`;
  }
  if (now.medianMs !== undefined && before.medianMs !== undefined && before.medianMs > 0 && now.medianMs >= before.medianMs * (1 + s.slowerPercent / 100)) {
    return `generations took ${Math.round(now.medianMs)} ms (median) with ${now.version}, ${Math.round(before.medianMs)} ms with ${before.version}`;
  }
  return undefined;
}
