import { Disposable } from '../../core/lifecycle';
import type { ModelEntry } from '../../catalog/catalogTypes';
import type { AvailabilityEngine, ModelState } from '../../availability/engine';
import { rankAlternatives, type RankedAlternative } from './compatibility';
import { ModelLease, type GenerationHandle, type GenerationResult, type LeaseGrant, type LeaseUpgrade } from './lease';
import { NO_USAGE_RECORDER, type UsageRecorder } from './usageEvents';

export type FallbackStrategy = 'ask' | 'alternative' | 'queue' | 'mock' | 'downloadAndRetry';
export type ResolvedStrategy = Exclude<FallbackStrategy, 'ask'>;

export interface RequestOptions {
  readonly fallback?: FallbackStrategy;
  readonly signal?: AbortSignal;
  /** Called whenever the wait estimate for a queued request changes. */
  readonly onWaitEstimate?: (etaSeconds: number) => void;
}

/** What "ask" offers a person; the VS Code side shows it as a quick pick, headless callers pick for themselves. */
export interface FallbackChoices {
  readonly requested: ModelEntry;
  readonly alternatives: readonly RankedAlternative[];
  readonly waitEstimateSeconds?: number;
}
export type FallbackChooser = (choices: FallbackChoices) => Promise<{ strategy: ResolvedStrategy; alternativeId?: string } | undefined>;

export interface RequestSettings {
  readonly strategy: FallbackStrategy;
  readonly minCompatibility: number;
  readonly autoDownload: boolean;
}

export class RequestCancelledError extends Error {
  constructor(id: string) { super(`the request for ${id} was cancelled`); this.name = 'AbortError'; }
}

/**
 * One call for whoever needs a model: the model itself when it is ready, otherwise the fallback strategy's
 * honest answer. Tracks leases (so leased models are not removed) and generations (so downloads can pause).
 */
export class ModelRequests extends Disposable {
  private readonly leases = new Set<ModelLease>();

  constructor(
    private readonly engine: AvailabilityEngine,
    private readonly settings: () => RequestSettings,
    private readonly chooser: FallbackChooser,
    private readonly usage: UsageRecorder = NO_USAGE_RECORDER,
  ) {
    super();
    // Upgrade mock and alternative leases as soon as what they asked for is ready.
    this._register(engine.onDidFinish(({ id }) => {
      for (const lease of this.leases) {
        if (lease.requestedId === id && lease.mode !== 'ready') {
          const grant = this.readyGrant(id);
          if (grant) lease.upgradeTo(grant);
        }
      }
    }));
    // Leases keep the paths they were given; they learn that new requests now get another version.
    this._register(engine.updates.onDidSwitch(({ id, to }) => {
      for (const lease of this.leases) if (lease.modelId === id) lease.newerVersionInstalled(to);
    }));
  }

  /** Leases held now, mocks included. */
  get leaseCount(): number { return this.leases.size; }

  async requestModel(id: string, options: RequestOptions = {}): Promise<ModelLease> {
    const requested = this.engine.getModels().find((m) => m.id === id);
    if (!requested) throw new Error(`no catalog lists a model with id '${id}'; check the id or add the model to a catalog`);
    const settings = this.settings();
    const strategy = options.fallback ?? settings.strategy;
    this.usage.record({ kind: 'request', modelId: id, strategy });
    const started = Date.now();
    const ready = this.readyGrant(id);
    if (ready) return this.grant(id, ready, undefined, started);

    let chosen: { strategy: ResolvedStrategy; alternativeId?: string };
    const alternatives = () => rankAlternatives(requested, this.readyModels(), settings.minCompatibility);
    if (strategy === 'ask') {
      const picked = await this.chooser({ requested, alternatives: alternatives(), waitEstimateSeconds: this.eta(this.engine.getModelState(id)) });
      if (!picked) throw new RequestCancelledError(id);
      chosen = picked;
    } else {
      chosen = { strategy };
    }

    switch (chosen.strategy) {
      case 'alternative': {
        const ranked = alternatives();
        const alt = ranked.find((a) => a.model.id === chosen.alternativeId) ?? ranked[0];
        if (!alt) {
          throw new Error(`${requested.name} is not downloaded and no ready model is compatible enough (minimum ${settings.minCompatibility}); download it, or lower modelAvailability.fallback.minCompatibility`);
        }
        if (settings.autoDownload) this.startDownload(id);
        const grant = this.readyGrant(alt.model.id, 'alternative', alt.compatibility.score, alt.qualityDelta);
        if (!grant) throw new Error(`${alt.model.name} stopped being ready; request again`);
        this.usage.record({ kind: 'fallback', modelId: alt.model.id, requestedId: id, mode: 'alternative', compatibility: alt.compatibility.score });
        return this.grant(id, grant, settings.autoDownload ? this.upgradeInfo(id) : undefined, started);
      }
      case 'mock': {
        this.startDownload(id);
        this.usage.record({ kind: 'fallback', modelId: id, requestedId: id, mode: 'mock' });
        return this.grant(id, { modelId: id, paths: [], mode: 'mock' }, this.upgradeInfo(id), started);
      }
      case 'queue':
      case 'downloadAndRetry': {
        const attempts = chosen.strategy === 'downloadAndRetry' ? 3 : 1;
        for (let attempt = 1; ; attempt++) {
          this.startDownload(id);
          try {
            await this.waitUntilReady(id, options);
            break;
          } catch (err) {
            if (err instanceof RequestCancelledError || attempt >= attempts) throw err;
          }
        }
        const grant = this.readyGrant(id);
        if (!grant) throw new Error(`${requested.name} finished downloading but is not ready; run Verify Model`);
        return this.grant(id, grant, undefined, started);
      }
    }
  }

  /** A lease holds its model in the engine's use guard (a mock holds nothing); an upgrade moves the hold. */
  private grant(requestedId: string, grant: LeaseGrant, upgrade: LeaseUpgrade | undefined, started: number): ModelLease {
    const hold = (g: LeaseGrant) => (g.mode === 'mock' ? undefined : this.engine.uses.register({ kind: 'lease', modelId: g.modelId, version: g.version }));
    let held = hold(grant);
    const lease = new ModelLease(requestedId, grant, upgrade, {
      beginGeneration: (l) => this.beginGeneration(l),
      upgraded: (g) => { held?.dispose(); held = hold(g); },
      recordGeneration: (l, result) => this.recordGeneration(l, result),
      release: (l) => {
        this.leases.delete(l);
        held?.dispose();
        this.usage.record({ kind: 'release', modelId: l.modelId, heldMs: Date.now() - l.grantedAt });
      },
    });
    this.leases.add(lease);
    this.usage.record({ kind: 'grant', modelId: grant.modelId, requestedId, mode: grant.mode, waitedMs: Date.now() - started });
    return lease;
  }

  private beginGeneration(lease: ModelLease): GenerationHandle {
    const started = Date.now();
    // The guard pauses downloads meanwhile (pauseDuringGeneration) and keeps the model from being changed.
    const running = this.engine.uses.register({ kind: 'generation', modelId: lease.modelId, version: lease.version });
    let ended = false;
    return {
      end: (result) => {
        if (ended) return;
        ended = true;
        running.dispose();
        this.recordGeneration(lease, { ...result, durationMs: result.durationMs ?? Date.now() - started });
      },
    };
  }

  private recordGeneration(lease: ModelLease, result: GenerationResult & { readonly durationMs: number }): void {
    this.usage.record({ kind: 'generation', modelId: lease.modelId, version: lease.version, ok: result.ok, durationMs: result.durationMs, units: result.units });
  }

  private readyModels(): ModelEntry[] {
    return this.engine.getModels().filter((m) => this.engine.getModelState(m.id)?.state === 'ready');
  }

  private readyGrant(id: string, mode: LeaseGrant['mode'] = 'ready', compatibility?: number, qualityDelta?: number): LeaseGrant | undefined {
    const s = this.engine.getModelState(id);
    if (s?.state !== 'ready') return undefined;
    return { modelId: id, version: s.installedVersion ?? undefined, paths: s.files.map((f) => f.localPath), mode, compatibility, qualityDelta };
  }

  private startDownload(id: string): void {
    const s = this.engine.getModelState(id);
    if (s && (s.state === 'missing' || s.state === 'failed')) this.engine.download([id]);
    else if (s?.state === 'paused') this.engine.downloads.resume(id);
  }

  private eta(s: ModelState | undefined): number | undefined {
    if (!s) return undefined;
    if (s.state === 'downloading') return s.progress?.etaSeconds;
    if (s.state === 'queued') return s.waitEstimateSeconds;
    return undefined;
  }

  private upgradeInfo(id: string): LeaseUpgrade {
    return { modelId: id, etaSeconds: this.eta(this.engine.getModelState(id)) };
  }

  /** Resolves when the model is downloaded and verified; rejects when its download fails or the caller cancels. */
  private waitUntilReady(id: string, options: RequestOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const subs: { dispose(): void }[] = [];
      const done = (err?: Error) => {
        for (const s of subs.splice(0)) s.dispose();
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err); else resolve();
      };
      const onAbort = () => done(new RequestCancelledError(id));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort);
      let lastEta: number | undefined;
      let underway = false;
      subs.push(this.engine.onDidChangeModel((e) => {
        if (e.id !== id) return;
        const s = this.engine.getModelState(id);
        // The model left every catalog, or its download was cancelled: nothing is coming any more.
        if (!s) return done(new Error(`${id} is no longer in any catalog`));
        if (s.state === 'queued' || s.state === 'downloading' || s.state === 'paused') underway = true;
        else if (s.state === 'missing' && underway) return done(new RequestCancelledError(id));
        const eta = this.eta(s);
        if (eta !== undefined && eta !== lastEta) { lastEta = eta; options.onWaitEstimate?.(eta); }
        if (s.state === 'ready') done();
      }));
      subs.push(this.engine.onDidFinish((e) => { if (e.id === id) done(); }));
      subs.push(this.engine.onDidFail((e) => { if (e.id === id) done(new Error(`${id} could not be downloaded: ${e.reason}`)); }));
      if (this.engine.getModelState(id)?.state === 'ready') done();
    });
  }
}
