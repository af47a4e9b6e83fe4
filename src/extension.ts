import * as vscode from 'vscode';
import type { ModelAvailabilityApi } from './api';
import { AnalyticsPanel } from './vscode/analyticsPanel';
import { openCatalog } from './vscode/catalogCommands';
import { CatalogService } from './vscode/catalogService';
import { ExtensionLogs } from './vscode/logs';
import { ModelsTree } from './vscode/modelsTree';

/** The composition root: builds every service once, wires the VS Code surfaces, returns the API. */
export async function activate(context: vscode.ExtensionContext): Promise<ModelAvailabilityApi> {
  const own = <T extends vscode.Disposable>(d: T): T => { context.subscriptions.push(d); return d; };
  const logs = own(new ExtensionLogs(context.logUri.fsPath));
  try {
    const catalogs = own(new CatalogService(logs.management));
    own(new ModelsTree(catalogs));
    const analytics = own(new AnalyticsPanel(context.extensionUri, catalogs));

    const command = (id: string, fn: (...args: unknown[]) => unknown) => own(vscode.commands.registerCommand(`modelAvailability.${id}`, fn));
    command('refresh', () => catalogs.reload());
    command('openCatalog', () => openCatalog(catalogs));
    command('openAnalytics', () => analytics.show());
    command('openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:model-availability.model-availability'));
    command('openLogs', () => vscode.env.openExternal(vscode.Uri.file(logs.folder)));

    await catalogs.reload();
    logs.management.info(`Activated Model Availability ${String(context.extension.packageJSON.version)} in VS Code ${vscode.version}`);
    return {
      apiVersion: 1,
      getModels: () => catalogs.models.map((m) => ({ id: m.id, name: m.name, version: m.version, task: m.task, state: 'missing' })),
      onDidChangeModels: (listener) => catalogs.onDidChange(() => listener()),
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logs.management.error(`Activation failed: ${err instanceof Error && err.stack ? err.stack : message}`);
    void vscode.window.showErrorMessage(`Model Availability could not start: ${message}`, 'Show Logs').then((pick) => {
      if (pick) logs.management.show();
    });
    throw err;
  }
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions and disposed by VS Code.
}
