import * as vscode from 'vscode';
import { setting } from './settings';

export type NotificationLevel = 'all' | 'important' | 'errors' | 'none';
/** How much a notification matters; `level` decides which ones show. */
export type Importance = 'info' | 'important' | 'error';

export interface NotificationAction {
  readonly title: string;
  run(): unknown;
}

/** One notification's text and buttons. */
export interface Notice {
  readonly message: string;
  readonly actions: readonly NotificationAction[];
  /** What it is about (model ids), for saying several at once. */
  readonly subjects?: readonly string[];
}

/** Several notices of one kind that came close together, as one notification. */
export type CombineNotices = (notices: readonly Notice[]) => Notice;

const SHOWN_AT: Record<NotificationLevel, readonly Importance[]> = {
  all: ['info', 'important', 'error'],
  important: ['important', 'error'],
  errors: ['error'],
  none: [],
};

/** Notices of one kind within this long of the first are shown together. */
const BATCH_MS = 2000;

/** Each notice's sentence, and each button once, running it for every notice that offered it. */
const joinNotices: CombineNotices = (notices) => {
  const titles = [...new Set(notices.flatMap((n) => n.actions.map((a) => a.title)))];
  return {
    message: notices.map((n) => n.message).join(' '),
    actions: titles.map((title) => ({
      title,
      run: async () => { for (const n of notices) await n.actions.find((a) => a.title === title)?.run(); },
    })),
  };
};

interface Batch {
  importance: Importance;
  readonly notices: Notice[];
  readonly combine: CombineNotices;
}

/**
 * Notifications by `modelAvailability.notifications.level`. Every notice is shown: those of one kind
 * that come within BATCH_MS of each other as one notification (e.g. "3 models are ready: …"), so a burst
 * is readable and nothing waits behind an unread one.
 */
export class Notifier implements vscode.Disposable {
  private readonly batches = new Map<string, Batch>();
  private readonly timers = new Set<NodeJS.Timeout>();

  notify(kind: string, importance: Importance, message: string, ...actions: NotificationAction[]): void {
    this.post(kind, importance, { message, actions }, joinNotices);
  }

  /** A notice whose kind knows how to say several at once (the first notice of a batch decides how). */
  post(kind: string, importance: Importance, notice: Notice, combine: CombineNotices): void {
    const level = setting('notifications.level');
    if (!SHOWN_AT[level].includes(importance)) return;
    const open = this.batches.get(kind);
    if (open) {
      open.notices.push(notice);
      if (importance === 'error' || open.importance === 'info') open.importance = importance;
      return;
    }
    this.batches.set(kind, { importance, notices: [notice], combine });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const batch = this.batches.get(kind);
      this.batches.delete(kind);
      if (batch) this.show(batch);
    }, BATCH_MS);
    this.timers.add(timer);
  }

  private show(batch: Batch): void {
    const { message, actions } = batch.notices.length === 1 ? batch.notices[0] : batch.combine(batch.notices);
    // Importance decides whether it shows; only failures look like errors (a finished download is good news).
    const show = batch.importance === 'error' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    void show(message, ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.batches.clear();
  }
}
