import * as assert from 'node:assert/strict';
import { LEGACY_HF_KEY, TokenStore, type Secrets } from '../../../src/vscode/tokenStore';

/** SecretStorage's contract (get, store, delete by key) over a Map: what the store writes is what VS Code would keep. */
class MapSecrets implements Secrets {
  readonly map = new Map<string, string>();
  async get(key: string): Promise<string | undefined> { return this.map.get(key); }
  async store(key: string, value: string): Promise<void> { this.map.set(key, value); }
  async delete(key: string): Promise<void> { this.map.delete(key); }
}

describe('TokenStore (tokens per origin in SecretStorage)', () => {
  it('moves a Hugging Face token saved by an earlier version to the hub origin\'s entry, once', async () => {
    const secrets = new MapSecrets();
    secrets.map.set(LEGACY_HF_KEY, 'hf_old_token');
    const tokens = new TokenStore(secrets, {});
    assert.deepEqual(await tokens.get('https://huggingface.co'), { token: 'hf_old_token' });
    assert.equal(secrets.map.has(LEGACY_HF_KEY), false, 'the old key is gone');
    assert.deepEqual(await new TokenStore(secrets, {}).origins(), ['https://huggingface.co'], 'Clear Token… lists the hub');
    // With a mirror (HF_ENDPOINT), the old token becomes the mirror's: it was what the hub token meant then.
    const mirrored = new MapSecrets();
    mirrored.map.set(LEGACY_HF_KEY, 'hf_old_token');
    assert.deepEqual(await new TokenStore(mirrored, { HF_ENDPOINT: 'https://hf-mirror.example:8443/' }).get('https://hf-mirror.example:8443'), { token: 'hf_old_token' });
  });

  it('keeps one token per origin, gives it only to that origin, and falls back to HF_TOKEN for the hub only', async () => {
    const secrets = new MapSecrets();
    const tokens = new TokenStore(secrets, { HF_TOKEN: 'hf_env' });
    await tokens.store('http://127.0.0.1:8080', 'demo-token');
    assert.deepEqual(await tokens.get('http://127.0.0.1:8080'), { token: 'demo-token' });
    assert.equal(await tokens.get('http://127.0.0.1:8081'), undefined, 'another port is another origin');
    assert.equal(await tokens.get('https://127.0.0.1:8080'), undefined, 'another scheme is another origin');
    assert.deepEqual(await tokens.get('https://huggingface.co'), { token: 'hf_env' });
    await tokens.store('https://huggingface.co', 'hf_saved');
    assert.deepEqual(await tokens.get('https://huggingface.co'), { token: 'hf_saved' }, 'a saved token wins over HF_TOKEN');
    assert.deepEqual(await tokens.origins(), ['http://127.0.0.1:8080', 'https://huggingface.co']);
    await tokens.clear('http://127.0.0.1:8080');
    assert.deepEqual(await tokens.origins(), ['https://huggingface.co']);
    assert.equal(await tokens.get('http://127.0.0.1:8080'), undefined);
  });
});
