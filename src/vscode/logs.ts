import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../engine';
import type { Logger } from '../engine';

export type LogName = 'model_management' | 'downloads' | 'health_monitor';

const CHANNEL_TITLES: Record<LogName, string> = {
  model_management: 'Model Availability',
  downloads: 'Model Availability: Downloads',
  health_monitor: 'Model Availability: Health',
};

/** One log: a LogOutputChannel people can read in the Output panel, and a `<name>.log` file in the extension's log folder. */
export class ExtensionLog extends Disposable implements Logger {
  private readonly channel: vscode.LogOutputChannel;
  private pending: Promise<void> = Promise.resolve();

  constructor(readonly name: LogName, private readonly file: string) {
    super();
    this.channel = this._register(vscode.window.createOutputChannel(CHANNEL_TITLES[name], { log: true }));
  }

  info(message: string, modelId?: string): void { this.log('INFO', message, modelId); }
  warn(message: string, modelId?: string): void { this.log('WARN', message, modelId); }
  error(message: string, modelId?: string): void { this.log('ERROR', message, modelId); }

  private log(level: 'INFO' | 'WARN' | 'ERROR', message: string, modelId: string | undefined): void {
    const text = modelId ? `[${modelId}] ${message}` : message;
    if (level === 'INFO') this.channel.info(text); else if (level === 'WARN') this.channel.warn(text); else this.channel.error(text);
    this.write(level, text);
  }

  show(): void { this.channel.show(true); }

  private write(level: string, message: string): void {
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`;
    // Serialise appends so lines keep their order; a failing log file must never break the extension.
    this.pending = this.pending.then(() => appendFile(this.file, line)).catch(() => undefined);
  }
}

export class ExtensionLogs extends Disposable {
  readonly management: ExtensionLog;
  readonly downloads: ExtensionLog;
  readonly health: ExtensionLog;

  constructor(readonly folder: string) {
    super();
    void mkdir(folder, { recursive: true }).catch(() => undefined);
    this.management = this._register(new ExtensionLog('model_management', path.join(folder, 'model_management.log')));
    this.downloads = this._register(new ExtensionLog('downloads', path.join(folder, 'downloads.log')));
    this.health = this._register(new ExtensionLog('health_monitor', path.join(folder, 'health_monitor.log')));
  }
}
