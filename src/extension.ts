import * as vscode from 'vscode';
import type { ModelAvailabilityApi } from './api';
import { AvailabilityEngine } from './engine';
import { HealthMonitor, HubSizes } from './engine';
import type { ModelEntry } from './engine';
import { ModelRequests } from './engine';
import { recordEngineEvents, usageRecorder } from './engine';
import { AnalyticsPanel } from './vscode/analyticsPanel';
import { clearAnalytics, openAnalytics } from './vscode/analyticsSetup';
import { AutoPreload } from './vscode/autoPreload';
import { openCatalog } from './vscode/catalogCommands';
import { autoCleanup, cleanUpStorage, storagePolicy, type CleanupDeps } from './vscode/cleanupCommand';
import { CatalogService } from './vscode/catalogService';
import { registerDownloadCommands } from './vscode/downloadCommands';
import { DownloadNotifications } from './vscode/downloadNotifications';
import { DownloadStatus } from './vscode/downloadStatus';
import { configuredStoreRoot, downloadSettings, healthSettings, storeRoot } from './vscode/engineSettings';
import { HostTokens } from './vscode/hostTokens';
import { registerTokenCommands } from './vscode/tokenCommands';
import { LocalApiService } from './vscode/localApiService';
import { registerIntegrityCommands } from './vscode/integrityCommands';
import { UpdateCommands, watchUpdateResults } from './vscode/updateCommands';
import { ExtensionLogs } from './vscode/logs';
import { findLocalModelsCommand, offerWhenViewOpens, reuseLocations } from './vscode/localModels';
import { ModelsTree } from './vscode/modelsTree';
import { moveStorage } from './vscode/moveStorageCommand';
import { Notifier } from './vscode/notifier';
import { createPublicApi } from './vscode/publicApi';
import { askFallback, requestModelCommand, requestSettings } from './vscode/requestCommands';
import { onDidChangeSetting } from './vscode/settings';
import { UsageIndex } from './vscode/usageIndex';

/** The composition root: builds every service once, wires the VS Code surfaces, returns the API. */
export async function activate(context: vscode.ExtensionContext): Promise<ModelAvailabilityApi> {
  const own = <T extends vscode.Disposable>(d: T): T => { context.subscriptions.push(d); return d; };
  const logs = own(new ExtensionLogs(context.logUri.fsPath));
  try {
    const catalogs = own(new CatalogService(logs.management, vscode.Uri.joinPath(context.globalStorageUri, 'catalog-cache').fsPath));
    const tokens = new HostTokens(context.secrets);
    await catalogs.reload();
    const root = await storeRoot(context);
    const engine = own(await AvailabilityEngine.create({
      storeRoot: root,
      models: catalogs.models,
      settings: downloadSettings(),
      health: healthSettings(),
      logger: logs.downloads,
      credentials: (origin) => tokens.get(origin),
      persistQueue: true,
      localCopies: reuseLocations,
      // URL catalogs change without telling: each update check reads them again.
      reloadCatalogs: async () => (await catalogs.reload()).models,
    }));
    own(catalogs.onDidChange((r) => void engine.setModels(r.models)));
    own(onDidChangeSetting(['download'], () => engine.configure({ download: downloadSettings() })));
    own(onDidChangeSetting(['health'], () => engine.configure({ health: healthSettings() })));

    const notifier = own(new Notifier());
    const usage = await openAnalytics(context, logs.management, notifier);
    usage.disposables.forEach(own);
    if (usage.store) {
      const store = own(usage.store);
      recordEngineEvents(engine, store).forEach(own);
      own(new AutoPreload(engine, store, logs.management));
      flushOnDeactivate = () => store.close();
    }
    const requests = own(new ModelRequests(engine, requestSettings, askFallback, usage.store ? usageRecorder(usage.store) : undefined));
    const monitor = own(new HealthMonitor({ engine, logger: logs.health }));
    own(onDidChangeSetting(['health.checkIntervalHours'], () => monitor.reschedule()));
    const usageIndex = own(new UsageIndex(usage.store));
    const hubSizes = own(new HubSizes({ cacheFile: vscode.Uri.joinPath(context.globalStorageUri, 'hub-sizes.json').fsPath, credentials: (origin) => tokens.get(origin), logger: logs.management }));
    const tree = own(new ModelsTree(engine, (id) => usageIndex.get(id), (model) => hubSizes.sizeOf(model), (id) => engine.updates.held.includes(id)));
    own(usageIndex.onDidChange(() => tree.refresh()));
    const status = own(new DownloadStatus(engine));
    own(hubSizes.onDidChange(() => tree.refresh()));
    // In the background, after activation: sizes are nice to have, never worth a slower start.
    const stopSizes = new AbortController();
    own({ dispose: () => stopSizes.abort() });
    const resolveSizes = (models: readonly ModelEntry[]) => void hubSizes.resolve(models, stopSizes.signal).catch((err: unknown) => logs.management.warn(`model sizes: ${err instanceof Error ? err.message : String(err)}`));
    setTimeout(() => resolveSizes(engine.getModels()), 0);
    own(catalogs.onDidChange((r) => resolveSizes(r.models)));
    void revealOnFirstLook(context, catalogs, tree);
    const analytics = own(new AnalyticsPanel({
      extensionUri: context.extensionUri, engine, store: usage.store, storeRoot: root,
      policy: storagePolicy,
    }));
    const startedByUser = new Set<string>();
    own(new DownloadNotifications(engine, notifier, logs.downloads, startedByUser, tokens.hubOrigin));

    const command = (id: string, fn: (...args: unknown[]) => unknown) => { own(vscode.commands.registerCommand(`modelAvailability.${id}`, fn)); };
    command('refresh', async () => { await catalogs.reload(); await engine.refresh(); });
    command('openCatalog', () => openCatalog(catalogs));
    command('openAnalytics', () => analytics.show());
    command('openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:model-availability.model-availability'));
    command('openWalkthrough', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#gettingStarted`, false));
    command('openLogs', () => vscode.env.openExternal(vscode.Uri.file(logs.folder)));
    command('openStorageFolder', () => vscode.env.openExternal(vscode.Uri.file(root)));
    registerDownloadCommands(command, { engine, tree, startedByUser });
    registerTokenCommands(command, engine, tokens);
    command('requestModel', (arg) => requestModelCommand(engine, requests, arg));
    command('clearAnalytics', () => clearAnalytics(usage.store));
    registerIntegrityCommands(command, { engine, notifier, log: logs.health });
    own(new UpdateCommands(command, { engine, notifier, log: logs.management }));
    if (usage.store) own(watchUpdateResults({ engine, notifier, log: logs.management }, usage.store));
    const localModels = { engine, catalogs, log: logs.management, globalStorage: context.globalStorageUri.fsPath, state: context.globalState };
    command('findLocalModels', () => findLocalModelsCommand(localModels));
    own(offerWhenViewOpens(tree.view, localModels));
    command('moveStorage', (target?: unknown) => moveStorage(engine, root, logs.management, target));
    const cleanup: CleanupDeps = { engine, store: usage.store };
    command('cleanup', () => cleanUpStorage(cleanup));
    own(new LocalApiService({ context, engine, requests, analytics: usage.store, storeRoot: root, storagePolicy, log: logs.management, status }));
    const runAutoCleanup = () => autoCleanup(cleanup).catch((err: unknown) => logs.management.error(`automatic cleanup failed: ${err instanceof Error ? err.message : String(err)}`));
    own(engine.onDidFinish(() => void runAutoCleanup()));
    void runAutoCleanup();
    own(onDidChangeSetting(['storagePath'], () => {
      if (configuredStoreRoot() === root || (!configuredStoreRoot() && root === context.globalStorageUri.fsPath)) return;
      void vscode.window.showInformationMessage('The model storage folder changed: reload the window to use it. (Move Model Storage… moves existing models there.)', 'Reload Window')
        .then((pick) => { if (pick) void vscode.commands.executeCommand('workbench.action.reloadWindow'); });
    }));

    logs.management.info(`Activated Model Availability ${String(context.extension.packageJSON.version)} in VS Code ${vscode.version}; store: ${root}`);
    return createPublicApi(engine, requests);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logs.management.error(`Activation failed: ${err instanceof Error && err.stack ? err.stack : message}`);
    void vscode.window.showErrorMessage(`Model Availability could not start: ${message}`, 'Open Settings', 'Show Logs').then((pick) => {
      if (pick === 'Show Logs') logs.management.show();
      if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability');
    });
    throw err;
  }
}

/**
 * The first time a workspace with its own catalog opens, show its models: the Explorer keeps a contributed
 * view collapsed at its bottom, where a newcomer does not see it. Without taking the focus, and only once.
 */
async function revealOnFirstLook(context: vscode.ExtensionContext, catalogs: CatalogService, tree: ModelsTree): Promise<void> {
  const key = 'modelsViewRevealed';
  const own = catalogs.workspaceCatalogPath();
  if (context.workspaceState.get<boolean>(key) || !own || !catalogs.models.some((m) => m.origin === own)) return;
  await context.workspaceState.update(key, true);
  const [first] = await tree.getChildren();
  // The view opens either way; scrolling to its first row can lose a race with the view's first drawing.
  if (first) await Promise.resolve(tree.view.reveal(first, { select: false, focus: false, expand: false })).catch(() => undefined);
}

/** Set once analytics is open: its last events are saved before the window goes. */
let flushOnDeactivate: (() => Promise<void>) | undefined;

export async function deactivate(): Promise<void> {
  // Everything else is owned by context.subscriptions and disposed by VS Code.
  await flushOnDeactivate?.();
}
