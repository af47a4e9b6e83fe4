import { Disposable, toDisposable } from '../engine';
import type { AnalyticsStore } from '../engine';
import { availabilityOf, PRELOAD_MIN_USES } from '../engine';
import { preloadSuggestions, type ModelAvailabilityState } from '../engine';
import { usageSummary } from '../engine';
import type { AvailabilityEngine } from '../engine';
import type { ExtensionLog } from './logs';
import { setting, onDidChangeSetting } from './settings';

const MIN_INTERVAL_MS = 10 * 60_000;

/**
 * `modelAvailability.preload.auto`: downloads (at low priority) or verifies the frequently used models that
 * are missing or unverified — what the analytics panel suggests — without asking. Runs when turned on, after
 * start-up, and after usage is saved, at most every ten minutes.
 */
export class AutoPreload extends Disposable {
  private lastRun = 0;

  constructor(private readonly engine: AvailabilityEngine, private readonly store: AnalyticsStore, private readonly log: ExtensionLog) {
    super();
    this._register(store.onDidSave(() => void this.run()));
    this._register(onDidChangeSetting(['preload.auto'], () => { this.lastRun = 0; void this.run(); }));
    // Not during activation: let the window settle first.
    const timer = setTimeout(() => void this.run(), 30_000);
    this._register(toDisposable(() => clearTimeout(timer)));
  }

  async run(): Promise<void> {
    if (!setting('preload.auto') || Date.now() - this.lastRun < MIN_INTERVAL_MS) return;
    this.lastRun = Date.now();
    const usage = this.store.read((db) => usageSummary(db, Date.now(), 30));
    const states = new Map<string, ModelAvailabilityState>();
    for (const s of this.engine.getModelStates()) {
      const a = availabilityOf(s);
      if (a) states.set(s.id, a);
    }
    for (const p of preloadSuggestions(usage, states, PRELOAD_MIN_USES)) {
      if (this.isDisposed) return;
      this.log.info(`preload: ${p.action === 'download' ? 'downloading' : 'verifying'} (used ${p.useCount} times in 30 days)`, p.modelId);
      if (p.action === 'download') this.engine.download([p.modelId], 'low');
      else await this.engine.integrity.verify(p.modelId, { pauseBetweenPiecesMs: 5 }).catch((err: Error) => this.log.warn(`preload verify failed: ${err.message}`, p.modelId));
    }
  }
}
