import type { ModelEntry } from '../../catalog/catalogTypes';
import { Emitter, type Event } from '../../core/event';
import type { Fix } from '../../core/fixes';
import { Disposable } from '../../core/lifecycle';
import { OperationRefusedError } from '../../core/operationRefused';
import { readInstalledPointer, writeInstalledPointer } from '../../store/installedPointer';
import { installedVersions, pruneVersions, switchInstalledVersion } from '../../store/installedVersions';
import { readManifest } from '../../store/storeScanner';
import type { StoreLayout } from '../../store/storeLayout';
import { isCommit, type HubRevision } from '../../transfer/http/huggingFace';
import type { Logger } from '../../transfer/settings';
import type { DownloadFailure, DownloadPriority } from '../downloadQueue';
import type { ModelState } from '../modelState';
import type { UseGuard } from '../useGuard';

export interface UpdateSettings {
  /** Older versions kept on disk after a switch (beyond the installed one). */
  readonly keepPreviousVersions: number;
  /** Models held at their installed version: no update is offered for them. */
  readonly held: readonly string[];
}

export const DEFAULT_UPDATE_SETTINGS: UpdateSettings = { keepPreviousVersions: 1, held: [] };

/** An update a check found: what it brings and what it costs. */
export interface UpdateOffer {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** Bytes of files no installed version already has (those are linked or copied locally). */
  readonly bytesToDownload: number;
  readonly source: 'catalog' | 'hub';
  /** The catalog's release notes, when it names them. */
  readonly notes?: string;
}

/** The installed version changed: an update switched, or a rollback went back. */
export interface VersionSwitch {
  readonly id: string;
  readonly from: string | null;
  readonly to: string;
  readonly reason: 'update' | 'rollback';
}

/** How an update ended: switched to the new version, or not (the old one stays installed) and why. */
export type UpdateOutcome =
  | { readonly id: string; readonly status: 'switched'; readonly from: string; readonly to: string }
  | { readonly id: string; readonly status: 'upToDate'; readonly version: string }
  | { readonly id: string; readonly status: 'failed'; readonly from: string; readonly to: string; readonly reason: string; readonly fix?: Fix };

export interface UpdateHost {
  readonly layout: StoreLayout;
  readonly logger: Logger;
  readonly uses: UseGuard;
  models(): readonly ModelEntry[];
  model(id: string): ModelEntry;
  state(id: string): ModelState;
  enqueue(id: string, priority: DownloadPriority): void;
  refresh(ids: readonly string[]): Promise<void>;
  /** What a branch or tag of a hub repository points at now (one request per repository). */
  resolveRevision(repo: string, revision: string): Promise<HubRevision>;
  readonly onDidFail: Event<DownloadFailure>;
}

/**
 * Updates with rollback. An update is the catalog's version downloaded into its own folder through the one
 * queue (the installed version stays what requests get meanwhile), then made installed by one atomic write
 * of `installed.json` once verified. Rollback rewrites that file to another version still on disk.
 */
export class ModelUpdates extends Disposable {
  private settings: UpdateSettings;
  /** Updates asked for in this process, with the version they update from. */
  private readonly updating = new Map<string, string>();
  /** Versions a hub check found (a branch or tag moved), by model: what an update of it downloads. */
  private readonly hubTargets = new Map<string, ModelEntry>();
  /** Versions an automatic rollback left: not offered again until a newer one appears or update() asks for it. */
  private readonly skipped = new Map<string, string>();
  private readonly _onDidSwitch = this._register(new Emitter<VersionSwitch>());
  /** The installed version of a model changed (requests now get `to`; leases keep theirs). */
  readonly onDidSwitch: Event<VersionSwitch> = this._onDidSwitch.event;
  private readonly _onDidFindUpdates = this._register(new Emitter<readonly UpdateOffer[]>());
  /** A check found updates (fired once per check that found any). */
  readonly onDidFindUpdates: Event<readonly UpdateOffer[]> = this._onDidFindUpdates.event;
  private readonly _onDidChangeHeld = this._register(new Emitter<readonly string[]>());
  /** hold() or release() changed the held models (a surface saves them in its setting). */
  readonly onDidChangeHeld: Event<readonly string[]> = this._onDidChangeHeld.event;

  constructor(private readonly host: UpdateHost, settings: Partial<UpdateSettings> = {}) {
    super();
    this.settings = { ...DEFAULT_UPDATE_SETTINGS, ...settings };
  }

  configure(changes: Partial<UpdateSettings>): void {
    this.settings = { ...this.settings, ...changes };
  }

  get held(): readonly string[] {
    return this.settings.held;
  }

  /** The version held back after an automatic rollback, or undefined. */
  skippedVersion(id: string): string | undefined {
    return this.skipped.get(id);
  }

  /** Goes back to `to` because `from` did worse, and holds `from` back (see skippedVersion). */
  async rollBackWorse(id: string, from: string, to: string): Promise<VersionSwitch> {
    this.skipped.set(id, from);
    return this.rollback(id, to);
  }

  /** The version a hub check found for this model, or undefined. */
  hubUpdate(id: string): string | undefined {
    return this.hubTargets.get(id)?.version;
  }

  /** What the queue downloads for this model while its update is underway: the hub's version, else the catalog's. */
  downloadTarget(id: string): ModelEntry | undefined {
    return this.updating.has(id) ? this.hubTargets.get(id) : undefined;
  }

  /**
   * The updates offered now, with what each would download: from the catalog, and from the hub for files
   * that follow a branch or tag (one request per repository; an unreachable hub is one log line and no offer).
   */
  async check(): Promise<UpdateOffer[]> {
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
      const target = this.hubTargets.get(model.id);
      const fromHub = target?.version === to;
      offers.push({
        id: model.id, from: state.installedVersion, to, source: fromHub ? 'hub' : 'catalog', bytesToDownload: await this.bytesToDownload(fromHub ? target : model),
        ...(model.notes ? { notes: model.notes } : {}),
      });
    }
    return offers;
  }

  private async checkHub(): Promise<void> {
    const tracked = this.host.models().filter((m) => {
      const s = this.host.state(m.id);
      // A catalog update comes first; an update already underway keeps its target.
      return s.installedVersion !== null && (s.updateAvailable === null || this.hubTargets.has(m.id)) && !this.updating.has(m.id)
        && m.files.some((f) => f.source.kind === 'hf' && !isCommit(f.source.revision));
    });
    const revisions = new Map<string, Promise<HubRevision | undefined>>();
    const revisionOf = (repo: string, revision: string): Promise<HubRevision | undefined> => {
      const key = `${repo}@${revision}`;
      let found = revisions.get(key);
      if (!found) {
        found = this.host.resolveRevision(repo, revision).catch((err: unknown) => {
          this.host.logger.warn(`update check: ${key} could not be resolved (${err instanceof Error ? err.message : String(err)}); trying again at the next check`);
          return undefined;
        });
        revisions.set(key, found);
      }
      return found;
    };
    for (const model of tracked) {
      const have = await this.installedShas(model.id);
      let commit: string | undefined;
      let changed = false;
      let reachable = true;
      const files: ModelEntry['files'][number][] = [];
      for (const f of model.files) {
        if (f.source.kind !== 'hf' || isCommit(f.source.revision)) { files.push(f); continue; }
        const rev = await revisionOf(f.source.repo, f.source.revision);
        if (!rev) reachable = false;
        const now = rev?.files.get(f.source.file);
        if (!rev || !now?.sha256) { files.push(f); continue; }
        commit ??= rev.commit;
        // Against every installed version's: the one a rollback left behind is not an update.
        if (!have.get(f.path)?.has(now.sha256)) changed = true;
        files.push({ ...f, source: { ...f.source, revision: rev.commit }, sha256: now.sha256, size: now.size ?? f.size });
      }
      if (!reachable) continue;
      if (changed && commit) this.hubTargets.set(model.id, { ...model, version: `${model.version}+${commit.slice(0, 7)}`, files });
      else this.hubTargets.delete(model.id);
    }
    if (tracked.length > 0) await this.host.refresh(tracked.map((m) => m.id));
  }

  /** Every sha256 each file path has in any installed version. */
  private async installedShas(id: string): Promise<Map<string, Set<string>>> {
    const shas = new Map<string, Set<string>>();
    for (const v of await installedVersions(this.host.layout, id)) {
      for (const f of (await readManifest(this.host.layout, id, v.version))?.files ?? []) {
        shas.set(f.path, (shas.get(f.path) ?? new Set<string>()).add(f.sha256));
      }
    }
    return shas;
  }

  /**
   * Downloads the catalog's version (priority low unless told), verifies it and switches to it. The old
   * version stays installed and usable meanwhile, and stays installed when the new one fails.
   */
  async update(id: string, priority: DownloadPriority = 'low'): Promise<UpdateOutcome> {
    const state = this.host.state(id);
    const from = state.installedVersion;
    if (from === null) throw new OperationRefusedError('busy', `${id} is not installed; download it first`);
    // Asked for by name, a version an automatic rollback held back is installed again.
    const to = state.updateAvailable ?? this.skipped.get(id) ?? null;
    if (to === null) return { id, status: 'upToDate', version: from };
    this.skipped.delete(id);
    const outcome = this.outcomeOf(id, from, to);
    await this.begin(id, from, to);
    this.host.enqueue(id, priority);
    return outcome;
  }

  /** Marks a download of another version than the installed one as an update, so that it switches when verified. */
  async begin(id: string, from: string, to: string): Promise<void> {
    this.updating.set(id, from);
    // Kept on disk, so an update a restart interrupted still switches when its download finishes.
    await writeInstalledPointer(this.host.layout, id, from, to);
  }

  /** Called when a download of the catalog's version finished verified: switches when it was an update (or the first install). */
  async installFinished(id: string): Promise<void> {
    const to = (this.downloadTarget(id) ?? this.host.model(id)).version;
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
    this.updating.delete(id);
    this.hubTargets.delete(id);
    if (from === null || from === to) return;
    const removed = await pruneVersions(this.host.layout, id, to, this.settings.keepPreviousVersions, (v) => this.host.uses.holdsVersion(id, v));
    this.host.logger.info(`updated from ${from} to ${to}${removed.length ? `; removed older ${removed.join(', ')}` : ''}`, id);
    await this.host.refresh([id]);
    this._onDidSwitch.fire({ id, from, to, reason: 'update' });
  }

  /** Goes back to another installed version (the newest other one unless `to`): no network, one atomic write. */
  async rollback(id: string, to?: string): Promise<VersionSwitch> {
    this.host.model(id);
    const from = this.host.state(id).installedVersion;
    const others = (await installedVersions(this.host.layout, id)).filter((v) => v.version !== from);
    const target = to ?? others[0]?.version;
    if (target === undefined) throw new OperationRefusedError('busy', `${id} has no other installed version to roll back to`);
    if (!others.some((v) => v.version === target)) {
      throw new OperationRefusedError('busy', `version ${target} of ${id} is not installed${others.length ? `; installed: ${others.map((v) => v.version).join(', ')}` : ''}`);
    }
    await switchInstalledVersion(this.host.layout, id, target);
    this.updating.delete(id);
    this.host.logger.info(`rolled back from ${from ?? 'nothing'} to ${target}`, id);
    await this.host.refresh([id]);
    const change: VersionSwitch = { id, from, to: target, reason: 'rollback' };
    this._onDidSwitch.fire(change);
    return change;
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

  /** The catalog's bytes whose sha256 no installed version holds (unknown sizes count as 0). */
  private async bytesToDownload(model: ModelEntry): Promise<number> {
    const have = new Set<string>();
    for (const v of await installedVersions(this.host.layout, model.id)) {
      for (const f of (await readManifest(this.host.layout, model.id, v.version))?.files ?? []) have.add(f.sha256);
    }
    return model.files.filter((f) => !f.sha256 || !have.has(f.sha256.toLowerCase())).reduce((s, f) => s + (f.size ?? 0), 0);
  }

  private outcomeOf(id: string, from: string, to: string): Promise<UpdateOutcome> {
    return new Promise((resolve) => {
      const subs = [
        this.onDidSwitch((e) => { if (e.id === id) finish({ id, status: 'switched', from, to: e.to }); }),
        this.host.onDidFail((e) => { if (e.id === id) finish({ id, status: 'failed', from, to, reason: e.reason, ...(e.fix ? { fix: e.fix } : {}) }); }),
      ];
      const finish = (o: UpdateOutcome): void => { for (const s of subs) s.dispose(); resolve(o); };
    });
  }
}
