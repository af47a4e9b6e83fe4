import * as vscode from 'vscode';
import { Disposable, downloadedWords, unverifiableFiles, withFix } from '../engine';
import type { AvailabilityEngine } from '../engine';
import type { ExtensionLog } from './logs';
import type { Notifier, NotificationAction } from './notifier';

/** Turns the engine's finish and failure events into notifications with the useful next step. */
export class DownloadNotifications extends Disposable {
  constructor(engine: AvailabilityEngine, notifier: Notifier, log: ExtensionLog, startedByUser: Set<string>, hubOrigin: string) {
    super();
    const name = (id: string) => engine.getModels().find((m) => m.id === id)?.name ?? id;
    const showLogs: NotificationAction = { title: 'Show Logs', run: () => log.show() };
    this._register(engine.onDidFinish(({ id }) => {
      const byUser = startedByUser.delete(id);
      notifier.notify('finished', byUser ? 'important' : 'info', `${name(id)} is ${downloadedWords(unverifiableFiles(engine.getModelState(id)?.healthReasons ?? []))}.`,
        { title: 'Copy Path', run: () => vscode.commands.executeCommand('modelAvailability.copyPath', id) },
        { title: 'Show in Models', run: () => vscode.commands.executeCommand('modelAvailability.focusModel', id) });
    }));
    this._register(engine.onDidFail(({ id, reason: cause, code, kind, fix }) => {
      startedByUser.delete(id);
      const reason = withFix(cause, fix, 'vscode', hubOrigin);
      const retry: NotificationAction = { title: kind === 'paused' ? 'Resume' : 'Retry', run: () => vscode.commands.executeCommand(kind === 'paused' ? 'modelAvailability.resume' : 'modelAvailability.download', id) };
      if (fix?.kind === 'credentials') {
        const setTokenAndRetry: NotificationAction = {
          title: `Set Token for ${new URL(fix.origin).host}…`,
          run: async () => {
            if (await vscode.commands.executeCommand<boolean>('modelAvailability.setToken', fix.origin)) await retry.run();
          },
        };
        notifier.notify('gated', 'error', `${name(id)} could not be downloaded: ${reason}`, setTokenAndRetry, retry);
      } else if (code === 'disk-full') {
        notifier.notify('diskFull', 'error', `${name(id)} is paused: ${reason}. What was downloaded is kept.`, { title: 'Open Storage Folder', run: () => vscode.commands.executeCommand('modelAvailability.openStorageFolder') }, retry);
      } else {
        notifier.notify(`failed:${kind}`, 'error', `${name(id)} could not be downloaded: ${reason}`, retry, showLogs);
      }
    }));
  }
}
