import { Emitter } from '../engine';
import { Disposable } from '../engine';
import type { AnalyticsStore } from '../engine';
import { usageSummary, type ModelUseSummary } from '../engine';

/** Each model's use count and last use, re-read after each analytics save (not on every tree refresh). */
export class UsageIndex extends Disposable {
  private index: ReadonlyMap<string, ModelUseSummary> = new Map();
  private readonly changed = this._register(new Emitter<void>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly store: AnalyticsStore | undefined) {
    super();
    if (!store) return;
    this.reindex();
    this._register(store.onDidSave(() => this.reindex()));
  }

  get(id: string): ModelUseSummary | undefined {
    return this.index.get(id);
  }

  get all(): ReadonlyMap<string, ModelUseSummary> {
    return this.index;
  }

  private reindex(): void {
    if (!this.store) return;
    this.index = this.store.read((db) => usageSummary(db, Date.now(), 'all'));
    this.changed.fire();
  }
}
