import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalyticsStore } from '../engine';
import { buildAnalyticsSnapshot, type ModelFacts } from '../engine';
import type { StoragePolicy } from '../engine';
import type { AnalyticsDatabase } from '../engine';
import { proposeCleanup } from '../engine';
import { usageSummary } from '../engine';
import { Disposable, throttled, type IDisposable } from '../engine';
import type { AvailabilityEngine } from '../engine';
import {
  isWebviewToHost, type AnalyticsSnapshot, type HostToWebview, type Period, type RecommendationAction, type RunActionMessage,
} from '../protocol/analyticsProtocol';

export interface AnalyticsPanelOptions {
  readonly extensionUri: vscode.Uri;
  readonly engine: AvailabilityEngine;
  /** Undefined when the analytics database could not be opened: the panel still shows storage. */
  readonly store: AnalyticsStore | undefined;
  /** The model store's folder, for the free space on its disk. */
  readonly storeRoot: string;
  /** The storage policy from settings, pinned models included (cleanupCommand's `storagePolicy`). */
  readonly policy: () => StoragePolicy;
}

/** The command each recommendation button runs, with the model id as its argument. */
const ACTION_COMMANDS: { readonly [A in RecommendationAction]: string } = {
  remove: 'modelAvailability.remove',
  download: 'modelAvailability.download',
  verify: 'modelAvailability.verify',
  openLogs: 'modelAvailability.openLogs',
  update: 'modelAvailability.updateModel',
};

/** Live updates: at most this often, however busy downloads and saves are. */
const MIN_POST_INTERVAL_MS = 500;

/**
 * The analytics webview panel (one at a time). Strict CSP with a nonce, assets only from dist/. It posts a
 * snapshot once the page says it is ready, and again when the store or the models change while it is open.
 * It is also its own serializer, so the panel comes back after a window reload.
 */
export class AnalyticsPanel extends Disposable implements vscode.WebviewPanelSerializer {
  static readonly viewType = 'modelAvailability.analytics';
  private panel: vscode.WebviewPanel | undefined;
  private panelListeners: IDisposable[] = [];
  /** Set by the page's ready message: nothing is posted before it. */
  private period: Period | undefined;
  private lastSnapshot: AnalyticsSnapshot | undefined;
  private readonly postSoon = this._register(throttled(MIN_POST_INTERVAL_MS, () => void this.post()));

  constructor(private readonly options: AnalyticsPanelOptions) {
    super();
    this._register(options.engine.onDidChangeModel(() => this.schedulePost()));
    this._register(options.engine.onDidChangeCatalog(() => this.schedulePost()));
    this._register(options.engine.updates.onDidFindUpdates(() => this.schedulePost()));
    if (options.store) this._register(options.store.onDidSave(() => this.schedulePost()));
    this._register(vscode.window.registerWebviewPanelSerializer(AnalyticsPanel.viewType, this));
    this._register({ dispose: () => this.panel?.dispose() });
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.adopt(vscode.window.createWebviewPanel(AnalyticsPanel.viewType, 'Model Analytics', vscode.ViewColumn.Active, this.webviewOptions()));
  }

  /** VS Code restores a panel that was open before a reload; the page restores its own tab and period (getState). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    if (this.panel) {
      // Only one analytics panel: a second restored one would show the same thing.
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.adopt(panel);
  }

  private webviewOptions(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.options.extensionUri, 'dist')] };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.period = undefined;
    panel.iconPath = vscode.Uri.joinPath(this.options.extensionUri, 'media', 'models.svg');
    panel.webview.html = this.html(panel.webview);
    this.panelListeners = [
      panel.webview.onDidReceiveMessage((msg: unknown) => this.onMessage(msg)),
      // A hidden webview is unloaded; when shown again its page sends a new ready message.
      panel.onDidChangeViewState(() => { if (!panel.visible) this.period = undefined; }),
      panel.onDidDispose(() => {
        this.panelListeners.forEach((d) => d.dispose());
        this.panelListeners = [];
        this.panel = undefined;
        this.period = undefined;
      }),
    ];
  }

  private onMessage(msg: unknown): void {
    if (!isWebviewToHost(msg)) return;
    switch (msg.type) {
      case 'ready':
        this.period = msg.period;
        // Other windows may have saved since: the reload's save event posts again if anything changed.
        void this.options.store?.reload().catch(() => undefined);
        void this.post();
        return;
      case 'setPeriod':
        this.period = msg.period;
        void this.post();
        return;
      case 'runAction':
        void this.runAction(msg);
        return;
    }
  }

  /** Runs a recommendation's command, but only for a recommendation the panel was actually shown. */
  private async runAction({ action, modelId, version }: RunActionMessage): Promise<void> {
    const snap = this.lastSnapshot;
    const offered = snap !== undefined && (
      action === 'remove' ? snap.cleanup.proposals.some((p) => p.modelId === modelId && p.version === version)
        : action === 'openLogs' ? snap.alerts.some((a) => a.modelId === modelId)
          : action === 'update' ? snap.updates.some((u) => u.modelId === modelId)
            : snap.preload.some((p) => p.modelId === modelId && p.action === action));
    if (!offered) {
      this.send({ type: 'actionFailed', modelId, message: 'This recommendation is out of date; the panel now shows the current ones.' });
      await this.post();
      return;
    }
    try {
      const row = version === null ? undefined : snap.cleanup.proposals.find((p) => p.modelId === modelId && p.version === version);
      // A previous version: the same command (and question) as Remove This Version in the Models view.
      if (action === 'remove' && row && version !== null) {
        await vscode.commands.executeCommand('modelAvailability.removeVersion', { model: { id: modelId, name: row.name }, version: { version, bytes: row.bytes } });
      } else await vscode.commands.executeCommand(ACTION_COMMANDS[action], modelId);
    } catch (err) {
      this.send({ type: 'actionFailed', modelId, message: err instanceof Error ? err.message : String(err) });
    }
    await this.post();
  }

  private schedulePost(): void {
    if (this.period !== undefined) this.postSoon.push();
  }

  private async post(): Promise<void> {
    // Called from events and timers: a failed query must not become an unhandled rejection.
    await this.postSnapshot().catch((err: unknown) => console.error('Model Availability: analytics panel update failed', err));
  }

  private async postSnapshot(): Promise<void> {
    const period = this.period;
    if (!this.panel || period === undefined) return;
    const snapshot = await this.snapshot(period);
    // The page may have gone, or asked for another period, while free space was measured.
    if (this.period !== period) return;
    this.lastSnapshot = snapshot;
    this.send({ type: 'snapshot', snapshot });
  }

  private async snapshot(period: Period): Promise<AnalyticsSnapshot> {
    const { engine, store } = this.options;
    const models: ModelFacts[] = engine.getModels().flatMap((m) => {
      const state = engine.getModelState(m.id);
      return state ? [{ id: m.id, name: m.name, state: state.state, bytesOnDisk: state.bytesOnDisk, files: state.files, installedVersion: state.installedVersion }] : [];
    });
    const freeBytes = await this.freeBytes();
    // What the last check found (no network here), and the rollbacks the store remembers.
    const updates = await engine.updates.offers();
    const rollbacks = engine.updates.rollbacksMade();
    const now = Date.now();
    const policy = this.options.policy();
    // The same plan as Clean Up Storage… shows, so the panel never proposes something the command would not.
    const cleanup = await proposeCleanup(engine, store ? store.read((db) => usageSummary(db, now, 'all')) : new Map(), policy, now);
    const build = (db: AnalyticsDatabase | undefined) => buildAnalyticsSnapshot({
      db, recordingEnabled: store?.enabled ?? false, now, period, models, freeBytes, updates, rollbacks, cleanup,
    });
    return store ? store.read(build) : build(undefined);
  }

  private async freeBytes(): Promise<number | undefined> {
    try {
      const s = await fs.statfs(this.options.storeRoot);
      return s.bavail * s.bsize;
    } catch {
      // The store folder may not exist before the first download.
      return undefined;
    }
  }

  private send(message: HostToWebview): void {
    void this.panel?.webview.postMessage(message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const dist = vscode.Uri.joinPath(this.options.extensionUri, 'dist');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const styles = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
    const csp = [
      `default-src 'none'`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Model Analytics</title>
<link rel="stylesheet" href="${styles.toString()}">
</head>
<body>
<main id="app" aria-busy="true"><h1>Model Analytics</h1><p role="status">Loading…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}
