import type { ModelEntry } from '../../catalog/catalogTypes';
import { Emitter, type Event } from '../../core/event';
import { Disposable } from '../../core/lifecycle';
import { OperationRefusedError } from '../../core/operationRefused';
import { readInstalledPointer, writeInstalledPointer } from '../../store/installedPointer';
import { pruneVersions, switchInstalledVersion } from '../../store/installedVersions';
import { discardDownload } from '../../store/modelRemoval';
import { UpdateRecords, type RollbackMade } from '../../store/updateRecord';
import type { DownloadPriority } from '../downloadQueue';
import { catalogInstallVersion } from '../modelState';
import { downloadEntry } from './downloadEntry';
import { bytesToDownload, followsHubBranch, onePerRepository, pinToHub } from './hubCheck';
import { rollBack, type RollbackWhy } from './rollback';
import { DEFAULT_UPDATE_SETTINGS, updateOutcome, type TrialUpdate, type UpdateHost, type UpdateOffer, type UpdateOutcome, type UpdateSettings, type VersionSwitch } from './updateTypes';

export { DEFAULT_UPDATE_SETTINGS } from './updateTypes';
export type { TrialUpdate, UpdateHost, UpdateOffer, UpdateOutcome, UpdateSettings, VersionSwitch } from './updateTypes';

/**
 * Updates with rollback. An update is another version downloaded into its own folder through the one
 * queue (the installed version stays what requests get meanwhile), then made installed by one atomic write
 * of `installed.json` once verified. Rollback rewrites that file to another version still on disk. What must
 * outlive the process (an update on trial, a version held back, the rollbacks made, what a download underway
 * fetches) is in `models/<id>/updates.json`, read at each rescan, so a restart and the CLI see it.
 */
export class ModelUpdates extends Disposable {
  private settings: UpdateSettings;
  /** Updates asked for in this process, with the version they update from. */
  private readonly updating = new Map<string, string>();
  /** Versions a hub check found (a branch or tag moved), by model: what an update of it downloads. */
  private readonly hubTargets = new Map<string, ModelEntry>();
  private readonly records: UpdateRecords;
  /** What the download running for a model fetches (entryToFetch's answer). */
  private readonly fetching = new Map<string, ModelEntry>();
  private readonly _onDidSwitch = this._register(new Emitter<VersionSwitch>());
  /** The installed version of a model changed (requests now get `to`; leases keep theirs). */
  readonly onDidSwitch: Event<VersionSwitch> = this._onDidSwitch.event;
  private readonly _onDidFindUpdates = this._register(new Emitter<readonly UpdateOffer[]>());
  /** A check found updates (fired once per check that found any). */
  readonly onDidFindUpdates: Event<readonly UpdateOffer[]> = this._onDidFindUpdates.event;
  /** An update was cancelled (its outcome: failed, cancelled). */
  private readonly cancelledUpdate = this._register(new Emitter<string>());
  private readonly _onDidChangeHeld = this._register(new Emitter<readonly string[]>());
  /** hold() or release() changed the held models (a surface saves them in its setting). */
  readonly onDidChangeHeld: Event<readonly string[]> = this._onDidChangeHeld.event;

  constructor(private readonly host: UpdateHost, settings: Partial<UpdateSettings> = {}) {
    super();
    this.settings = { ...DEFAULT_UPDATE_SETTINGS, ...settings };
    this.records = new UpdateRecords(host.layout);
  }

  configure(changes: Partial<UpdateSettings>): void {
    this.settings = { ...this.settings, ...changes };
  }

  get held(): readonly string[] {
    return this.settings.held;
  }

  /** Reads the model's updates.json (at each rescan: another window or the CLI may have written it). */
  async load(id: string): Promise<void> {
    await this.records.load(id);
  }

  /** The version held back after an automatic rollback, or undefined. */
  skippedVersion(id: string): string | undefined {
    return this.records.get(id).heldBack?.version;
  }

  /** Updates switched and still judged by their results: no switch since, and the new version still installed. */
  trials(): TrialUpdate[] {
    return this.records.trials((id) => this.host.state(id).installedVersion).map(({ id, from, to }) => ({ id, from, to }));
  }

  /** The rollbacks made, newest first, with their reasons. */
  rollbacksMade(): (RollbackMade & { readonly id: string })[] {
    return this.records.rollbacks();
  }

  /** Goes back to `to` because `from` did worse (`reason` says how), and holds `from` back (see skippedVersion). */
  async rollBackWorse(id: string, from: string, to: string, reason: string): Promise<VersionSwitch> {
    try {
      if (this.host.state(id).installedVersion !== from) throw new OperationRefusedError('busy', `${id} no longer runs ${from}`);
      return await this.switchBack(id, to, { reason, automatic: true, holdBack: true });
    } catch (err) {
      // Said once: a rollback that cannot be made ends the trial.
      await this.records.change(id, () => ({ trial: undefined }));
      throw err;
    }
  }

  /** The version a hub check found for this model, or undefined. */
  hubUpdate(id: string): string | undefined {
    return this.hubTargets.get(id)?.version;
  }

  /** What a download underway fetches when it is not the catalog's entry as is (see UpdateRecord.target). */
  downloadTarget(id: string): ModelEntry | undefined {
    return this.records.get(id).target;
  }

  /** What a download of the model fetches now (see downloadEntry); a first download's hub pin is kept in updates.json, to resume. */
  async entryToFetch(id: string, repairing: boolean): Promise<ModelEntry> {
    const model = this.host.model(id);
    const entry = await downloadEntry({
      model, stored: this.host.stored(id), pending: this.downloadTarget(id), repairing,
      pin: async () => {
        const pinned = await pinToHub(this.host.layout, model, onePerRepository((repo, rev) => this.host.resolveRevision(repo, rev), this.host.logger, 'download'));
        if (pinned) await this.records.change(id, () => ({ target: pinned.entry }));
        return pinned?.entry;
      },
    });
    this.fetching.set(id, entry);
    return entry;
  }

  /**
   * The updates offered now, with what each would download: from the catalogs (URL catalogs re-read first),
   * and from the hub for files that follow a branch or tag (one request per repository; an unreachable hub
   * is one log line and no offer).
   */
  async check(): Promise<UpdateOffer[]> {
    await this.host.reloadCatalogs?.().catch((err: unknown) => this.host.logger.warn(`update check: the catalogs could not be re-read (${err instanceof Error ? err.message : String(err)}); checking against the ones loaded`));
    await this.checkHub();
    const offers = await this.offers();
    if (offers.length > 0) this._onDidFindUpdates.fire(offers);
    return offers;
  }

  /** The updates known now (the catalog's, and what the last hub check found), without asking the hub. */
  async offers(): Promise<UpdateOffer[]> {
    const offers: UpdateOffer[] = [];
    for (const model of this.host.models()) {
      const state = this.host.state(model.id);
      const to = state.updateAvailable;
      if (to === null || state.installedVersion === null) continue;
      const target = this.targetOf(model.id, to);
      offers.push({
        id: model.id, from: state.installedVersion, to, source: target === this.hubTargets.get(model.id) ? 'hub' : 'catalog',
        bytesToDownload: await bytesToDownload(this.host.layout, target), ...(model.notes ? { notes: model.notes } : {}),
      });
    }
    return offers;
  }

  private async checkHub(): Promise<void> {
    const tracked = this.host.models().filter((m) => {
      const s = this.host.state(m.id);
      // A catalog update comes first; an update already underway keeps its target.
      return s.installedVersion !== null && (s.updateAvailable === null || this.hubTargets.has(m.id)) && !this.updating.has(m.id) && followsHubBranch(m);
    });
    const revisionOf = onePerRepository((repo, rev) => this.host.resolveRevision(repo, rev), this.host.logger, 'update check');
    for (const model of tracked) {
      const pinned = await pinToHub(this.host.layout, model, revisionOf);
      // Unreachable: what the last check found stays offered.
      if (!pinned) continue;
      if (pinned.changed) this.hubTargets.set(model.id, pinned.entry);
      else this.hubTargets.delete(model.id);
    }
    if (tracked.length > 0) await this.host.refresh(tracked.map((m) => m.id));
  }

  /** What an update to `to` downloads: the hub's pinned version, else the catalog's files under that version. */
  private targetOf(id: string, to: string): ModelEntry {
    const hub = this.hubTargets.get(id);
    return hub?.version === to ? hub : { ...this.host.model(id), version: to };
  }

  /**
   * Downloads the offered version (priority low unless told), verifies it and switches to it. The old
   * version stays installed and usable meanwhile, and stays installed when the new one fails. A version an
   * automatic rollback held back is, asked for by name, installed again (at once when still on disk).
   */
  async update(id: string, priority: DownloadPriority = 'low'): Promise<UpdateOutcome> {
    const state = this.host.state(id);
    const from = state.installedVersion;
    if (from === null) throw new OperationRefusedError('busy', `${id} is not installed; download it first`);
    const heldBack = this.skippedVersion(id);
    const to = state.updateAvailable ?? heldBack ?? null;
    if (to === null) return { id, status: 'upToDate', version: from };
    if (to === heldBack) {
      await this.records.change(id, () => ({ heldBack: undefined }));
      // Installed once, and kept by the rollback: no download (unless it went meanwhile).
      if (await switchInstalledVersion(this.host.layout, id, to).then(() => true, () => false)) {
        await this.switched(id, from, to);
        return { id, status: 'switched', from, to };
      }
    }
    const outcome = updateOutcome([this.onDidSwitch, this.host.onDidFail, this.cancelledUpdate.event], id, from, to);
    await this.begin(id, from, this.targetOf(id, to));
    this.host.enqueue(id, priority);
    return outcome;
  }

  /** A download of the catalog's entry was asked for: when that is another version than the installed one, it is an update. */
  async downloadRequested(id: string): Promise<void> {
    const from = this.host.state(id).installedVersion;
    const to = catalogInstallVersion(this.host.model(id), this.host.stored(id));
    if (from !== null && from !== to) await this.begin(id, from, this.targetOf(id, to));
  }

  /** Marks a download of another version than the installed one as an update, so that it switches when verified. */
  private async begin(id: string, from: string, target: ModelEntry): Promise<void> {
    this.updating.set(id, from);
    // Kept on disk, so an update a restart interrupted still switches when its download finishes, and resumes the same files.
    await writeInstalledPointer(this.host.layout, id, from, target.version);
    await this.records.change(id, () => ({ target: target.version === this.host.model(id).version ? undefined : target }));
  }

  /** Called when a download finished verified: switches to what it fetched when that was an update (or the first install). */
  async installFinished(id: string): Promise<void> {
    const to = (this.fetching.get(id) ?? this.downloadTarget(id) ?? this.host.model(id)).version;
    this.fetching.delete(id);
    const pointer = await readInstalledPointer(this.host.layout, id);
    const from = pointer?.version ?? this.updating.get(id) ?? null;
    const intended = !pointer || pointer.updatingTo === to || this.updating.has(id);
    if (!intended || (from === to && !pointer?.updatingTo)) return;
    try {
      await switchInstalledVersion(this.host.layout, id, to);
    } catch (err) {
      this.host.logger.error(`update to ${to} not installed: ${err instanceof Error ? err.message : String(err)}`, id);
      return;
    }
    await this.switched(id, from, to);
  }

  /** After an update's switch: the trial starts, older versions beyond keepPreviousVersions go, listeners hear of it. */
  private async switched(id: string, from: string | null, to: string): Promise<void> {
    this.updating.delete(id);
    this.hubTargets.delete(id);
    const since = new Date().toISOString();
    await this.records.change(id, (r) => ({
      target: r.target?.version === to ? undefined : r.target,
      trial: from !== null && from !== to ? { from, to, since } : undefined,
    }));
    if (from === null || from === to) return;
    const removed = await pruneVersions(this.host.layout, id, to, this.settings.keepPreviousVersions, (v) => this.host.uses.holdsVersion(id, v));
    this.host.logger.info(`updated from ${from} to ${to}${removed.length ? `; removed older ${removed.join(', ')}` : ''}`, id);
    await this.host.refresh([id]);
    this._onDidSwitch.fire({ id, from, to, reason: 'update' });
  }

  /** Goes back to another installed version (the newest other one unless `to`): no network, one atomic write. */
  rollback(id: string, to?: string): Promise<VersionSwitch> {
    return this.switchBack(id, to, { reason: 'by hand', automatic: false });
  }

  private async switchBack(id: string, to: string | undefined, why: RollbackWhy): Promise<VersionSwitch> {
    const back = await rollBack(this.host, this.records, id, to, why);
    this.updating.delete(id);
    const change: VersionSwitch = { id, ...back, reason: 'rollback' };
    this._onDidSwitch.fire(change);
    return change;
  }

  /**
   * The model's download was cancelled. An update's new version goes entirely (its partial files, and the
   * files it had finished), and the update ends; a first download drops its partial data and keeps its
   * target, so a later download fetches the same files. A download killed, not cancelled, keeps it all and resumes.
   */
  async discard(id: string, lockStaleMs: number): Promise<void> {
    const entry = this.fetching.get(id) ?? this.downloadTarget(id) ?? this.host.model(id);
    this.fetching.delete(id);
    const installed = this.host.state(id).installedVersion;
    const isUpdate = installed !== null && entry.version !== installed;
    const kept = await discardDownload(this.host.layout, entry, lockStaleMs, isUpdate);
    // Another window downloads it: its data is its own; cancelling here only stops following it.
    if (kept) {
      this.host.logger.info(`download cancelled here; ${kept} file(s) are downloading in another window, which keeps them (cancel there)`, id);
      return;
    }
    if (isUpdate) {
      this.updating.delete(id);
      await writeInstalledPointer(this.host.layout, id, installed);
      await this.records.change(id, () => ({ target: undefined }));
      this.cancelledUpdate.fire(id);
    }
    this.host.logger.info(isUpdate ? `update to ${entry.version} cancelled; its files were removed, ${installed} stays installed` : 'download cancelled; partial data removed', id);
  }

  /** Stops update offers for the model until release(). */
  hold(id: string): void {
    this.host.model(id);
    if (!this.settings.held.includes(id)) this.setHeld([...this.settings.held, id]);
  }

  release(id: string): void {
    if (this.settings.held.includes(id)) this.setHeld(this.settings.held.filter((h) => h !== id));
  }

  private setHeld(held: readonly string[]): void {
    this.settings = { ...this.settings, held };
    void this.host.refresh([...new Set([...held, ...this.host.models().map((m) => m.id)])]);
    this._onDidChangeHeld.fire(held);
  }
}
