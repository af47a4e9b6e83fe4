import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import {
  addToCatalogFile, defaultLocations, findLocalModels, formatBytes, importCandidates, locationOfFolder, SOURCE_NAMES,
  type AvailabilityEngine, type ForeignLocation, type ForeignSourceKind, type ImportCandidate, type LocalModels,
} from '../engine';
import type { CatalogService } from './catalogService';
import type { ExtensionLog } from './logs';
import { setting, updateSetting } from './settings';

export interface LocalModelsDeps {
  readonly engine: AvailabilityEngine;
  readonly catalogs: CatalogService;
  readonly log: ExtensionLog;
  /** Where a new catalog for found models goes when the person has no catalog file. */
  readonly globalStorage: string;
  readonly state: vscode.Memento;
}

/** The tools' usual places plus `modelAvailability.import.locations`. */
export async function importLocations(): Promise<ForeignLocation[]> {
  const extra = setting('import.locations').map((p) => (p.startsWith('~') ? path.join(os.homedir(), p.slice(1)) : p));
  return [...defaultLocations(), ...await Promise.all(extra.filter((p) => path.isAbsolute(p)).map(locationOfFolder))];
}

/** Before every download: where to look for a copy to link instead (none when `import.reuseOnDownload` is off). */
export async function reuseLocations(): Promise<ForeignLocation[]> {
  return setting('import.reuseOnDownload') ? importLocations() : [];
}

interface FoundItem extends vscode.QuickPickItem { readonly candidate: ImportCandidate }

const SOURCE_ORDER: readonly ForeignSourceKind[] = ['hf', 'ollama', 'lmstudio', 'folder'];

/**
 * "Find Models on This Machine…": the model files in other tools' stores, grouped by source, each with its size
 * and the catalog model it is; the person ticks some, then imports them (linked, verified) or adds the ones no
 * catalog lists to their catalog and imports those too.
 */
export async function findLocalModelsCommand(deps: LocalModelsDeps, found?: LocalModels): Promise<void> {
  const local = found ?? await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Looking for models on this machine' },
    async () => findLocalModels(deps.engine, await importLocations()));
  if (local.candidates.length === 0) {
    const pick = await vscode.window.showInformationMessage('No models found in the Hugging Face cache, Ollama or LM Studio. Name more folders in modelAvailability.import.locations.', 'Open Settings');
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'modelAvailability.import');
    return;
  }
  const modelName = (id: string): string => deps.engine.getModels().find((m) => m.id === id)?.name ?? id;
  const items: (FoundItem | vscode.QuickPickItem)[] = [];
  for (const source of SOURCE_ORDER) {
    const group = local.candidates.filter((c) => c.found.source === source);
    if (group.length === 0) continue;
    items.push({ label: sourceTitle(source), kind: vscode.QuickPickItemKind.Separator });
    for (const c of group) {
      const owner = local.models.find((m) => m.files.includes(c.found))?.name ?? '';
      const what = c.match ? `${modelName(c.match.modelId)}${c.match.installed ? ' (installed)' : ''}` : 'in no catalog';
      items.push({
        label: c.found.name, description: `${formatBytes(c.found.size)} · ${what}`, detail: `${owner} · ${c.found.path}`,
        picked: c.match !== undefined && !c.match.installed, candidate: c,
      } satisfies FoundItem);
    }
  }
  const picked = (await vscode.window.showQuickPick(items, {
    title: 'Find Models on This Machine', placeHolder: 'Tick the files to use: linked into the model store, verified', canPickMany: true, matchOnDetail: true,
  }))?.filter((i): i is FoundItem => 'candidate' in i).map((i) => i.candidate);
  if (!picked?.length) return;
  const unlisted = picked.filter((c) => !c.match);
  const actions = [
    ...(picked.some((c) => c.match && !c.match.installed) ? ['Import'] : []),
    ...(unlisted.length ? ['Add to Catalog'] : []),
  ];
  if (actions.length === 0) {
    void vscode.window.showInformationMessage('The files you picked are installed already.');
    return;
  }
  const action = actions.length === 1 ? actions[0] : await vscode.window.showInformationMessage(
    `${picked.length - unlisted.length} of the files are catalog models; ${unlisted.length} are in no catalog.`, 'Import', 'Add to Catalog');
  if (!action) return;
  let toImport = picked;
  if (action === 'Add to Catalog') {
    const added = await addToCatalog(deps, local, unlisted);
    if (!added) return;
    toImport = [...picked.filter((c) => c.match), ...added.candidates.filter((c) => unlisted.some((u) => u.found.path === c.found.path))];
  }
  await runImport(deps, toImport);
}

async function addToCatalog(deps: LocalModelsDeps, local: LocalModels, unlisted: readonly ImportCandidate[]): Promise<LocalModels | undefined> {
  const files = deps.catalogs.catalogFiles();
  const fresh = path.join(deps.globalStorage, 'found-models.json');
  const target = files.length === 0 ? fresh : (await vscode.window.showQuickPick([...files, fresh].map((f) => ({ label: path.basename(f), description: f, file: f })), {
    title: 'Add to which catalog?',
  }))?.file;
  if (!target) return undefined;
  const models = local.models.filter((m) => m.files.some((f) => unlisted.some((u) => u.found === f)));
  const added = await addToCatalogFile(target, models, new Set(deps.engine.getModels().map((m) => m.id)));
  for (const s of added.skipped) void vscode.window.showWarningMessage(`${s.name} was not added: ${s.reason}.`);
  if (added.models.length === 0) return undefined;
  deps.log.info(`added ${added.models.map((m) => m.id).join(', ')} to ${target}`);
  const listed = setting('catalogs');
  if (!files.includes(target)) await updateSetting('catalogs', [...listed, target], vscode.ConfigurationTarget.Global);
  await deps.catalogs.reload();
  await deps.engine.setModels(deps.catalogs.models);
  return findLocalModels(deps.engine, await importLocations());
}

async function runImport(deps: LocalModelsDeps, candidates: readonly ImportCandidate[]): Promise<void> {
  const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Importing models', cancellable: true }, (progress, token) => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    return importCandidates(deps.engine, candidates, {
      logger: deps.log, signal: ac.signal,
      allowCopy: async (bytes, found) => (await vscode.window.showWarningMessage(
        `Copy ${found.name} (${formatBytes(bytes)}) from ${SOURCE_NAMES[found.source]}?`,
        { modal: true, detail: 'It is on another disk than the model store, so it cannot be linked: the copy uses that much disk.' }, 'Copy')) === 'Copy',
      onProgress: (p) => progress.report({ message: `${path.basename(p.file)}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.totalBytes)}` }),
    });
  });
  const adopted = results.flatMap((r) => (r.adopted ? [r.adopted] : []));
  const disk = adopted.reduce((s, a) => s + a.bytesCopied, 0);
  const how = joinNames([...new Set(adopted.map((a) => (a.method === 'copy' ? 'copied' : a.method === 'hardlink' ? 'linked' : 'cloned')))]);
  for (const a of adopted) deps.log.info(`imported ${a.found.path} (${a.method}, ${formatBytes(a.bytesCopied)} of disk)`);
  const failed = results.filter((r) => !r.adopted);
  if (adopted.length > 0) {
    const from = joinNames([...new Set(adopted.map((a) => SOURCE_NAMES[a.found.source]))]);
    void vscode.window.showInformationMessage(`Imported ${plural(adopted.length, 'file')} from ${from}, verified: ${how} (${disk ? `${formatBytes(disk)} of disk` : 'no extra disk'}), 0 bytes downloaded.`);
  }
  if (failed.length > 0) {
    const pick = await vscode.window.showWarningMessage(`${failed.length} file(s) were not imported: ${failed.map((r) => `${r.candidate.found.name} (${r.problem ?? 'unknown'})`).join('; ')}. Download those models instead.`, 'Show Logs');
    if (pick) deps.log.show();
  }
}

const OFFERED_KEY = 'modelAvailability.localModelsOffered';

/** The first time the Models view shows in this window, offer the models found on this machine (once ever, see offerLocalModels). */
export function offerWhenViewOpens(view: vscode.TreeView<unknown>, deps: LocalModelsDeps): vscode.Disposable {
  let done = false;
  const offer = (): void => {
    if (done) return;
    done = true;
    offerLocalModels(deps).catch((err: unknown) => deps.log.warn(`looking for models on this machine failed: ${err instanceof Error ? err.message : String(err)}`));
  };
  if (view.visible) offer();
  return view.onDidChangeVisibility((e) => { if (e.visible) offer(); });
}

/** If models were found that the store lacks, say so once, gently, with the action (remembered in globalState). */
async function offerLocalModels(deps: LocalModelsDeps): Promise<void> {
  if (deps.state.get<boolean>(OFFERED_KEY)) return;
  const local = await findLocalModels(deps.engine, await importLocations());
  const useful = local.candidates.filter((c) => !c.match?.installed);
  if (useful.length === 0) return;
  await deps.state.update(OFFERED_KEY, true);
  const matched = useful.filter((c) => c.match).length;
  const sources = joinNames([...new Set(useful.map((c) => SOURCE_NAMES[c.found.source]))]);
  const pick = await vscode.window.showInformationMessage(
    `Found ${plural(useful.length, 'model file')} in ${sources}${matched ? ` (${matched} in your catalogs)` : ''}. Use them without downloading again?`, 'Find Models on This Machine…');
  if (pick) await findLocalModelsCommand(deps, local);
}

/** "Hugging Face cache", "Ollama": a heading for a group of found files. */
function sourceTitle(source: ForeignSourceKind): string {
  const name = SOURCE_NAMES[source].replace(/^(the|a) /, '');
  return source === 'folder' ? 'Folders' : name[0].toUpperCase() + name.slice(1);
}

function joinNames(names: readonly string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? '');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
