import * as vscode from 'vscode';

const SECRET_KEY = 'modelAvailability.huggingFaceToken';

/** The Hugging Face token lives in VS Code's SecretStorage; HF_TOKEN from the environment is the fallback. */
export class HuggingFaceToken {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(): Promise<string | undefined> {
    return (await this.secrets.get(SECRET_KEY)) ?? (process.env.HF_TOKEN || undefined);
  }

  async promptAndStore(): Promise<boolean> {
    const token = await vscode.window.showInputBox({
      title: 'Set Hugging Face Token',
      prompt: 'A read token from huggingface.co/settings/tokens. It is kept in VS Code\'s secret storage and sent only to the Hugging Face hub.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/^\S{8,}$/.test(v.trim()) ? undefined : 'Paste the whole token (no spaces).'),
    });
    if (!token) return false;
    await this.secrets.store(SECRET_KEY, token.trim());
    return true;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
  }
}
