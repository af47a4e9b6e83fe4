import * as vscode from 'vscode';
import { hfEndpoint, type Credential } from '../engine';

const KEY_PREFIX = 'modelAvailability.token:';
/** SecretStorage cannot list its keys (before VS Code 1.98): the origins with a token are kept here. */
const INDEX_KEY = 'modelAvailability.tokenOrigins';
/** Where versions before per-host tokens kept the Hugging Face token: migrated to the hub origin's entry. */
const LEGACY_HF_KEY = 'modelAvailability.huggingFaceToken';

/**
 * Tokens per origin (scheme://host:port) in VS Code's SecretStorage. The engine asks by origin and sends a
 * token only to its own origin, never after a redirect elsewhere. HF_TOKEN from the environment is the
 * hub's fallback.
 */
export class HostTokens {
  private migrated: Promise<void> | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** The Hugging Face hub's origin (HF_ENDPOINT, default https://huggingface.co). */
  get hubOrigin(): string {
    return new URL(hfEndpoint()).origin;
  }

  async get(origin: string): Promise<Credential | undefined> {
    await this.migrate();
    const token = (await this.secrets.get(KEY_PREFIX + origin)) ?? (origin === this.hubOrigin ? process.env.HF_TOKEN || undefined : undefined);
    return token ? { token } : undefined;
  }

  /** The origins that have a stored token. */
  async origins(): Promise<string[]> {
    await this.migrate();
    return this.readIndex();
  }

  /** Asks for the origin's token; true when one was saved. */
  async promptAndStore(origin: string): Promise<boolean> {
    const host = new URL(origin).host;
    const hub = origin === this.hubOrigin;
    const token = await vscode.window.showInputBox({
      title: hub ? 'Set Hugging Face Token' : `Set Token for ${host}`,
      prompt: `${hub ? 'A read token from huggingface.co/settings/tokens.' : `The token ${host} expects (sent as "Authorization: Bearer …").`} It is kept in VS Code's secret storage and sent only to ${origin}, never to another host.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/^\S{8,}$/.test(v.trim()) ? undefined : 'Paste the whole token (no spaces).'),
    });
    if (!token) return false;
    await this.store(origin, token.trim());
    return true;
  }

  async clear(origin: string): Promise<void> {
    await this.migrate();
    await this.secrets.delete(KEY_PREFIX + origin);
    await this.writeIndex((await this.readIndex()).filter((o) => o !== origin));
  }

  private async store(origin: string, token: string): Promise<void> {
    await this.migrate();
    await this.secrets.store(KEY_PREFIX + origin, token);
    const index = await this.readIndex();
    if (!index.includes(origin)) await this.writeIndex([...index, origin]);
  }

  private migrate(): Promise<void> {
    this.migrated ??= (async () => {
      const legacy = await this.secrets.get(LEGACY_HF_KEY);
      if (legacy === undefined) return;
      await this.secrets.store(KEY_PREFIX + this.hubOrigin, legacy);
      const index = await this.readIndex();
      if (!index.includes(this.hubOrigin)) await this.writeIndex([...index, this.hubOrigin]);
      await this.secrets.delete(LEGACY_HF_KEY);
    })();
    return this.migrated;
  }

  private async readIndex(): Promise<string[]> {
    try {
      const parsed: unknown = JSON.parse((await this.secrets.get(INDEX_KEY)) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((o): o is string => typeof o === 'string') : [];
    } catch {
      return [];
    }
  }

  private async writeIndex(origins: readonly string[]): Promise<void> {
    await this.secrets.store(INDEX_KEY, JSON.stringify(origins));
  }
}
