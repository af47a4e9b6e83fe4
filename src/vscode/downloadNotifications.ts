import path from 'node:path';
import * as vscode from 'vscode';
import { Disposable, downloadedWords, unverifiableFiles, withFix } from '../engine';
import type { AvailabilityEngine } from '../engine';
import type { ExtensionLog } from './logs';
import type { Notice, Notifier, NotificationAction } from './notifier';

const subjectsOf = (notices: readonly Notice[]): string[] => notices.flatMap((n) => n.subjects ?? []);

/** Turns the engine's finish and failure events into notifications with the useful next step. */
export class DownloadNotifications extends Disposable {
  constructor(engine: AvailabilityEngine, notifier: Notifier, log: ExtensionLog, startedByUser: Set<string>, hubOrigin: string) {
    super();
    const name = (id: string) => engine.getModels().find((m) => m.id === id)?.name ?? id;
    const showLogs: NotificationAction = { title: 'Show Logs', run: () => log.show() };
    // A catalog file a person can edit (not the built-in one, not a URL).
    const catalogFile = (id: string) => {
      const origin = engine.getModels().find((m) => m.id === id)?.origin;
      return origin && path.isAbsolute(origin) ? origin : undefined;
    };
    this._register(engine.onDidFinish(({ id }) => {
      const byUser = startedByUser.delete(id);
      notifier.post('finished', byUser ? 'important' : 'info', {
        message: `${name(id)} is ${downloadedWords(unverifiableFiles(engine.getModelState(id)?.healthReasons ?? []))}.`,
        actions: [
          { title: 'Copy Path', run: () => vscode.commands.executeCommand('modelAvailability.copyPath', id) },
          { title: 'Show in Models', run: () => vscode.commands.executeCommand('modelAvailability.focusModel', id) },
        ],
        subjects: [id],
      }, (notices) => {
        const ids = subjectsOf(notices);
        return {
          message: `${ids.length} models are ready: ${ids.map(name).join(', ')}.`,
          actions: [{ title: 'Show in Models', run: () => vscode.commands.executeCommand('modelAvailability.focusModel', ids[0]) }],
        };
      });
    }));
    const retryOf = (id: string, kind: 'failed' | 'paused'): NotificationAction => (kind === 'paused'
      ? { title: 'Resume', run: () => vscode.commands.executeCommand('modelAvailability.resume', id) }
      : { title: 'Retry', run: () => vscode.commands.executeCommand('modelAvailability.download', id) });
    const setTokenAndRetry = (origin: string, ids: readonly string[]): NotificationAction => ({
      title: `Set Token for ${new URL(origin).host}…`,
      run: async () => {
        if (!(await vscode.commands.executeCommand<boolean>('modelAvailability.setToken', origin))) return;
        for (const id of ids) await retryOf(id, 'failed').run();
      },
    });
    this._register(engine.onDidFail(({ id, reason: cause, code, kind, fix }) => {
      startedByUser.delete(id);
      const reason = withFix(cause, fix, 'vscode', hubOrigin);
      const retry = retryOf(id, kind);
      if (fix?.kind === 'credentials') {
        // Several models from one host at once: one token prompt, then each of them is retried.
        notifier.post(`credentials:${fix.origin}`, 'error', { message: `${name(id)} could not be downloaded: ${reason}`, actions: [setTokenAndRetry(fix.origin, [id]), retry], subjects: [id] },
          (notices) => ({ message: notices.map((n) => n.message).join(' '), actions: [setTokenAndRetry(fix.origin, subjectsOf(notices))] }));
      } else if (code === 'disk-full') {
        notifier.notify('diskFull', 'error', `${name(id)} is paused: ${reason}. What was downloaded is kept.`, { title: 'Open Storage Folder', run: () => vscode.commands.executeCommand('modelAvailability.openStorageFolder') }, retry);
      } else {
        const file = fix?.kind === 'sourceNotFound' ? catalogFile(id) : undefined;
        const actions: NotificationAction[] = file ? [{ title: 'Open Catalog', run: () => vscode.window.showTextDocument(vscode.Uri.file(file)) }, retry] : [retry, showLogs];
        notifier.notify(`failed:${kind}`, 'error', `${name(id)} could not be downloaded: ${reason}`, ...actions);
      }
    }));
  }
}
