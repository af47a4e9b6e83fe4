import * as vscode from 'vscode';
import { TokenStore } from './tokenStore';

/** The token store plus VS Code's prompt for a token: a password box that says where the token will go. */
export class HostTokens extends TokenStore {
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
}
