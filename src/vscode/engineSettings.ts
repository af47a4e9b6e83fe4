import { mkdir, access, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as vscode from 'vscode';
import type { DownloadSettings, HealthSettings } from '../engine';
import { setting, downloadTransport } from './settings';

/** `modelAvailability.download.*` as the engine's DownloadSettings. */
export function downloadSettings(): Partial<DownloadSettings> {
  return {
    concurrency: setting('download.concurrency'),
    connections: setting('download.connections'),
    speedLimitMBps: setting('download.speedLimitMBps'),
    maxRetries: setting('download.maxRetries'),
    retryBaseDelayMs: setting('download.retryBaseDelayMs'),
    stallTimeoutSeconds: setting('download.stallTimeoutSeconds'),
    pauseDuringGeneration: setting('download.pauseDuringGeneration'),
    transport: downloadTransport(),
  };
}

/** `modelAvailability.health.*` as the engine's HealthSettings. */
export function healthSettings(): HealthSettings {
  return {
    checkIntervalHours: setting('health.checkIntervalHours'),
    autoRepair: setting('health.autoRepair'),
  };
}

/** `modelAvailability.storagePath` as an absolute folder, or undefined when it is empty (global storage). */
export function configuredStoreRoot(): string | undefined {
  const configured = setting('storagePath').trim();
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
