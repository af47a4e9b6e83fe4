import { mkdir, access, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { DownloadSettings, HealthSettings } from '../engine';
import { config, downloadTransport } from './settings';

/** `modelAvailability.download.*` as the engine's DownloadSettings. */
export function downloadSettings(): Partial<DownloadSettings> {
  const c = config();
  return {
    concurrency: c.get<number>('download.concurrency', 2),
    connections: c.get<number>('download.connections', 4),
    speedLimitMBps: c.get<number>('download.speedLimitMBps', 0),
    maxRetries: c.get<number>('download.maxRetries', 3),
    retryBaseDelayMs: c.get<number>('download.retryBaseDelayMs', 1000),
    stallTimeoutSeconds: c.get<number>('download.stallTimeoutSeconds', 30),
    pauseDuringGeneration: c.get<boolean>('download.pauseDuringGeneration', true),
    transport: downloadTransport(),
  };
}

/** `modelAvailability.health.*` as the engine's HealthSettings. */
export function healthSettings(): HealthSettings {
  const c = config();
  return {
    checkIntervalHours: c.get<number>('health.checkIntervalHours', 24),
    autoRepair: c.get<boolean>('health.autoRepair', true),
  };
}

/** `modelAvailability.storagePath` as an absolute folder, or undefined when it is empty (global storage). */
export function configuredStoreRoot(): string | undefined {
  const configured = config().get<string>('storagePath', '').trim();
  if (!configured) return undefined;
  return path.resolve(configured.startsWith('~') ? path.join(os.homedir(), configured.slice(1)) : configured);
}

/**
 * The store's root folder: `modelAvailability.storagePath`, or the extension's global storage.
 * Throws an error that names the folder and the fix when it cannot be written.
 */
export async function storeRoot(context: vscode.ExtensionContext): Promise<string> {
  const root = configuredStoreRoot() ?? context.globalStorageUri.fsPath;
  try {
    await mkdir(root, { recursive: true });
    await access(root, constants.W_OK);
  } catch (err) {
    throw new Error(`the model storage folder ${root} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another folder in the setting modelAvailability.storagePath`, { cause: err });
  }
  return root;
}
