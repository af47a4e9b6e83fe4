import * as vscode from 'vscode';
import { Disposable } from '../engine';
import type { AvailabilityEngine, ModelState } from '../engine';
import { formatDuration } from '../engine';
import { downloadFigures, percentText, stateText } from './modelPresentation';

/** The one status bar item: aggregate download progress, or models that need attention; hidden otherwise. */
export class DownloadStatus extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('modelAvailability.status', vscode.StatusBarAlignment.Left, 10));
  private readonly contextKeys = new Map<string, boolean>();
  /** A line about something else the window waits for (the local API's port), shown in the tooltip. */
  private note: string | undefined;

  constructor(private readonly engine: AvailabilityEngine) {
    super();
    this.item.name = 'Model Availability';
    // The engine throttles progress per model and the Models view redraws on the same events, so the status
    // bar and the rows show the same figures at the same moment. The palette's Pause / Resume / Cancel follow
    // the context keys: they must not lag behind the Models view.
    this._register(engine.onDidChangeModel(() => {
      this.updateContextKeys(this.engine.getModelStates());
      this.update();
    }));
    // An end is shown at once, with its notification.
    this._register(engine.onDidFinish(() => this.update()));
    this._register(engine.onDidFail(() => this.update()));
    this.update();
  }

  setNote(note: string | undefined): void {
    this.note = note;
    this.update();
  }

  private update(): void {
    const states = this.engine.getModelStates();
    const active = states.filter((s) => s.state === 'downloading');
    const queued = states.filter((s) => s.state === 'queued');
    const paused = states.filter((s) => s.state === 'paused');
    // Red with files on disk needs a repair; a first download that failed has nothing to repair.
    const needRepair = states.filter((s) => s.health === 'red' && s.bytesOnDisk > 0);
    const failed = states.filter((s) => s.health === 'red' && s.bytesOnDisk === 0);
    this.updateContextKeys(states);

    if (active.length + queued.length > 0) {
      const figures = active.map((s) => downloadFigures(s));
      const done = figures.reduce((a, f) => a + (f?.bytesDone ?? 0), 0);
      const total = figures.every((f) => f?.total !== undefined) ? figures.reduce((a, f) => a + (f?.total ?? 0), 0) : undefined;
      const speeds = figures.map((f) => f?.bytesPerSecond);
      const parts = [`${active.length} downloading`];
      // The same percentage as the rows; no figure before every download has one.
      if (total && figures.length > 0) parts.push(percentText(done, total));
      if (total && speeds.every((v) => v !== undefined) && total > done) parts.push(`${formatDuration((total - done) / speeds.reduce((a: number, v) => a + (v ?? 0), 0))} left`);
      if (queued.length) parts.push(`${queued.length} queued`);
      this.item.text = `$(sync~spin) ${parts.join(' · ')}`;
      this.item.tooltip = this.tooltip([...active, ...queued, ...paused]);
      this.item.command = { command: 'modelAvailability.showDownloads', title: 'Show Downloads' };
      this.item.backgroundColor = undefined;
      this.item.accessibilityInformation = { label: `Model downloads: ${parts.join(', ')}` };
      this.item.show();
    } else if (needRepair.length > 0) {
      this.item.text = `$(warning) ${needRepair.length} ${needRepair.length === 1 ? 'model needs' : 'models need'} repair`;
      this.item.tooltip = this.tooltip(needRepair);
      // One model: repair it; several: show them, so the person chooses.
      this.item.command = needRepair.length === 1
        ? { command: 'modelAvailability.repair', title: 'Repair Model', arguments: [needRepair[0].id] }
        : { command: 'modelAvailability.focusModel', title: 'Show Model', arguments: [needRepair[0].id] };
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.accessibilityInformation = undefined;
      this.item.show();
    } else if (failed.length > 0) {
      this.item.text = `$(warning) ${failed.length} ${failed.length === 1 ? 'download' : 'downloads'} failed`;
      this.item.tooltip = this.tooltip(failed);
      this.item.command = { command: 'modelAvailability.focusModel', title: 'Show Model', arguments: [failed[0].id] };
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.accessibilityInformation = undefined;
      this.item.show();
    } else if (this.note) {
      this.item.text = '$(plug) Model API waiting';
      this.item.tooltip = this.tooltip([]);
      this.item.command = { command: 'modelAvailability.openLogs', title: 'Show Logs' };
      this.item.backgroundColor = undefined;
      this.item.accessibilityInformation = undefined;
      this.item.show();
    } else {
      this.item.hide();
    }
  }

  private updateContextKeys(states: readonly ModelState[]): void {
    this.setContext('modelAvailability.hasActiveDownloads', states.some((s) => s.state === 'downloading' || s.state === 'queued'));
    this.setContext('modelAvailability.hasPausedDownloads', states.some((s) => s.state === 'paused'));
    // The walkthrough's "Download a model" step is done once one is.
    this.setContext('modelAvailability.hasReadyModel', states.some((s) => s.state === 'ready'));
  }

  private setContext(key: string, value: boolean): void {
    if (this.contextKeys.get(key) === value) return;
    this.contextKeys.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  private tooltip(states: readonly ModelState[]): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown('**Model Availability**\n\n');
    for (const s of states) {
      const name = this.engine.getModels().find((m) => m.id === s.id)?.name ?? s.id;
      let line = `${name}: ${s.state}`;
      if (s.state === 'downloading') {
        line = `$(sync~spin) ${name}: ${stateText(s)}`;
      } else if (s.state === 'queued') {
        line = `$(clock) ${name}: queued #${s.queuePosition ?? '?'}${s.waitEstimateSeconds !== undefined ? ` · ~${formatDuration(s.waitEstimateSeconds)}` : ''}`;
      } else if (s.state === 'paused') {
        line = `$(debug-pause) ${name}: paused${s.pausedReason ? ` (${s.pausedReason})` : ''}`;
      } else if (s.health === 'red') {
        line = `$(error) ${name}: ${s.error ?? s.healthReasons.map((r) => r.message).join('; ')}`;
      }
      md.appendMarkdown(`${line}\n\n`);
    }
    if (this.note) md.appendText(this.note);
    return md;
  }
}
