import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { Emitter } from '../engine';
import { Disposable } from '../engine';
import { formatProblem, loadCatalogs, problemMessage, type CatalogLoadResult, type CatalogSource } from '../engine';
import type { ModelEntry } from '../engine';
import type { ExtensionLog } from './logs';
import { setting, onDidChangeSetting } from './settings';

/** What the Models view shows when it has no models: drives its welcome content through a context key. */
export type CatalogState = 'loading' | 'none' | 'empty' | 'error' | 'loaded';

const WORKSPACE_CATALOG = '.vscode/models.json';

/**
 * Finds the catalogs (settings, trusted workspace, built-in), loads them through the engine, reports
 * their problems in the Problems panel, and reloads when a catalog file or a setting changes.
 */
export class CatalogService extends Disposable {
  private readonly diagnostics = this._register(vscode.languages.createDiagnosticCollection('modelAvailability.catalog'));
  private readonly changed = this._register(new Emitter<CatalogLoadResult>());
  readonly onDidChange = this.changed.event;
  private current: CatalogLoadResult = { models: [], problems: [], origins: [] };
  private fileWatchers: vscode.Disposable[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private loading: Promise<CatalogLoadResult> | undefined;
  private state: CatalogState = 'loading';

  /** `cacheDir` keeps the last good copy of URL catalogs, for offline use. */
  constructor(private readonly log: ExtensionLog, private readonly cacheDir: string) {
    super();
    this._register(onDidChangeSetting(['catalogs', 'builtinCatalog'], () => this.scheduleReload()));
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.scheduleReload()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleReload()));
    const wsWatcher = this._register(vscode.workspace.createFileSystemWatcher(`**/${WORKSPACE_CATALOG}`));
    for (const ev of [wsWatcher.onDidCreate, wsWatcher.onDidChange, wsWatcher.onDidDelete]) this._register(ev(() => this.scheduleReload()));
    this._register({ dispose: () => { clearTimeout(this.reloadTimer); this.disposeFileWatchers(); } });
    void this.setState('loading');
  }

  get models(): readonly ModelEntry[] { return this.current.models; }
  get result(): CatalogLoadResult { return this.current; }
  get catalogState(): CatalogState { return this.state; }

  /** Catalog files people can open and edit (not URLs, not the built-in catalog). */
  catalogFiles(): string[] {
    return this.sources().flatMap((s) => (s.kind === 'file' ? [s.path] : []));
  }

  workspaceCatalogPath(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? path.join(folder.uri.fsPath, ...WORKSPACE_CATALOG.split('/')) : undefined;
  }

  reload(): Promise<CatalogLoadResult> {
    // Coalesce overlapping reloads: the next one starts after the current finishes.
    const run = async () => {
      const sources = this.sources();
      this.watchSettingsCatalogs(sources);
      const result = await loadCatalogs(sources, { cacheDir: this.cacheDir });
      this.current = result;
      this.publishProblems(result);
      const hasSources = sources.length > 0;
      const allFailed = hasSources && result.models.length === 0 && result.problems.some((p) => p.severity === 'error');
      await this.setState(!hasSources ? 'none' : allFailed ? 'error' : result.models.length === 0 ? 'empty' : 'loaded');
      this.log.info(`Catalogs loaded: ${result.models.length} models from ${sources.length} sources, ${result.problems.length} problems`);
      this.changed.fire(result);
      return result;
    };
    this.loading = (this.loading ?? Promise.resolve(this.current)).then(run, run);
    return this.loading;
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 250);
  }

  private sources(): CatalogSource[] {
    const sources: CatalogSource[] = [];
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    for (const entry of setting('catalogs')) {
      const value = entry.trim();
      if (!value) continue;
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
        sources.push({ kind: 'url', url: value });
        continue;
      }
      const expanded = value.startsWith('~') ? path.join(os.homedir(), value.slice(1)) : value;
      sources.push({ kind: 'file', path: path.resolve(base ?? os.homedir(), expanded) });
    }
    if (vscode.workspace.isTrusted) {
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        const file = path.join(folder.uri.fsPath, ...WORKSPACE_CATALOG.split('/'));
        if (existsSync(file) && !sources.some((s) => s.kind === 'file' && s.path === file)) sources.push({ kind: 'file', path: file });
      }
    }
    if (setting('builtinCatalog')) sources.push({ kind: 'builtin' });
    return sources;
  }

  private publishProblems(result: CatalogLoadResult): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const p of result.problems) {
      const isFile = !/^[a-z][a-z0-9+.-]*:\/\//i.test(p.origin) && path.isAbsolute(p.origin);
      const line = formatProblem(p, 'vscode');
      if (p.severity === 'error') this.log.error(line); else this.log.warn(line);
      if (!isFile) continue;
      const r = p.range;
      const range = r ? new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character) : new vscode.Range(0, 0, 0, 1);
      const d = new vscode.Diagnostic(range, problemMessage(p, 'vscode'), p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = 'Model Availability';
      const list = byFile.get(p.origin) ?? [];
      list.push(d);
      byFile.set(p.origin, list);
    }
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
  }

  /** Catalog files from settings can live outside the workspace, where the workspace watcher does not see them. */
  private watchSettingsCatalogs(sources: readonly CatalogSource[]): void {
    this.disposeFileWatchers();
    for (const s of sources) {
      if (s.kind !== 'file' || s.path.replace(/\\/g, '/').endsWith(WORKSPACE_CATALOG)) continue;
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(s.path)), path.basename(s.path)));
      this.fileWatchers.push(w, w.onDidChange(() => this.scheduleReload()), w.onDidCreate(() => this.scheduleReload()), w.onDidDelete(() => this.scheduleReload()));
    }
  }

  private disposeFileWatchers(): void {
    for (const d of this.fileWatchers.splice(0)) d.dispose();
  }

  private async setState(state: CatalogState): Promise<void> {
    this.state = state;
    await vscode.commands.executeCommand('setContext', 'modelAvailability.catalogState', state);
  }
}
