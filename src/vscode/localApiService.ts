import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable, type AnalyticsStore, type AvailabilityEngine, type ModelRequests, type StoragePolicy } from '../engine';
import { loadOrCreateToken, LocalApiServer, portOwner } from '../localApi';
import type { DownloadStatus } from './downloadStatus';
import type { ExtensionLog } from './logs';
import { onDidChangeSetting, setting } from './settings';

export interface LocalApiDeps {
  readonly context: vscode.ExtensionContext;
  readonly engine: AvailabilityEngine;
  readonly requests: ModelRequests;
  readonly analytics: AnalyticsStore | undefined;
  readonly storeRoot: string;
  readonly storagePolicy: () => StoragePolicy;
  readonly log: ExtensionLog;
  readonly status: DownloadStatus;
}

/** A taken port is tried again this often: another window's server is taken over within about 10 s of it closing. */
const RETRY_MS = 5_000;

/**
 * `modelAvailability.api.*`: serves the local API from this window while enabled. Only one process can
 * serve a port; when another has it, this window says so once (log and status tooltip) and retries.
 */
export class LocalApiService extends Disposable {
  private server: LocalApiServer | undefined;
  private retry: NodeJS.Timeout | undefined;
  private token: string | undefined;
  /** Bumped on each (re)start, so a slow start that was overtaken by a setting change stops itself. */
  private generation = 0;
  private toldBusyPort: number | undefined;

  constructor(private readonly deps: LocalApiDeps) {
    super();
    this._register(onDidChangeSetting(['api'], () => void this.restart()));
    this._register({ dispose: () => { this.generation++; this.stop(); } });
    this._register(vscode.commands.registerCommand('modelAvailability.copyApiToken', () => this.copyToken()));
    void this.restart();
  }

  private get tokenFile(): string {
    return path.join(this.deps.context.globalStorageUri.fsPath, 'api-token');
  }

  private stop(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    void this.server?.close();
    this.server = undefined;
    this.deps.status.setNote(undefined);
  }

  private async restart(): Promise<void> {
    const generation = ++this.generation;
    this.stop();
    this.toldBusyPort = undefined;
    if (!setting('api.enabled')) return;
    try {
      this.token = (await loadOrCreateToken(this.tokenFile)).token;
    } catch (err) {
      this.deps.log.error(`Local API: the token file ${this.tokenFile} cannot be made: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (generation === this.generation) await this.listen(generation);
  }

  private async listen(generation: number): Promise<void> {
    const port = setting('api.port');
    const { engine, requests, analytics, storeRoot, storagePolicy, log } = this.deps;
    try {
      const server = await LocalApiServer.start({
        context: { engine, requests, analytics, storeRoot, storagePolicy },
        port,
        token: setting('api.requireToken') ? this.token : undefined,
        allowedOrigins: setting('api.allowedOrigins'),
        log: (line) => log.info(`API: ${line}`),
      });
      if (generation !== this.generation) {
        void server.close();
        return;
      }
      this.server = server;
      this.deps.status.setNote(undefined);
      log.info(`Local API on ${server.url} (WebSocket ${server.url.replace('http', 'ws')}/ws); token in ${this.tokenFile}`);
    } catch (err) {
      if (generation !== this.generation) return;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        log.error(`Local API could not start on port ${port}: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (this.toldBusyPort !== port) {
        this.toldBusyPort = port;
        const owner = await portOwner(port);
        const note = `Local API: port ${port} is served by ${owner ?? 'another process'}${owner ? '' : ' (perhaps another VS Code window)'}; this window takes over when it frees up, or set modelAvailability.api.port.`;
        log.info(note);
        this.deps.status.setNote(note);
      }
      this.retry = setTimeout(() => void this.listen(generation), RETRY_MS);
    }
  }

  private async copyToken(): Promise<void> {
    if (!setting('api.enabled')) {
      const pick = await vscode.window.showInformationMessage('The local API is off. Turn on modelAvailability.api.enabled to serve it from this window.', 'Open Settings');
      if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability.api');
      return;
    }
    const token = this.token ?? (await loadOrCreateToken(this.tokenFile)).token;
    await vscode.env.clipboard.writeText(token);
    void vscode.window.showInformationMessage('API token copied. Send it as "Authorization: Bearer <token>".');
  }
}
