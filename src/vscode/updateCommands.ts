import * as vscode from 'vscode';
import { AutoRollback, Disposable, formatBytes, hfEndpoint, OperationRefusedError, withFix, type AnalyticsStore, type AvailabilityEngine, type InstalledVersion, type UpdateOffer } from '../engine';
import type { ExtensionLog } from './logs';
import { resolveModel } from './modelPicker';
import type { ModelNode } from './modelsTree';
import type { Notifier } from './notifier';
import { onDidChangeSetting, setting, updateSetting } from './settings';

type Register = (id: string, fn: (...args: unknown[]) => unknown) => void;

export interface UpdateCommandDeps {
  readonly engine: AvailabilityEngine;
  readonly notifier: Notifier;
  readonly log: ExtensionLog;
}

/** Rolls an update back when its generations do clearly worse (`updates.autoRollback.*`), and says so once. */
export function watchUpdateResults(deps: UpdateCommandDeps, store: AnalyticsStore): AutoRollback {
  const auto = new AutoRollback({
    updates: deps.engine.updates, read: (q) => store.read(q), onDidSave: store.onDidSave, logger: deps.log,
    settings: () => ({
      minGenerations: setting('updates.autoRollback.minGenerations'),
      successDropPoints: setting('updates.autoRollback.successDropPoints'),
      slowerPercent: setting('updates.autoRollback.slowerPercent'),
    }),
  });
  auto.onDidRollBack((e) => deps.notifier.notify('autoRollback', 'important', `${e.message}. The update is held back until a newer one appears.`,
    { title: 'Update Anyway', run: () => vscode.commands.executeCommand('modelAvailability.updateModel', e.id) }));
  return auto;
}

/** The first scheduled check waits this long after start: never during activation. */
const FIRST_CHECK_DELAY_MS = 3 * 60_000;
const HOUR_MS = 3_600_000;

/** `modelAvailability.updates.*` as the engine's update settings. */
function updateSettings(): { keepPreviousVersions: number; held: string[] } {
  return { keepPreviousVersions: setting('updates.keepPreviousVersions'), held: setting('updates.held') };
}

/**
 * Model updates in VS Code: Check for Updates, the periodic check (`updates.mode`, `updates.checkIntervalHours`),
 * Update / Roll Back / Use This Version / Hold at This Version. The engine decides; this only asks and tells.
 */
export class UpdateCommands extends Disposable {
  private timer: NodeJS.Timeout | undefined;

  constructor(register: Register, private readonly deps: UpdateCommandDeps) {
    super();
    const { engine } = deps;
    engine.configure({ updates: updateSettings() });
    this._register(onDidChangeSetting(['updates'], () => { engine.configure({ updates: updateSettings() }); this.schedule(this.intervalMs()); }));
    this._register(engine.updates.onDidChangeHeld((held) => {
      if (held.join('\n') !== setting('updates.held').join('\n')) void updateSetting('updates.held', [...held], vscode.ConfigurationTarget.Global);
    }));
    this._register(engine.updates.onDidSwitch((e) => deps.log.info(`${e.reason === 'update' ? 'updated' : 'rolled back'} from ${e.from ?? '-'} to ${e.to}`, e.id)));
    this._register({ dispose: () => clearTimeout(this.timer) });
    this.schedule(FIRST_CHECK_DELAY_MS);

    register('checkForUpdates', () => this.check(true));
    register('updateModel', async (arg) => {
      const m = await resolveModel(engine, arg, (s) => s.updateAvailable !== null, 'Update Model');
      if (m) await this.updateAll([m.id]);
    });
    register('rollbackModel', async (arg) => {
      const m = await resolveModel(engine, arg, (s) => s.installedVersion !== null, 'Roll Back Model');
      if (m) await this.pickVersion(m.id, m.name);
    });
    register('useVersion', async (arg) => {
      if (!arg || typeof arg !== 'object' || !('version' in arg)) return;
      const node = arg as ModelNode & { kind: 'version' };
      await this.rollback(node.model.id, node.model.name, node.version.version);
    });
    register('holdVersion', async (arg) => {
      const m = await resolveModel(engine, arg, (s) => s.installedVersion !== null && !setting('updates.held').includes(s.id), 'Hold at This Version');
      if (m) engine.updates.hold(m.id);
    });
    register('releaseHold', async (arg) => {
      const m = await resolveModel(engine, arg, (s) => setting('updates.held').includes(s.id), 'Release Version Hold');
      if (m) engine.updates.release(m.id);
    });
  }

  private nameOf(id: string): string {
    return this.deps.engine.getModels().find((m) => m.id === id)?.name ?? id;
  }

  private intervalMs(): number {
    return setting('updates.checkIntervalHours') * HOUR_MS;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.intervalMs() <= 0 || setting('updates.mode') === 'off') return;
    this.timer = setTimeout(() => void this.check(false).finally(() => this.schedule(this.intervalMs())), delayMs);
    this.timer.unref?.();
  }

  /** One check: offline or a hub error is one log line, no notification; what it found, one notification. */
  private async check(byHand: boolean): Promise<void> {
    let offers: UpdateOffer[];
    try {
      offers = await this.deps.engine.updates.check();
    } catch (err) {
      this.deps.log.warn(`update check failed: ${err instanceof Error ? err.message : String(err)}; next try at the next check`);
      return;
    }
    this.deps.log.info(`update check: ${offers.length ? offers.map((o) => `${o.id} ${o.from} -> ${o.to}`).join(', ') : 'every installed model is up to date'}`);
    if (offers.length === 0) {
      if (byHand) void vscode.window.showInformationMessage('Every installed model is up to date.');
      return;
    }
    if (!byHand && setting('updates.mode') === 'auto') {
      void this.updateAll(offers.map((o) => o.id));
      return;
    }
    const what = offers.length === 1 ? `${this.nameOf(offers[0].id)} ${offers[0].to} is available` : `${offers.length} model updates available`;
    this.deps.notifier.notify('updatesAvailable', 'important', offers.length === 1 ? `Model update: ${what}` : what,
      { title: 'Update All', run: () => this.updateAll(offers.map((o) => o.id)) },
      { title: 'Review…', run: () => this.review(offers) },
      { title: 'Later', run: () => undefined });
  }

  private async review(offers: readonly UpdateOffer[]): Promise<void> {
    const picks = offers.map((o) => ({
      label: this.nameOf(o.id),
      description: `${o.from} → ${o.to}`,
      detail: [`${formatBytes(o.bytesToDownload)} to download`, o.notes && `release notes: ${o.notes}`].filter(Boolean).join(' · '),
      picked: true, offer: o,
    }));
    const chosen = await vscode.window.showQuickPick(picks, { title: 'Model Updates', canPickMany: true, placeHolder: 'Which models to update? The installed version stays usable until the new one is verified.' });
    if (chosen?.length) await this.updateAll(chosen.map((c) => c.offer.id));
  }

  private async updateAll(ids: readonly string[]): Promise<void> {
    const outcomes = await Promise.all(ids.map((id) => this.deps.engine.updates.update(id).catch((err: unknown) => {
      if (!(err instanceof OperationRefusedError)) throw err;
      return { id, status: 'refused' as const, reason: err.message };
    })));
    for (const o of outcomes) {
      if (o.status === 'switched') void vscode.window.setStatusBarMessage(`$(check) Updated ${this.nameOf(o.id)} to ${o.to}`, 5000);
      else if (o.status === 'failed' || o.status === 'refused') {
        const why = o.status === 'failed' ? withFix(o.reason, o.fix, 'vscode', new URL(hfEndpoint()).origin) : o.reason;
        const kept = this.deps.engine.getModelState(o.id)?.installedVersion;
        this.deps.log.error(`update not installed: ${why}`, o.id);
        this.deps.notifier.notify('updateFailed', 'error', `The update of ${this.nameOf(o.id)} was not installed: ${why}.${kept ? ` ${kept} stays installed.` : ''}`,
          { title: 'Show Logs', run: () => this.deps.log.show() });
      }
    }
  }

  private async pickVersion(id: string, name: string): Promise<void> {
    const { engine } = this.deps;
    const installed = engine.getModelState(id)?.installedVersion;
    const versions = (await engine.installedVersions(id)).filter((v) => v.version !== installed);
    if (versions.length === 0) {
      void vscode.window.showInformationMessage(`${name} has no other version on disk to roll back to.`);
      return;
    }
    const picks = versions.map((v: InstalledVersion) => ({
      label: v.version, description: `installed ${new Date(v.installedAt).toLocaleString()} · ${formatBytes(v.bytes)}`,
      detail: `verified ${new Date(v.verifiedAt).toLocaleString()}`, version: v.version,
    }));
    const chosen = await vscode.window.showQuickPick(picks, { title: `Roll Back ${name}`, placeHolder: `Installed now: ${installed ?? 'none'}. Switch to which version? (no download)` });
    if (chosen) await this.rollback(id, name, chosen.version);
  }

  private async rollback(id: string, name: string, version: string): Promise<void> {
    try {
      const change = await this.deps.engine.updates.rollback(id, version);
      void vscode.window.setStatusBarMessage(`$(history) ${name} now uses ${change.to}`, 5000);
    } catch (err) {
      void vscode.window.showErrorMessage(`Roll Back Model: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
