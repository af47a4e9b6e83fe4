/**
 * The API other extensions get from
 * `await vscode.extensions.getExtension<ModelAvailabilityApi>('model-availability.model-availability')?.activate()`.
 * Types only: this file imports neither vscode nor the engine, and is published as dist/api.d.ts.
 */

export type ModelStateName = 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';
export type FallbackStrategy = 'ask' | 'alternative' | 'queue' | 'mock' | 'downloadAndRetry';

export interface ModelSummary {
  readonly id: string;
  readonly name: string;
  /** The catalog's version. */
  readonly version: string;
  /** The version on disk that requests get; null when nothing usable is installed. */
  readonly installedVersion: string | null;
  /** The version an update would bring, or null (up to date, not installed, or held). */
  readonly updateAvailable: string | null;
  readonly task?: string;
  readonly state: ModelStateName;
  /** Local file paths when ready. */
  readonly paths: readonly string[];
  readonly progress?: { readonly bytesDone: number; readonly total?: number; readonly etaSeconds?: number };
  readonly waitEstimateSeconds?: number;
}

export interface Unsubscribe { dispose(): void }

export interface RequestModelOptions {
  /** Overrides `modelAvailability.fallback.strategy` for this request. */
  readonly fallback?: FallbackStrategy;
  /** Cancels a request that is waiting (queue, download-and-retry, or the "ask" prompt). */
  readonly signal?: AbortSignal;
  /** Called whenever a waiting request's estimate changes. */
  readonly onWaitEstimate?: (etaSeconds: number) => void;
}

export interface GenerationHandle {
  /** Records one generation: its success, duration (measured since beginGeneration unless given) and optional throughput units. */
  end(result: { ok: boolean; durationMs?: number; units?: number }): void;
}

export interface ModelLease {
  /** The model actually granted. */
  readonly modelId: string;
  /** Its local file paths; empty for a mock. */
  readonly paths: readonly string[];
  readonly requestedId: string;
  readonly mode: 'ready' | 'alternative' | 'mock';
  /** For an alternative: 0–100. */
  readonly compatibility?: number;
  /** For an alternative: granted quality minus requested quality, e.g. -0.12. */
  readonly qualityDelta?: number;
  /** When the requested model is still coming. */
  readonly upgrade?: { readonly modelId: string; readonly etaSeconds?: number };
  /** Fires when the requested model is ready; the lease then grants it (mode 'ready'). */
  onDidUpgrade(listener: (grant: { modelId: string; paths: readonly string[] }) => void): Unsubscribe;
  /** The version the paths belong to (none for a mock). */
  readonly version?: string;
  /**
   * Fires when another version of the leased model is installed (an update or a rollback): this lease keeps
   * its paths until released; request the model again to get the new version.
   */
  onDidInstallNewerVersion(listener: (e: { modelId: string; version: string }) => void): Unsubscribe;
  /** Call around each generation: downloads pause meanwhile when `download.pauseDuringGeneration` is on. */
  beginGeneration(): GenerationHandle;
  /** Lets the model go (it can then be removed or repaired). Also done by dispose(), so a lease can sit in context.subscriptions. */
  release(): void;
  dispose(): void;
}

export interface ModelAvailabilityStatus {
  readonly models: readonly ModelSummary[];
  readonly activeDownloads: number;
  readonly queuedDownloads: number;
  readonly leases: number;
  readonly generationsRunning: number;
}

export interface ModelAvailabilityApi {
  readonly apiVersion: 1;
  /** The model you asked for when it is ready, otherwise what the fallback strategy grants. */
  requestModel(id: string, options?: RequestModelOptions): Promise<ModelLease>;
  /** Every model of the merged catalogs, with its current state. */
  getModels(): readonly ModelSummary[];
  getStatus(): ModelAvailabilityStatus;
  /** Fires when the catalogs or any model's state change (a few times a second at most). */
  onDidChangeModels(listener: () => void): Unsubscribe;
}
