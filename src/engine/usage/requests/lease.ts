import { Emitter, type Event } from '../../core/event';

export type LeaseMode = 'ready' | 'alternative' | 'mock';

export interface GenerationResult {
  readonly ok: boolean;
  readonly durationMs?: number;
  /** Throughput in the caller's units (e.g. tokens), over the generation's duration. */
  readonly units?: number;
}

export interface GenerationHandle {
  end(result: GenerationResult): void;
}

export interface LeaseUpgrade {
  readonly modelId: string;
  readonly etaSeconds?: number;
}

/** What a lease grants; `paths` is empty for a mock. */
export interface LeaseGrant {
  readonly modelId: string;
  /** The installed version the paths belong to (none for a mock). */
  readonly version?: string;
  readonly paths: readonly string[];
  readonly mode: LeaseMode;
  readonly compatibility?: number;
  readonly qualityDelta?: number;
}

export interface LeaseHooks {
  beginGeneration(lease: ModelLease): GenerationHandle;
  /** The lease now holds another model. */
  upgraded(grant: LeaseGrant): void;
  recordGeneration(lease: ModelLease, result: GenerationResult & { readonly durationMs: number }): void;
  release(lease: ModelLease): void;
}

/** A granted model, held until released: while held, the model is not removed, moved or repaired in place. */
export class ModelLease {
  private grant: LeaseGrant;
  private released = false;
  private readonly _onDidUpgrade = new Emitter<LeaseGrant>();
  /** Fires once when the requested model becomes ready for a mock or alternative lease. */
  readonly onDidUpgrade: Event<LeaseGrant> = this._onDidUpgrade.event;
  private readonly _onDidInstallNewerVersion = new Emitter<{ readonly modelId: string; readonly version: string }>();
  /**
   * Another version of the leased model was installed: this lease keeps its paths until released; request
   * the model again for the new version.
   */
  readonly onDidInstallNewerVersion: Event<{ readonly modelId: string; readonly version: string }> = this._onDidInstallNewerVersion.event;
  upgrade: LeaseUpgrade | undefined;
  readonly grantedAt = Date.now();

  constructor(readonly requestedId: string, grant: LeaseGrant, upgrade: LeaseUpgrade | undefined, private readonly hooks: LeaseHooks) {
    this.grant = grant;
    this.upgrade = upgrade;
  }

  get modelId(): string { return this.grant.modelId; }
  get paths(): readonly string[] { return this.grant.paths; }
  get version(): string | undefined { return this.grant.version; }
  get mode(): LeaseMode { return this.grant.mode; }
  get compatibility(): number | undefined { return this.grant.compatibility; }
  get qualityDelta(): number | undefined { return this.grant.qualityDelta; }
  get isReleased(): boolean { return this.released; }

  beginGeneration(): GenerationHandle {
    if (this.released) throw new Error(`the lease on ${this.modelId} was released; request the model again`);
    return this.hooks.beginGeneration(this);
  }

  /** Records a generation that already ran and was timed by the caller (the local API): downloads do not pause for it. */
  recordGeneration(result: GenerationResult & { readonly durationMs: number }): void {
    if (this.released) throw new Error(`the lease on ${this.modelId} was released; request the model again`);
    this.hooks.recordGeneration(this, result);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.hooks.release(this);
    this._onDidUpgrade.dispose();
    this._onDidInstallNewerVersion.dispose();
  }

  /** Told by ModelRequests when the model's installed version changed under this lease. */
  newerVersionInstalled(version: string): void {
    if (!this.released && this.mode !== 'mock' && version !== this.version) this._onDidInstallNewerVersion.fire({ modelId: this.modelId, version });
  }

  /** Switches the lease to the model that was asked for, now that it is ready. */
  upgradeTo(grant: LeaseGrant): void {
    if (this.released) return;
    this.grant = grant;
    this.upgrade = undefined;
    this.hooks.upgraded(grant);
    this._onDidUpgrade.fire(grant);
  }
}
