import * as vscode from 'vscode';
import type { AvailabilityEngine, HealthReason, ModelState } from '../engine';
import { formatBytes, onlyUnverifiable } from '../engine';
import type { ExtensionLog } from './logs';
import { resolveModel } from './modelPicker';
import type { Notifier } from './notifier';

type Register = (id: string, fn: (...args: unknown[]) => unknown) => void;

export interface IntegrityCommandDeps {
  readonly engine: AvailabilityEngine;
  readonly notifier: Notifier;
  readonly log: ExtensionLog;
}

/** Models with something on disk to check, repair or remove (a damaged model's state is "missing", its bytes are there). */
const ON_DISK = (s: ModelState) => s.bytesOnDisk > 0 && s.state !== 'downloading' && s.state !== 'queued';

function reasonsText(reasons: readonly HealthReason[]): string {
  return reasons.map((r) => r.message).join('; ');
}

/**
 * A leased model is never removed or repaired in place: ask whether to do it once the lease is released.
 * Resolves true when the model is free (now or after waiting), false when the person declined.
 */
async function whenFree(deps: IntegrityCommandDeps, id: string, name: string, action: string): Promise<boolean> {
  const { uses } = deps.engine;
  const inUse = uses.reasonAgainst(id);
  if (!inUse) return true;
  const pick = await vscode.window.showWarningMessage(`${name} cannot be ${action} in place right now: ${inUse}.`, `${action[0].toUpperCase()}${action.slice(1)} When Released`);
  if (!pick) return false;
  await new Promise<void>((resolve) => {
    const sub = uses.onDidChange(() => { if (!uses.reasonAgainst(id)) { sub.dispose(); resolve(); } });
  });
  return true;
}

/** Verify, Verify All, Repair, Re-download and Remove: each with progress, cancellation, and a next step. */
export function registerIntegrityCommands(register: Register, deps: IntegrityCommandDeps): void {
  const { engine, notifier, log } = deps;
  const name = (id: string) => engine.getModels().find((m) => m.id === id)?.name ?? id;

  const offerRepair = (id: string, reasons: readonly HealthReason[]) => notifier.notify('needsRepair', 'important',
    `${name(id)} is damaged: ${reasonsText(reasons)}.`,
    { title: 'Repair', run: () => vscode.commands.executeCommand('modelAvailability.repair', id) },
    { title: 'Show Logs', run: () => log.show() });

  const verifyOne = async (id: string, progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken) => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    let last = 0;
    return engine.integrity.verify(id, {
      signal: ac.signal,
      onProgress: (p) => {
        const pct = p.totalBytes ? (p.bytesDone / p.totalBytes) * 100 : 0;
        progress.report({ message: `${Math.floor(pct)}%${p.file ? ` · ${p.file}` : ''}`, increment: pct - last });
        last = pct;
      },
    });
  };

  register('verify', async (arg) => {
    const m = await resolveModel(engine, arg, ON_DISK, 'Verify Model');
    if (!m) return;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying ${m.name}`, cancellable: true },
      (progress, token) => verifyOne(m.id, progress, token)).then((r) => r, (err: Error) => { void vscode.window.showErrorMessage(`Verify Model: ${err.message}`); return undefined; });
    if (!report) return;
    log.info(`verified: ${report.health ?? 'not downloaded'}${report.healthReasons.length ? ` (${reasonsText(report.healthReasons)})` : ''}`, m.id);
    if (report.health === 'red') offerRepair(m.id, report.healthReasons);
    else if (report.health === 'green') void vscode.window.showInformationMessage(`${m.name} is healthy: every file matches its sha256.`);
    else void vscode.window.showInformationMessage(`${m.name}: ${reasonsText(report.healthReasons) || 'checked'}.`);
  });

  register('verifyAll', async () => {
    const ids = engine.getModelStates().filter((s) => s.bytesOnDisk > 0 && s.state !== 'downloading' && s.state !== 'queued').map((s) => s.id);
    if (ids.length === 0) { void vscode.window.showInformationMessage('No downloaded models to verify.'); return; }
    const red: string[] = [];
    let checked = 0;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Verifying models', cancellable: true }, async (progress, token) => {
      for (const [i, id] of ids.entries()) {
        if (token.isCancellationRequested) break;
        progress.report({ message: `${name(id)} (${i + 1} of ${ids.length})` });
        const report = await verifyOne(id, { report: (v) => progress.report({ message: `${name(id)} ${v.message ?? ''} (${i + 1} of ${ids.length})` }) }, token).catch((err: Error) => { log.warn(`verify failed: ${err.message}`, id); return undefined; });
        if (!report) continue;
        checked++;
        if (report.health === 'red') red.push(id);
      }
    });
    if (red.length === 1) offerRepair(red[0], engine.getModelState(red[0])?.healthReasons ?? []);
    else if (red.length > 1) notifier.notify('needsRepair', 'important', `${red.length} of ${checked} models are damaged: ${red.map(name).join(', ')}.`, { title: 'Repair All', run: async () => { for (const id of red) await vscode.commands.executeCommand('modelAvailability.repair', id); } });
    else void vscode.window.showInformationMessage(`Verified ${checked} ${checked === 1 ? 'model' : 'models'}: all healthy or only minor notes (see the Models view).`);
  });

  const repairLike = (command: 'repair' | 'redownload', title: string) => register(command, async (arg) => {
    const m = await resolveModel(engine, arg, ON_DISK, title);
    if (!m) return;
    if (command === 'redownload') {
      const ok = await vscode.window.showWarningMessage(`Download every file of ${m.name} again? The current copy stays until the new one is verified.`, { modal: true }, 'Re-download');
      if (!ok) return;
    }
    if (!(await whenFree(deps, m.id, m.name, command === 'repair' ? 'repaired' : 're-downloaded'))) return;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${title}: ${m.name}` },
      () => (command === 'repair' ? engine.integrity.repair(m.id) : engine.integrity.redownload(m.id))).then((r) => r, (err: Error) => { void vscode.window.showErrorMessage(`${title}: ${err.message}`); return undefined; });
    if (!result) return;
    if (result.health === 'green') {
      void vscode.window.showInformationMessage(result.repaired.length ? `${m.name} is repaired and verified (${result.repaired.join(', ')}).` : `${m.name} is healthy; nothing needed repair.`);
    } else if (!result.error && onlyUnverifiable(result.health, result.healthReasons)) {
      // As good as the catalog allows: say what was done, and what could not be checked.
      void vscode.window.showInformationMessage(`${m.name}: ${result.repaired.length ? `repaired (${result.repaired.join(', ')})` : 'nothing needed repair'}; ${reasonsText(result.healthReasons)}.`);
    } else {
      notifier.notify('repairFailed', 'error', `${title} of ${m.name} did not finish: ${result.error ?? reasonsText(result.healthReasons)}`,
        { title: 'Re-download', run: () => vscode.commands.executeCommand('modelAvailability.redownload', m.id) },
        { title: 'Show Logs', run: () => log.show() });
    }
  });
  repairLike('repair', 'Repair Model');
  repairLike('redownload', 'Re-download Model');

  register('removeVersion', async (arg) => {
    if (!arg || typeof arg !== 'object' || !('version' in arg)) return;
    const node = arg as { model: { id: string; name: string }; version: { version: string; bytes: number } };
    const ok = await vscode.window.showWarningMessage(`Remove version ${node.version.version} of ${node.model.name} and free ${formatBytes(node.version.bytes)}?`, { modal: true }, 'Remove');
    if (!ok) return;
    try {
      const freed = await engine.removeVersion(node.model.id, node.version.version);
      void vscode.window.setStatusBarMessage(`$(trash) Removed ${node.model.name} ${node.version.version}: ${formatBytes(freed)} freed`, 5000);
    } catch (err) {
      void vscode.window.showErrorMessage(`Remove Version: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  register('remove', async (arg) => {
    const m = await resolveModel(engine, arg, ON_DISK, 'Remove Model');
    if (!m) return;
    const s = engine.getModelState(m.id);
    const ok = await vscode.window.showWarningMessage(`Remove ${m.name} and free ${formatBytes(s?.bytesOnDisk ?? 0)}?`, { modal: true, detail: 'Its files and manifest are deleted. You can download it again later.' }, 'Remove');
    if (!ok) return;
    if (!(await whenFree(deps, m.id, m.name, 'removed'))) return;
    try {
      const freed = await engine.integrity.remove(m.id);
      log.info(`removed (${formatBytes(freed)} freed)`, m.id);
      void vscode.window.setStatusBarMessage(`$(trash) Removed ${m.name}: ${formatBytes(freed)} freed`, 5000);
    } catch (err) {
      void vscode.window.showErrorMessage(`Remove Model: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}
