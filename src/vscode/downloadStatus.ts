import * as vscode from 'vscode';
import { Disposable } from '../engine';
import type { AvailabilityEngine, ModelState } from '../engine';
import { formatBytes, formatDuration, throttled } from '../engine';

const MIN_UPDATE_MS = 500;

/** The one status bar item: aggregate download progress, or models that need attention; hidden otherwise. */
export class DownloadStatus extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('modelAvailability.status', vscode.StatusBarAlignment.Left, 10));
  /** At most two updates a second, and never a lost final state. */
  private readonly redraw = this._register(throttled(MIN_UPDATE_MS, () => this.update()));
  private readonly contextKeys = new Map<string, boolean>();
  /** A line about something else the window waits for (the local API's port), shown in the tooltip. */
  private note: string | undefined;

  constructor(private readonly engine: AvailabilityEngine) {
    super();
    this.item.name = 'Model Availability';
    this._register(engine.onDidChangeModel(() => {
      // The palette's Pause / Resume / Cancel follow these keys: they must not lag behind the Models view.
      this.updateContextKeys(this.engine.getModelStates());
      this.redraw.push();
    }));
    // An end is shown at once, with its notification, not up to half a second later.
    this._register(engine.onDidFinish(() => this.redraw.flush()));
    this._register(engine.onDidFail(() => this.redraw.flush()));
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
      const done = active.reduce((a, s) => a + (s.progress?.bytesDone ?? 0), 0);
      const total = active.reduce((a, s) => a + (s.progress?.total ?? s.totalBytes ?? 0), 0);
      const speed = active.reduce((a, s) => a + (s.progress?.speed ?? 0), 0);
      const parts = [`${active.length} downloading`];
      if (total > 0) parts.push(`${Math.floor((done / total) * 100)}%`);
      if (speed > 0 && total > done) parts.push(formatDuration((total - done) / speed));
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
      if (s.state === 'downloading' && s.progress) {
        const p = s.progress;
        line = `$(sync~spin) ${name}: ${p.total ? `${Math.floor((p.bytesDone / p.total) * 100)}%` : formatBytes(p.bytesDone)} · ${formatBytes(p.speed)}/s${p.etaSeconds !== undefined ? ` · ${formatDuration(p.etaSeconds)} left` : ''}`;
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
