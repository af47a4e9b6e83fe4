import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { builtinCatalog } from '../engine';
import type { CatalogService } from './catalogService';

const SAMPLE_CATALOG = {
  models: [
    {
      id: 'qwen2.5-0.5b-instruct-q4',
      name: 'Qwen2.5 0.5B',
      version: '1.0.0',
      task: 'text-generation',
      family: 'qwen2',
      format: 'gguf',
      quality: 0.45,
      files: [{ path: 'qwen2.5-0.5b-instruct-q4_k_m.gguf', hf: { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', revision: 'main', file: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' } }],
    },
  ],
};

interface CatalogPick extends vscode.QuickPickItem { run(): Promise<void> }

/** "Open Model Catalog": open one of the catalog files, create the workspace's catalog, or read the built-in one. */
export async function openCatalog(catalogs: CatalogService): Promise<void> {
  const picks: CatalogPick[] = catalogs.catalogFiles().map((file) => ({
    label: `$(json) ${path.basename(file)}`,
    description: vscode.workspace.asRelativePath(file),
    run: async () => { await vscode.window.showTextDocument(vscode.Uri.file(file)); },
  }));
  const wsCatalog = catalogs.workspaceCatalogPath();
  if (wsCatalog && !catalogs.catalogFiles().includes(wsCatalog)) {
    picks.push({
      label: '$(new-file) Create .vscode/models.json',
      description: vscode.workspace.isTrusted ? 'a catalog for this workspace, with a sample model' : 'needs a trusted workspace to load',
      run: () => createWorkspaceCatalog(wsCatalog),
    });
  }
  picks.push({
    label: '$(book) View the Built-in Catalog',
    description: 'read-only',
    run: async () => {
      const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(builtinCatalog, null, 2) });
      await vscode.window.showTextDocument(doc, { preview: true });
    },
  });
  picks.push({
    label: '$(settings-gear) Add a Catalog in Settings',
    description: 'modelAvailability.catalogs',
    run: async () => { await vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability.catalogs'); },
  });
  const choice = picks.length === 1 ? picks[0] : await vscode.window.showQuickPick(picks, { title: 'Open Model Catalog', placeHolder: 'Which catalog?' });
  await choice?.run();
}

async function createWorkspaceCatalog(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(SAMPLE_CATALOG, null, 2) + '\n', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
