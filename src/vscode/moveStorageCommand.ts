import path from 'node:path';
import * as vscode from 'vscode';
import type { AvailabilityEngine } from '../engine';
import { moveStore } from '../engine';
import { formatBytes } from '../engine';
import type { ExtensionLog } from './logs';
import { configuredStoreRoot } from './engineSettings';
import { updateSetting } from './settings';

/**
 * "Move Model Storage…": copy the store to another folder or disk, verify every file, switch the setting,
 * delete the old copy, then reload the window so everything uses the new place. Resumable: running it
 * again with the same target continues an interrupted move. A keybinding or task may give the target
 * folder as the argument (a path or a file URI); otherwise the person picks one. Either way they confirm.
 */
export async function moveStorage(engine: AvailabilityEngine, currentRoot: string, log: ExtensionLog, targetArg?: unknown): Promise<void> {
  const configured = configuredStoreRoot();
  if (configured && configured !== path.resolve(currentRoot)) {
    // A previous move switched the setting; this window still runs on the old folder until it reloads.
    const pick = await vscode.window.showWarningMessage(`The models were moved to ${configured}; reload the window before moving them again.`, 'Reload Window');
    if (pick) await vscode.commands.executeCommand('workbench.action.reloadWindow');
    return;
  }
  const inUse = engine.uses.reasonAgainstMove();
  if (inUse) {
    void vscode.window.showWarningMessage(`Model storage cannot be moved now: ${inUse}. Move it once they are released.`);
    return;
  }
  const target = targetFolder(targetArg) ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Move Models Here', title: 'Move Model Storage' }))?.[0]?.fsPath;
  if (!target) return;
  const ok = await vscode.window.showWarningMessage(`Move all models from ${currentRoot} to ${target}?`, { modal: true, detail: 'Downloads pause meanwhile. Every file is verified at the new place before the old copy is deleted; the window reloads at the end.' }, 'Move');
  if (!ok) return;
  engine.downloads.pauseAll();
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Moving model storage', cancellable: true }, (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      // Copying and verifying is most of the work; deleting the old copy is the last tenth.
      let last = 0;
      return moveStore(currentRoot, target, {
        uses: engine.uses,
        signal: ac.signal,
        onProgress: (p) => {
          const share = p.totalBytes ? p.bytesDone / p.totalBytes : 1;
          const pct = p.phase === 'copy' ? share * 90 : 90 + share * 10;
          progress.report({ message: `${p.phase === 'copy' ? 'copying and verifying' : 'deleting the old copy'} ${p.file ?? ''} (${formatBytes(p.bytesDone)} of ${formatBytes(p.totalBytes)})`, increment: Math.max(0, pct - last) });
          last = Math.max(last, pct);
        },
        commit: () => Promise.resolve(updateSetting('storagePath', target, vscode.ConfigurationTarget.Global)),
      });
    });
    log.info(`moved the store from ${currentRoot} to ${target}: ${result.files} files, ${formatBytes(result.bytes)} (${formatBytes(result.bytesCopied)} copied now)`);
    // Everything in this window still points at the old folder: reload now rather than let it write there.
    void vscode.window.showInformationMessage(`Moved ${result.files} files (${formatBytes(result.bytes)}) to ${target}. Reloading the window to use the new location.`);
    await vscode.commands.executeCommand('workbench.action.reloadWindow');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error(`moving the store to ${target} failed: ${message}`);
    const pick = await vscode.window.showErrorMessage(`Move Model Storage: ${message}. Nothing was deleted; run it again to continue.`, 'Show Logs');
    if (pick) log.show();
  }
}

function targetFolder(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  return typeof arg === 'string' && path.isAbsolute(arg) ? path.resolve(arg) : undefined;
}
