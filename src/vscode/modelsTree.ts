import * as vscode from 'vscode';
import { Disposable } from '../engine/base/lifecycle';
import { totalSize, type ModelEntry, type ModelFile } from '../engine/catalog/catalogTypes';
import type { CatalogService } from './catalogService';
import { formatBytes } from './format';

type Node = { kind: 'model'; model: ModelEntry } | { kind: 'file'; model: ModelEntry; file: ModelFile };

function sourceText(file: ModelFile): string {
  return file.source.kind === 'url' ? file.source.url : `huggingface.co/${file.source.repo} @ ${file.source.revision} · ${file.source.file}`;
}

/** The Explorer's Models view: one item per catalog model, its files as children. */
export class ModelsTree extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;

  constructor(private readonly catalogs: CatalogService) {
    super();
    this.view = this._register(vscode.window.createTreeView('modelAvailability.models', { treeDataProvider: this, showCollapseAll: true }));
    this._register(catalogs.onDidChange(() => this.changed.fire(undefined)));
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.catalogs.models.map((model) => ({ kind: 'model', model }));
    if (node.kind === 'model') return node.model.files.map((file) => ({ kind: 'file', model: node.model, file }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node.kind === 'model' ? this.modelItem(node.model) : this.fileItem(node.model, node.file);
  }

  private modelItem(model: ModelEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `model:${model.id}`;
    item.description = [model.version, sizeText(totalSize(model)), 'not downloaded'].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon('circle-large-outline', new vscode.ThemeColor('disabledForeground'));
    item.contextValue = 'model.missing';
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(model.name)}** \`${model.id}\` ${model.version}\n\n`);
    if (model.description) md.appendMarkdown(`${escapeMd(model.description)}\n\n`);
    const facts = [model.task, model.family, model.format, model.quantization].filter(Boolean).join(' · ');
    if (facts) md.appendMarkdown(`${escapeMd(facts)}\n\n`);
    md.appendMarkdown(`$(circle-large-outline) Not downloaded · ${formatBytes(totalSize(model))}\n\n`);
    md.appendMarkdown(`Catalog: ${escapeMd(model.origin)}`);
    item.tooltip = md;
    return item;
  }

  private fileItem(model: ModelEntry, file: ModelFile): vscode.TreeItem {
    const item = new vscode.TreeItem(file.path, vscode.TreeItemCollapsibleState.None);
    item.id = `file:${model.id}/${file.path}`;
    item.description = [sizeText(file.size), file.sha256 ? undefined : 'no checksum'].filter(Boolean).join(' · ');
    item.iconPath = vscode.ThemeIcon.File;
    item.resourceUri = vscode.Uri.parse(`model-availability:/${encodeURIComponent(file.path)}`);
    item.contextValue = 'modelFile';
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMd(file.path)}**\n\nSource: ${escapeMd(sourceText(file))}\n\nsha256: \`${file.sha256 ?? 'none in the catalog (unverifiable)'}\``);
    item.tooltip = md;
    return item;
  }
}

/** Sizes of hf files are known only once the hub answers; say nothing rather than "unknown". */
function sizeText(bytes: number | undefined): string | undefined {
  return bytes === undefined ? undefined : formatBytes(bytes);
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
