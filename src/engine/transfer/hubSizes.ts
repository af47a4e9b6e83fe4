import type { ModelEntry } from '../catalog/catalogTypes';
import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import { DownloadError } from '../core/downloadError';
import { Emitter, type Event } from '../core/event';
import { Disposable } from '../core/lifecycle';
import { hfEndpoint, hubFileSizes } from './http/huggingFace';
import type { CredentialLookup } from './http/httpClient';
import { NULL_LOGGER, type Logger } from './settings';

/** Sizes are looked up again after this long: a branch such as `main` may have moved. */
const FRESH_MS = 7 * 24 * 3600_000;

interface CachedRepo {
  readonly files: Record<string, number>;
  readonly resolvedAt: string;
}

interface SizeCache {
  readonly formatVersion: 1;
  /** Keyed by endpoint, repo and revision. */
  readonly repos: Record<string, CachedRepo>;
}

export interface HubSizesOptions {
  /** Where the sizes are kept between sessions (the extension's global storage). */
  readonly cacheFile: string;
  readonly endpoint?: string;
  /** The same credential lookup the downloads use; the hub origin's credential is sent to the hub only. */
  readonly credentials?: CredentialLookup;
  readonly logger?: Logger;
}

/**
 * The sizes of Hugging Face files the catalog gives no size for, so a model shows its size before it is
 * downloaded: one request per repository and revision, cached on disk, looked up in the background.
 */
export class HubSizes extends Disposable {
  private repos = new Map<string, CachedRepo>();
  private loaded: Promise<void> | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly endpoint: string;
  private readonly logger: Logger;
  private readonly _onDidChange = this._register(new Emitter<void>());
  /** New sizes are known. */
  readonly onDidChange: Event<void> = this._onDidChange.event;

  constructor(private readonly options: HubSizesOptions) {
    super();
    this.endpoint = options.endpoint ?? hfEndpoint();
    this.logger = options.logger ?? NULL_LOGGER;
  }

  /** The model's total size from the catalog and the cached hub sizes; undefined while any file's is unknown. */
  sizeOf(model: ModelEntry): number | undefined {
    let sum = 0;
    for (const f of model.files) {
      const size = f.size ?? (f.source.kind === 'hf' ? this.repos.get(this.key(f.source.repo, f.source.revision))?.files[f.source.file] : undefined);
      if (size === undefined) return undefined;
      sum += size;
    }
    return sum;
  }

  /** Looks up the repositories these models need sizes from (one at a time, after the previous run). */
  resolve(models: readonly ModelEntry[], signal?: AbortSignal): Promise<void> {
    this.running = this.running.then(() => this.resolveNow(models, signal));
    return this.running;
  }

  private async resolveNow(models: readonly ModelEntry[], signal?: AbortSignal): Promise<void> {
    await (this.loaded ??= this.load());
    const wanted = new Map<string, { repo: string; revision: string }>();
    for (const m of models) {
      for (const f of m.files) {
        if (f.size !== undefined || f.source.kind !== 'hf') continue;
        const key = this.key(f.source.repo, f.source.revision);
        const cached = this.repos.get(key);
        if (cached && Date.now() - Date.parse(cached.resolvedAt) < FRESH_MS) continue;
        wanted.set(key, { repo: f.source.repo, revision: f.source.revision });
      }
    }
    if (wanted.size === 0) return;
    const origin = new URL(this.endpoint).origin;
    const credential = await this.options.credentials?.(origin);
    const auth = credential ? { ...credential, origin } : undefined;
    let found = 0;
    for (const [key, { repo, revision }] of wanted) {
      if (signal?.aborted || this.isDisposed) return;
      try {
        const sizes = await hubFileSizes(repo, revision, { endpoint: this.endpoint, auth, signal });
        this.repos.set(key, { files: Object.fromEntries(sizes), resolvedAt: new Date().toISOString() });
        found++;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // Offline (or the hub unreachable): the others would fail the same way; try again next time.
        if (err instanceof DownloadError && err.kind === 'retryable') {
          this.logger.info(`model sizes not looked up now (${message}); they show once a model is downloaded or the hub is reachable`);
          break;
        }
        this.logger.info(`no sizes for ${repo}@${revision}: ${message}`);
      }
    }
    if (found === 0) return;
    this._onDidChange.fire();
    const cache: SizeCache = { formatVersion: 1, repos: Object.fromEntries(this.repos) };
    await writeJsonAtomic(this.options.cacheFile, cache).catch((err: unknown) => this.logger.warn(`the model size cache could not be saved: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async load(): Promise<void> {
    const cache = await readJsonIfPresent(this.options.cacheFile) as Partial<SizeCache> | undefined;
    if (cache?.formatVersion !== 1 || typeof cache.repos !== 'object' || cache.repos === null) return;
    for (const [key, repo] of Object.entries(cache.repos)) {
      if (typeof repo?.resolvedAt === 'string' && typeof repo.files === 'object' && repo.files !== null) this.repos.set(key, repo);
    }
    if (this.repos.size > 0) this._onDidChange.fire();
  }

  private key(repo: string, revision: string): string {
    return `${this.endpoint} ${repo}@${revision}`;
  }
}
