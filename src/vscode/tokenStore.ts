import { hfEndpoint, type Credential } from '../engine';

/** What the store needs of VS Code's SecretStorage (kept to these three, so it is usable without VS Code). */
export interface Secrets {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

const KEY_PREFIX = 'modelAvailability.token:';
/** SecretStorage cannot list its keys (before VS Code 1.98): the origins with a token are kept here. */
const INDEX_KEY = 'modelAvailability.tokenOrigins';
/** Where versions before per-host tokens kept the Hugging Face token: migrated to the hub origin's entry. */
export const LEGACY_HF_KEY = 'modelAvailability.huggingFaceToken';

/**
 * Tokens per origin (scheme://host:port) in SecretStorage. The engine asks by origin and sends a token only
 * to its own origin, never after a redirect elsewhere. HF_TOKEN from the environment is the hub's fallback.
 */
export class TokenStore {
  private migrated: Promise<void> | undefined;

  constructor(private readonly secrets: Secrets, private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** The Hugging Face hub's origin (HF_ENDPOINT, default https://huggingface.co). */
  get hubOrigin(): string {
    return new URL(hfEndpoint(this.env)).origin;
  }

  async get(origin: string): Promise<Credential | undefined> {
    await this.migrate();
    const token = (await this.secrets.get(KEY_PREFIX + origin)) ?? (origin === this.hubOrigin ? this.env.HF_TOKEN || undefined : undefined);
    return token ? { token } : undefined;
  }

  /** The origins that have a stored token. */
  async origins(): Promise<string[]> {
    await this.migrate();
    return this.readIndex();
  }

  async store(origin: string, token: string): Promise<void> {
    await this.migrate();
    await this.secrets.store(KEY_PREFIX + origin, token);
    await this.addToIndex(origin);
  }

  async clear(origin: string): Promise<void> {
    await this.migrate();
    await this.secrets.delete(KEY_PREFIX + origin);
    await this.secrets.store(INDEX_KEY, JSON.stringify((await this.readIndex()).filter((o) => o !== origin)));
  }

  private migrate(): Promise<void> {
    this.migrated ??= (async () => {
      const legacy = await this.secrets.get(LEGACY_HF_KEY);
      if (legacy === undefined) return;
      await this.secrets.store(KEY_PREFIX + this.hubOrigin, legacy);
      await this.addToIndex(this.hubOrigin);
      await this.secrets.delete(LEGACY_HF_KEY);
    })();
    return this.migrated;
  }

  private async addToIndex(origin: string): Promise<void> {
    const index = await this.readIndex();
    if (!index.includes(origin)) await this.secrets.store(INDEX_KEY, JSON.stringify([...index, origin]));
  }

  private async readIndex(): Promise<string[]> {
    try {
      const parsed: unknown = JSON.parse((await this.secrets.get(INDEX_KEY)) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((o): o is string => typeof o === 'string') : [];
    } catch {
      return [];
    }
  }
}
