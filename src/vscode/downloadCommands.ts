import path from 'node:path';
import * as vscode from 'vscode';
import type { AvailabilityEngine, DownloadPriority, ModelStateName } from '../engine';
import { describeModel } from './modelPresentation';
import type { ModelsTree } from './modelsTree';
import { resolveModel } from './modelPicker';

type Register = (id: string, fn: (...args: unknown[]) => unknown) => void;

const PRIORITIES: { label: string; value: DownloadPriority; description: string }[] = [
  { label: '$(arrow-up) High', value: 'high', description: 'before all others' },
  { label: '$(dash) Normal', value: 'normal', description: 'the default' },
  { label: '$(arrow-down) Low', value: 'low', description: 'after all others' },
];

export interface DownloadCommandDeps {
  readonly engine: AvailabilityEngine;
  readonly tree: ModelsTree;
  /** Downloads a person started: their completion is worth a notification. */
  readonly startedByUser: Set<string>;
}

/** Commands for downloads and paths; each works from the Command Palette (with a quick pick) and from the tree. */
export function registerDownloadCommands(register: Register, deps: DownloadCommandDeps): void {
  const { engine, tree, startedByUser } = deps;
  const pick = (arg: unknown, states: readonly ModelStateName[], title: string) => resolveModel(engine, arg, states, title);

  register('download', async (arg) => {
    const m = await pick(arg, ['missing', 'failed', 'paused'], 'Download Model');
    if (!m) return;
    try {
      engine.download([m.id]);
      startedByUser.add(m.id);
    } catch (err) {
      void vscode.window.showWarningMessage(`Download Model: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  register('pause', async (arg) => {
    const m = await pick(arg, ['downloading', 'queued'], 'Pause Download');
    if (m) engine.downloads.pause(m.id);
  });
  register('resume', async (arg) => {
    const m = await pick(arg, ['paused', 'failed'], 'Resume Download');
    if (!m) return;
    startedByUser.add(m.id);
    if (engine.getModelState(m.id)?.state === 'paused') engine.downloads.resume(m.id); else engine.download([m.id]);
  });
  register('cancel', async (arg) => {
    const m = await pick(arg, ['downloading', 'queued', 'paused'], 'Cancel Download');
    if (!m) return;
    const ok = await vscode.window.showWarningMessage(`Cancel the download of ${m.name} and delete what was downloaded so far?`, { modal: true }, 'Cancel Download');
    if (ok) await engine.cancel(m.id);
  });
  register('pauseAll', () => engine.downloads.pauseAll());
  register('resumeAll', () => engine.downloads.resumeAll());
  register('setPriority', async (arg) => {
    const m = await pick(arg, ['downloading', 'queued', 'paused'], 'Set Download Priority');
    if (!m) return;
    const current = engine.getModelState(m.id)?.priority;
    const choice = await vscode.window.showQuickPick(PRIORITIES.map((p) => ({ ...p, picked: p.value === current })), { title: `Priority of ${m.name}` });
    if (choice) engine.downloads.setPriority(m.id, choice.value);
  });
  register('showDownloads', () => showDownloads(engine));
  register('focusModel', async (arg) => {
    const m = await pick(arg, ['ready', 'missing', 'downloading', 'queued', 'paused', 'failed'], 'Show Model');
    if (m) await tree.view.reveal({ kind: 'model', model: m }, { select: true, focus: true, expand: true });
  });
  register('copyPath', async (arg) => {
    const p = await localPath(engine, arg);
    if (!p) return;
    await vscode.env.clipboard.writeText(p);
    void vscode.window.setStatusBarMessage(`$(copy) Copied ${p}`, 3000);
  });
  register('revealInFileExplorer', async (arg) => {
    const p = await localPath(engine, arg);
    if (p) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(p));
  });
}

/** A file's path for a file item; the model's folder for a model. */
async function localPath(engine: AvailabilityEngine, arg: unknown): Promise<string | undefined> {
  if (arg && typeof arg === 'object' && 'file' in arg && 'model' in arg) {
    const node = arg as { model: { id: string }; file: { path: string } };
    return engine.getModelState(node.model.id)?.files.find((f) => f.path === node.file.path)?.localPath;
  }
  const m = await resolveModel(engine, arg, ['ready'], 'Copy Path');
  const first = m ? engine.getModelState(m.id)?.files[0] : undefined;
  if (!m || !first) return undefined;
  return m.files.length === 1 ? first.localPath : path.dirname(first.localPath);
}

interface DownloadPick extends vscode.QuickPickItem { readonly id: string }

/** The status bar's quick pick: active and queued downloads, each with pause / resume / cancel / priority buttons. */
async function showDownloads(engine: AvailabilityEngine): Promise<void> {
  const qp = vscode.window.createQuickPick<DownloadPick>();
  qp.title = 'Model Downloads';
  qp.placeholder = 'Pick a download to show it in the Models view; the buttons pause, resume, cancel or prioritise it';
  const button = (icon: string, tooltip: string) => ({ iconPath: new vscode.ThemeIcon(icon), tooltip });
  const PAUSE = button('debug-pause', 'Pause');
  const RESUME = button('debug-continue', 'Resume');
  const CANCEL = button('close', 'Cancel');
  const PRIORITY = button('arrow-up', 'Move to high priority');
  const refresh = () => {
    qp.items = engine.getModelStates()
      .filter((s) => ['downloading', 'queued', 'paused'].includes(s.state))
      .map((s) => {
        const model = engine.getModels().find((m) => m.id === s.id);
        return {
          id: s.id,
          label: model?.name ?? s.id,
          description: model ? describeModel(model, s) : s.state,
          buttons: [s.state === 'paused' ? RESUME : PAUSE, PRIORITY, CANCEL],
        };
      });
    if (qp.items.length === 0) qp.placeholder = 'No downloads right now';
  };
  refresh();
  const sub = engine.onDidChangeModel(refresh);
  qp.onDidTriggerItemButton(async ({ item, button: b }) => {
    if (b === PAUSE) engine.downloads.pause(item.id);
    else if (b === RESUME) engine.downloads.resume(item.id);
    else if (b === PRIORITY) engine.downloads.setPriority(item.id, 'high');
    else if (b === CANCEL) await engine.cancel(item.id);
  });
  qp.onDidAccept(() => {
    const id = qp.selectedItems[0]?.id;
    qp.hide();
    if (id) void vscode.commands.executeCommand('modelAvailability.focusModel', id);
  });
  qp.onDidHide(() => { sub.dispose(); qp.dispose(); });
  qp.show();
}
