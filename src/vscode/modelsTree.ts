import path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../engine';
import type { ModelUseSummary } from '../engine';
import type { ModelEntry, ModelFile } from '../engine';
import type { AvailabilityEngine, InstalledVersion, ModelFileState, ModelState } from '../engine';
import { BUILTIN_ORIGIN, formatBytes, isVariantOf } from '../engine';
import { describeModel, modelIcon, stateText, updateAvailableText, variantWords } from './modelPresentation';

type CatalogNode = ModelNode & { kind: 'catalog' };

/** Longer than VS Code's 200 ms refresh debounce, short enough for a few updates a second. */
const REFRESH_MS = 300;

export type ModelNode =
  | { readonly kind: 'catalog'; readonly origin: string; readonly models: readonly ModelEntry[] }
  | { readonly kind: 'model'; readonly model: ModelEntry }
  | { readonly kind: 'file'; readonly model: ModelEntry; readonly file: ModelFile }
  | { readonly kind: 'version'; readonly model: ModelEntry; readonly version: InstalledVersion };

function sourceText(file: ModelFile): string {
  return file.source.kind === 'url' ? file.source.url : `huggingface.co/${file.source.repo} @ ${file.source.revision}: ${file.source.file}`;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** A catalog as a group's label: which one it is first, where it lives in its tooltip. */
function catalogLabel(origin: string): { label: string; where: string } {
  if (origin === BUILTIN_ORIGIN) return { label: 'Built-in catalog', where: 'small, popular models from Hugging Face, shipped with the extension' };
  if (/^https?:\/\//i.test(origin)) return { label: new URL(origin).pathname.split('/').pop() || origin, where: origin };
  const relative = vscode.workspace.asRelativePath(origin, false);
  if (relative.replace(/\\/g, '/') === '.vscode/models.json') {
    const folder = (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(origin))?.name : undefined;
    return { label: folder ? `${folder}: workspace catalog` : 'Workspace catalog', where: origin };
  }
  return { label: path.basename(origin), where: origin };
}

/**
 * The Explorer's Models view: one item per catalog model, its files as children, live from the engine's
 * events; grouped by catalog when there is more than one.
 */
export class ModelsTree extends Disposable implements vscode.TreeDataProvider<ModelNode> {
  private readonly changed = this._register(new vscode.EventEmitter<ModelNode | ModelNode[] | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ModelNode>;
  /**
   * One node object per model, kept while its catalog entry is the same. Refreshing only the models that
   * changed keeps VS Code's handles of the others valid: a click on an inline action during a whole-tree
   * refresh could otherwise reach the command without its model.
   */
  private readonly nodes = new Map<string, ModelNode & { kind: 'model' }>();
  /** Models that changed while the view was hidden. */
  private readonly stale = new Set<string>();

  /** One group node per catalog origin, kept while the list of models is the same. */
  private groups = new Map<string, CatalogNode>();

  /**
   * `lastUse` reads recorded usage (analytics); it may know nothing. `resolvedSize` is a size the hub
   * reported for a model whose catalog gives none. `isHeld`: held at its version (`updates.held`).
   */
  constructor(
    private readonly engine: AvailabilityEngine,
    private readonly lastUse: (id: string) => ModelUseSummary | undefined = () => undefined,
    private readonly resolvedSize: (model: ModelEntry) => number | undefined = () => undefined,
    private readonly isHeld: (id: string) => boolean = () => false,
  ) {
    super();
    this.view = this._register(vscode.window.createTreeView('modelAvailability.models', { treeDataProvider: this, showCollapseAll: true }));
    // The engine names the model that changed and throttles progress per model. A hidden view does no work
    // for it: it catches up (only what changed meanwhile) when it is shown again.
    this._register(engine.onDidChangeModel(({ id, kind }) => {
      // The store was rescanned: the versions on disk may have changed.
      if (kind === 'files') this.versions.delete(id);
      this.stale.add(id);
      this.scheduleRefresh();
    }));
    this._register(engine.onDidChangeCatalog(() => {
      this.nodes.clear();
      this.stale.clear();
      this.versions.clear();
      this.changed.fire(undefined);
    }));
    this._register(this.view.onDidChangeVisibility((e) => {
      if (e.visible) this.scheduleRefresh();
    }));
    this._register({ dispose: () => clearTimeout(this.refreshTimer) });
  }

  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;

  /**
   * VS Code debounces a tree's refreshes by 200 ms and restarts that wait at each one: three downloads'
   * progress (each throttled to 4 a second) comes closer together than that and would hold every row still
   * until they all end. So the view refreshes at most every REFRESH_MS, with all that changed meanwhile.
   */
  private scheduleRefresh(): void {
    if (this.refreshTimer || !this.view.visible) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.lastRefresh = Date.now();
      this.refreshStale();
    }, Math.max(0, this.lastRefresh + REFRESH_MS - Date.now()));
  }

  async getChildren(node?: ModelNode): Promise<ModelNode[]> {
    if (!node) {
      this.groups = this.groupByCatalog(this.engine.getModels());
      return this.groups.size > 1 ? [...this.groups.values()] : this.engine.getModels().map((model) => this.modelNode(model));
    }
    if (node.kind === 'catalog') return node.models.map((model) => this.modelNode(model));
    if (node.kind !== 'model') return [];
    const files: ModelNode[] = node.model.files.map((file) => ({ kind: 'file', model: node.model, file }));
    // Other versions on disk than the installed one (kept for rollback). Read from disk only after the
    // store was rescanned: progress refreshes the tree several times a second.
    const installed = this.engine.getModelState(node.model.id)?.installedVersion ?? node.model.version;
    const others = (await this.versionsOf(node.model.id))
      .filter((v) => v.version !== installed)
      .map((version): ModelNode => ({ kind: 'version', model: node.model, version }));
    return [...files, ...others];
  }

  /** Your catalogs first, in the order they load; the built-in one last. */
  private groupByCatalog(models: readonly ModelEntry[]): Map<string, CatalogNode> {
    const byOrigin = new Map<string, ModelEntry[]>();
    for (const m of models) byOrigin.set(m.origin, [...(byOrigin.get(m.origin) ?? []), m]);
    const origins = [...byOrigin.keys()].sort((a, b) => Number(a === BUILTIN_ORIGIN) - Number(b === BUILTIN_ORIGIN));
    return new Map(origins.map((origin) => {
      const known = this.groups.get(origin);
      const list = byOrigin.get(origin) ?? [];
      const same = known && known.models.length === list.length && known.models.every((m, i) => m === list[i]);
      return [origin, same ? known : { kind: 'catalog', origin, models: list }];
    }));
  }

  private readonly versions = new Map<string, Promise<InstalledVersion[]>>();

  private versionsOf(id: string): Promise<InstalledVersion[]> {
    let read = this.versions.get(id);
    if (!read) {
      read = this.engine.installedVersions(id).catch(() => []);
      this.versions.set(id, read);
    }
    return read;
  }

  /** Redraws every model's item, e.g. after new usage was saved (item by item, keeping the handles valid). */
  refresh(): void {
    if (this.nodes.size === 0) {
      this.changed.fire(undefined);
      return;
    }
    for (const id of this.nodes.keys()) this.stale.add(id);
    this.scheduleRefresh();
  }

  private modelNode(model: ModelEntry): ModelNode & { kind: 'model' } {
    const known = this.nodes.get(model.id);
    if (known?.model === model) return known;
    const node = { kind: 'model', model } as const;
    this.nodes.set(model.id, node);
    return node;
  }

  private refreshStale(): void {
    const changed = [...this.stale].flatMap((id) => this.nodes.get(id) ?? []);
    this.stale.clear();
    if (changed.length > 0) this.changed.fire(changed);
  }

  getParent(node: ModelNode): ModelNode | undefined {
    if (node.kind === 'catalog') return undefined;
    if (node.kind === 'model') {
      // reveal() may ask before the view was ever drawn.
      if (this.groups.size === 0) this.groups = this.groupByCatalog(this.engine.getModels());
      return this.groups.size > 1 ? this.groups.get(node.model.origin) : undefined;
    }
    return this.modelNode(node.model);
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    if (node.kind === 'catalog') return this.catalogItem(node);
    const state = this.engine.getModelState(node.model.id);
    if (node.kind === 'model') return this.modelItem(node.model, state);
    if (node.kind === 'file') return this.fileItem(node.model, node.file, state);
    const item = new vscode.TreeItem(`Version ${node.version.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${node.model.id}@${node.version.version}`;
    const current = state?.installedVersion;
    const catalogs = node.version.version === node.model.version && !(current && isVariantOf(current, node.model.version));
    item.description = `${formatBytes(node.version.bytes)} · ${catalogs ? "the catalog's version" : 'previous version'}`;
    item.iconPath = new vscode.ThemeIcon('history');
    item.contextValue = 'modelVersion.old';
    item.tooltip = `Version ${node.version.version} of ${node.model.name} is still on disk (${node.version.files} files, installed ${new Date(node.version.installedAt).toLocaleString()}, verified ${new Date(node.version.verifiedAt).toLocaleString()}); ${state?.installedVersion ?? 'nothing'} is installed. Use This Version switches to it without a download.`;
    return item;
  }

  private catalogItem(node: CatalogNode): vscode.TreeItem {
    const { label, where } = catalogLabel(node.origin);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `catalog:${node.origin}`;
    item.description = `${node.models.length} ${node.models.length === 1 ? 'model' : 'models'}`;
    item.iconPath = new vscode.ThemeIcon('library');
    item.contextValue = 'catalog';
    item.tooltip = `${label}: ${where}`;
    return item;
  }

  private modelItem(model: ModelEntry, s: ModelState | undefined): vscode.TreeItem {
    const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `model:${model.id}`;
    // The catalog moved on while an older version is what requests get: say so in the row, after the state.
    const olderInstalled = s?.installedVersion && s.installedVersion !== model.version ? s.installedVersion : undefined;
    item.description = [describeModel(model, s, this.resolvedSize(model)), olderInstalled && `v${olderInstalled}`, s && updateAvailableText(model, s)].filter(Boolean).join(' · ');
    // `.update`: an update can be installed; `.held`: held at its version; `.damaged`: files on disk that need repair, whatever the download state says.
    const versionFlag = s?.updateAvailable && !s.update ? '.update' : this.isHeld(model.id) ? '.held' : '';
    item.contextValue = `model.${s?.state ?? 'missing'}${versionFlag}${s?.health === 'red' && (s.state === 'missing' || s.state === 'ready') ? '.damaged' : ''}`;
    if (s) item.iconPath = modelIcon(s);
    item.tooltip = this.modelTooltip(model, s);
    return item;
  }

  /** Built with the row, from the same state, so the two never disagree. */
  private modelTooltip(model: ModelEntry, s: ModelState | undefined): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(model.name)}** · \`${model.id}\`\n\n`);
    const installed = s?.installedVersion;
    md.appendMarkdown(installed === model.version ? `Version: ${escapeMd(installed)}\n\n`
      : installed && isVariantOf(installed, model.version) ? `Version: ${escapeMd(installed)} (${escapeMd(variantWords(model, installed))})\n\n`
        : installed ? `Installed version: ${escapeMd(installed)} · the catalog asks for ${escapeMd(model.version)}\n\n`
          : `Version: ${escapeMd(model.version)} (not installed)\n\n`);
    const offer = s && updateAvailableText(model, s);
    if (offer) md.appendMarkdown(`${escapeMd(offer)}${model.notes ? ` · [release notes](${model.notes})` : ''}\n\n`);
    if (this.isHeld(model.id)) md.appendMarkdown(`Held at this version (Release Version Hold to get updates again)\n\n`);
    if (model.description) md.appendMarkdown(`${escapeMd(model.description)}\n\n`);
    const facts = [model.task, model.family, model.format, model.quantization].filter(Boolean).join(' · ');
    if (facts) md.appendMarkdown(`${escapeMd(facts)}\n\n`);
    if (s) md.appendMarkdown(`State: ${escapeMd(stateText(s))}${s.error ? ` — ${escapeMd(s.error)}` : ''}\n\n`);
    if (s?.health) {
      const icon = s.health === 'green' ? '$(pass-filled)' : s.health === 'yellow' ? '$(warning)' : '$(error)';
      md.appendMarkdown(`Health: ${icon} ${s.health}${s.healthReasons.length ? `: ${escapeMd(s.healthReasons.map((r) => r.message).join('; '))}` : ''}\n\n`);
    }
    const first = s?.files[0];
    if (first && s?.state === 'ready') md.appendMarkdown(`Local path: \`${path.dirname(first.localPath)}\`\n\n`);
    md.appendMarkdown(`Source: ${escapeMd(model.files.map(sourceText).join(', '))}\n\n`);
    const verified = s?.files.map((f) => f.verifiedAt).filter((v): v is string => v !== undefined).sort()[0];
    if (verified) md.appendMarkdown(`Last verified: ${new Date(verified).toLocaleString()}\n\n`);
    const use = this.lastUse(model.id);
    if (use?.lastUsed !== undefined) md.appendMarkdown(`Last used: ${new Date(use.lastUsed).toLocaleString()} · ${use.useCount} ${use.useCount === 1 ? 'use' : 'uses'}\n\n`);
    md.appendMarkdown(`Catalog: ${escapeMd(model.origin)}`);
    return md;
  }

  private fileItem(model: ModelEntry, file: ModelFile, s: ModelState | undefined): vscode.TreeItem {
    const f: ModelFileState | undefined = s?.files.find((x) => x.path === file.path);
    const item = new vscode.TreeItem(file.path, vscode.TreeItemCollapsibleState.None);
    item.id = `file:${model.id}/${file.path}`;
    const size = f?.size ?? file.size;
    // The store is scanned between transfers: while the model downloads, its unfinished files are downloading.
    const transferring = s?.state === 'downloading' && f?.state !== 'ready';
    const stateWord = transferring ? 'downloading' : f?.state === 'ready' ? 'ready' : f?.state === 'partial' ? `${formatBytes(f.bytesOnDisk)} so far` : 'not downloaded';
    item.description = [stateWord, size === undefined ? undefined : formatBytes(size), file.sha256 || f?.sha256Expected ? undefined : 'no checksum'].filter(Boolean).join(' · ');
    item.iconPath = vscode.ThemeIcon.File;
    item.resourceUri = vscode.Uri.file(f?.localPath ?? file.path);
    item.contextValue = `modelFile.${f?.state ?? 'missing'}`;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMd(file.path)}**\n\nState: ${stateWord}\n\nSource: ${escapeMd(sourceText(file))}\n\n`);
    if (f) md.appendMarkdown(`Local path: \`${f.localPath}\`\n\n`);
    md.appendMarkdown(`sha256: \`${f?.sha256 ?? file.sha256 ?? 'none in the catalog (unverifiable)'}\``);
    if (f?.verifiedAt) md.appendMarkdown(`\n\nVerified: ${new Date(f.verifiedAt).toLocaleString()}`);
    item.tooltip = md;
    return item;
  }
}
