import * as vscode from 'vscode';
import type { AvailabilityEngine } from '../engine';
import type { HostTokens } from './hostTokens';

type Register = (id: string, fn: (...args: unknown[]) => unknown) => void;

interface OriginPick extends vscode.QuickPickItem { readonly origin?: string }

/**
 * Set Token for a Host… (from a 401/403 notification with its origin, or from the palette with a pick of the
 * catalogs' hosts), Set Hugging Face Token (the hub's entry), Clear Token… (the hosts that have one).
 */
export function registerTokenCommands(register: Register, engine: AvailabilityEngine, tokens: HostTokens): void {
  const saved = (origin: string): void => {
    void vscode.window.showInformationMessage(`Token for ${new URL(origin).host} saved in VS Code's secret storage. It is sent only to ${origin}.`);
  };
  // Each returns whether a token was saved, so a "Set Token" action can retry the download it was offered for.
  const setToken = async (origin: string): Promise<boolean> => {
    const ok = await tokens.promptAndStore(origin);
    if (ok) saved(origin);
    return ok;
  };
  register('setToken', async (arg) => {
    const origin = typeof arg === 'string' ? originOf(arg) : await pickOrigin(engine, tokens);
    return origin ? setToken(origin) : false;
  });
  register('setHuggingFaceToken', () => setToken(tokens.hubOrigin));
  register('clearToken', async () => {
    const origins = await tokens.origins();
    if (origins.length === 0) {
      void vscode.window.showInformationMessage('No host has a token in VS Code\'s secret storage.');
      return;
    }
    const picked = await vscode.window.showQuickPick(origins.map((o) => ({ label: new URL(o).host, description: o === tokens.hubOrigin ? `${o} · the Hugging Face hub` : o, origin: o })), {
      title: 'Clear Token', placeHolder: 'The token of which host should be removed?', canPickMany: true,
    });
    for (const p of picked ?? []) await tokens.clear(p.origin);
    if (picked?.length) void vscode.window.showInformationMessage(`Token removed for ${picked.map((p) => p.label).join(', ')}.`);
  });
}

/** The hosts the catalogs download from, the hub, and any other host typed in. */
async function pickOrigin(engine: AvailabilityEngine, tokens: HostTokens): Promise<string | undefined> {
  const stored = new Set(await tokens.origins());
  const origins = new Set<string>([tokens.hubOrigin]);
  for (const m of engine.getModels()) for (const f of m.files) if (f.source.kind === 'url') origins.add(originOf(f.source.url) ?? '');
  origins.delete('');
  const items: OriginPick[] = [...origins].map((o) => ({ label: new URL(o).host, description: stored.has(o) ? `${o} · has a token` : o, origin: o }));
  items.push({ label: 'Another host…' });
  const picked = await vscode.window.showQuickPick(items, { title: 'Set Token for a Host', placeHolder: 'Which host is the token for?' });
  if (!picked) return undefined;
  if (picked.origin) return picked.origin;
  const typed = await vscode.window.showInputBox({
    title: 'Set Token for a Host', prompt: 'The host\'s address, e.g. https://models.example.com', ignoreFocusOut: true,
    validateInput: (v) => (originOf(v.trim()) ? undefined : 'An http(s) address, e.g. https://models.example.com'),
  });
  return typed ? originOf(typed.trim()) : undefined;
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}
