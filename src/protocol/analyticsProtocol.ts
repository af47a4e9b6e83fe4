/**
 * The one definition of every message between the extension host and the analytics webview.
 * Both sides check what arrives with these guards before acting on it.
 */
export interface ReadyMessage { readonly type: 'ready' }
export interface SummaryMessage {
  readonly type: 'summary';
  readonly modelCount: number;
  readonly catalogCount: number;
}

export type WebviewToHost = ReadyMessage;
export type HostToWebview = SummaryMessage;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function isWebviewToHost(v: unknown): v is WebviewToHost {
  return isRecord(v) && v.type === 'ready';
}

export function isHostToWebview(v: unknown): v is HostToWebview {
  return isRecord(v) && v.type === 'summary' && typeof v.modelCount === 'number' && typeof v.catalogCount === 'number';
}
