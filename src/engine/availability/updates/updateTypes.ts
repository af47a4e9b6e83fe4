import type { ModelEntry } from '../../catalog/catalogTypes';
import type { Event } from '../../core/event';
import type { Fix } from '../../core/fixes';
import type { StoredModel } from '../../store/storeScanner';
import type { StoreLayout } from '../../store/storeLayout';
import type { HubRevision } from '../../transfer/http/huggingFace';
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

/** An update switched and still judged by its results (automatic rollback compares `to` with `from`). */
export interface TrialUpdate {
  readonly id: string;
  readonly from: string;
  readonly to: string;
}

export interface UpdateHost {
  readonly layout: StoreLayout;
  readonly logger: Logger;
  readonly uses: UseGuard;
  models(): readonly ModelEntry[];
  model(id: string): ModelEntry;
  state(id: string): ModelState;
  /** What the last scan found in the store for the model. */
  stored(id: string): StoredModel | undefined;
  enqueue(id: string, priority: DownloadPriority): void;
  refresh(ids: readonly string[]): Promise<void>;
  /** Re-reads the catalogs an update check must see fresh (URL catalogs); absent: the models stay as they are. */
  reloadCatalogs?(): Promise<void>;
  /** What a branch or tag of a hub repository points at now (one request per repository). */
  resolveRevision(repo: string, revision: string): Promise<HubRevision>;
  readonly onDidFail: Event<DownloadFailure>;
}

/** How the update of `id` ends: the first switch, failure or cancellation heard of. */
export function updateOutcome(
  [onDidSwitch, onDidFail, onDidCancel]: readonly [Event<VersionSwitch>, Event<DownloadFailure>, Event<string>], id: string, from: string, to: string,
): Promise<UpdateOutcome> {
  return new Promise((resolve) => {
    const subs = [
      onDidSwitch((e) => { if (e.id === id) finish({ id, status: 'switched', from, to: e.to }); }),
      onDidFail((e) => { if (e.id === id) finish({ id, status: 'failed', from, to, reason: e.reason, ...(e.fix ? { fix: e.fix } : {}) }); }),
      onDidCancel((cancelled) => { if (cancelled === id) finish({ id, status: 'failed', from, to, reason: 'the update was cancelled' }); }),
    ];
    const finish = (o: UpdateOutcome): void => { for (const s of subs) s.dispose(); resolve(o); };
  });
}
