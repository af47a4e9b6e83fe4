import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { Disposable } from '../engine/base/lifecycle';
import { isWebviewToHost, type HostToWebview } from '../protocol/analyticsProtocol';
import type { CatalogService } from './catalogService';

/** The analytics webview panel: strict CSP with a nonce, assets only from dist/, theme colours only. */
export class AnalyticsPanel extends Disposable {
  static readonly viewType = 'modelAvailability.analytics';
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly catalogs: CatalogService) {
    super();
    this._register(catalogs.onDidChange(() => this.postSummary()));
    this._register({ dispose: () => this.panel?.dispose() });
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(AnalyticsPanel.viewType, 'Model Analytics', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'models.svg');
    panel.webview.html = this.html(panel.webview, dist);
    panel.webview.onDidReceiveMessage((msg: unknown) => {
      if (isWebviewToHost(msg) && msg.type === 'ready') this.postSummary();
    });
    panel.onDidDispose(() => { this.panel = undefined; });
  }

  private postSummary(): void {
    const message: HostToWebview = { type: 'summary', modelCount: this.catalogs.models.length, catalogCount: this.catalogs.result.origins.length };
    void this.panel?.webview.postMessage(message);
  }

  private html(webview: vscode.Webview, dist: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const csp = [`default-src 'none'`, `style-src ${webview.cspSource} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Model Analytics</title>
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 20px; }
  h1 { font-weight: 600; font-size: 1.4em; }
  #status { color: var(--vscode-descriptionForeground); }
</style>
</head>
<body>
<h1>Model Analytics</h1>
<p id="status" role="status" aria-live="polite">Loading…</p>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}
