import * as vscode from 'vscode';

/** The extension's settings, read in one place so names and defaults are not scattered. */
export const SECTION = 'modelAvailability';

export function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

export function onDidChangeSetting(keys: readonly string[], listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (keys.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) listener();
  });
}

/**
 * VS Code routes node:http through its proxy and certificate settings (`http.proxySupport`); downloads keep
 * that unless it is off, when our direct client (less CPU per byte) goes the same way VS Code would.
 */
export function downloadTransport(): 'platform' | 'direct' {
  return vscode.workspace.getConfiguration('http').get<string>('proxySupport', 'override') === 'off' ? 'direct' : 'platform';
}
