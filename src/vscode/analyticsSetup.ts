import * as vscode from 'vscode';
import type { IDisposable } from '../engine';
import { AnalyticsStore, type AnalyticsWarning } from '../engine';
import type { ExtensionLog } from './logs';
import type { Notifier } from './notifier';
import { setting, onDidChangeSetting } from './settings';

/**
 * Opens the usage database in global storage (shared by every window). A database that cannot be
 * opened is moved aside by the store; here that becomes one warning. If sql.js itself cannot load,
 * analytics is off for this session and activation goes on.
 */
export async function openAnalytics(context: vscode.ExtensionContext, log: ExtensionLog, notifier: Notifier): Promise<{ store: AnalyticsStore | undefined; disposables: IDisposable[] }> {
  const warn = (w: AnalyticsWarning) => {
    log.warn(`Analytics: ${w.message}`);
    notifier.notify(`analytics:${w.kind}`, 'important', `Usage analytics: ${w.message}`, { title: 'Show Logs', run: () => log.show() });
  };
  try {
    const store = await AnalyticsStore.open({
      folder: context.globalStorageUri.fsPath,
      wasmPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath,
      enabled: setting('analytics.enabled'),
      retentionDays: setting('analytics.retentionDays'),
    });
    store.startupWarnings.forEach(warn);
    return {
      store,
      disposables: [
        store.onDidWarn(warn),
        onDidChangeSetting(['analytics.enabled'], () => { store.enabled = setting('analytics.enabled'); }),
        onDidChangeSetting(['analytics.retentionDays'], () => { store.retentionDays = setting('analytics.retentionDays'); }),
      ],
    };
  } catch (err) {
    log.error(`Analytics is off for this session: ${err instanceof Error ? err.message : String(err)}`);
    return { store: undefined, disposables: [] };
  }
}

export async function clearAnalytics(store: AnalyticsStore | undefined): Promise<void> {
  if (!store) return;
  const ok = await vscode.window.showWarningMessage('Delete all recorded model usage? The analytics panel and cleanup suggestions start over.', { modal: true }, 'Clear Analytics Data');
  if (!ok) return;
  await store.clear();
  void vscode.window.showInformationMessage('Analytics data cleared.');
}
