import * as vscode from 'vscode';
import { setting } from './settings';

export type NotificationLevel = 'all' | 'important' | 'errors' | 'none';
/** How much a notification matters; `level` decides which ones show. */
export type Importance = 'info' | 'important' | 'error';

export interface NotificationAction {
  readonly title: string;
  run(): unknown;
}

const SHOWN_AT: Record<NotificationLevel, readonly Importance[]> = {
  all: ['info', 'important', 'error'],
  important: ['important', 'error'],
  errors: ['error'],
  none: [],
};

/**
 * Notifications by `modelAvailability.notifications.level`, at most one open per kind: a repeat of a kind
 * that is still on screen is not stacked; the next one says how many happened meanwhile.
 */
export class Notifier {
  private readonly open = new Map<string, number>();

  notify(kind: string, importance: Importance, message: string, ...actions: NotificationAction[]): void {
    const level = setting('notifications.level');
    if (!SHOWN_AT[level].includes(importance)) return;
    const missed = this.open.get(kind);
    if (missed !== undefined) {
      this.open.set(kind, missed + 1);
      return;
    }
    this.open.set(kind, 0);
    // Importance decides whether it shows; only failures look like errors (a finished download is good news).
    const show = importance === 'error' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    void show(message, ...actions.map((a) => a.title)).then((picked) => {
      const more = this.open.get(kind) ?? 0;
      this.open.delete(kind);
      actions.find((a) => a.title === picked)?.run();
      if (more > 0 && !picked) void vscode.window.showInformationMessage(`${more} more like this meanwhile; see the Models view and the logs.`);
    });
  }
}
