import type { ModelEntry } from '../catalog/catalogTypes';
import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import type { StoreLayout } from './storeLayout';

/** An update switched and not yet judged by its results (automatic rollback compares it with `from`). */
export interface UpdateTrial {
  readonly from: string;
  readonly to: string;
  readonly since: string;
}

/** A version an automatic rollback left: not offered again until a newer one appears or it is asked for by name. */
export interface HeldBackVersion {
  readonly version: string;
  readonly reason: string;
  readonly at: string;
}

/** A rollback made, automatic (with the figures) or by hand. */
export interface RollbackMade {
  readonly from: string | null;
  readonly to: string;
  readonly reason: string;
  readonly automatic: boolean;
  readonly at: string;
}

/**
 * `models/<id>/updates.json`, next to installed.json: what updates must remember across a restart (of VS
 * Code, or the next CLI run), so a held-back update stays held back and a trial in progress goes on.
 */
export interface UpdateRecord {
  readonly formatVersion: 1;
  /**
   * What a download underway fetches when it is not the catalog's entry as is: a hub version pinned to its
   * commit (an update, or the first download), or the catalog's files under a `+content` version. A
   * restarted process resumes exactly this; it goes when the download is installed or cancelled.
   */
  readonly target?: ModelEntry;
  readonly trial?: UpdateTrial;
  readonly heldBack?: HeldBackVersion;
  /** Newest first, at most MAX_ROLLBACKS. */
  readonly rollbacks: readonly RollbackMade[];
}

const MAX_ROLLBACKS = 10;

export const EMPTY_UPDATE_RECORD: UpdateRecord = { formatVersion: 1, rollbacks: [] };

function isRecord(value: unknown): value is UpdateRecord {
  const v = value as Partial<UpdateRecord> | undefined;
  return typeof v === 'object' && v !== null && v.formatVersion === 1 && Array.isArray(v.rollbacks);
}

/** The model's record; an absent or unreadable file is an empty one (nothing on trial, nothing held back). */
export async function readUpdateRecord(layout: StoreLayout, id: string): Promise<UpdateRecord> {
  const raw = await readJsonIfPresent(layout.updateRecordPath(id));
  return isRecord(raw) ? raw : EMPTY_UPDATE_RECORD;
}

/** Applies `change` to the record on disk (one atomic write) and returns the new record. */
export async function changeUpdateRecord(layout: StoreLayout, id: string, change: (r: UpdateRecord) => Partial<UpdateRecord>): Promise<UpdateRecord> {
  const current = await readUpdateRecord(layout, id);
  const next: UpdateRecord = { ...current, ...change(current), formatVersion: 1 };
  const record: UpdateRecord = { ...next, rollbacks: next.rollbacks.slice(0, MAX_ROLLBACKS) };
  // Nothing to remember (e.g. a first install): no file is written.
  if (JSON.stringify(record) !== JSON.stringify(current)) await writeJsonAtomic(layout.updateRecordPath(id), record);
  return record;
}

/** Every model's updates.json as last read or written: model states are computed synchronously from it. */
export class UpdateRecords {
  private readonly records = new Map<string, UpdateRecord>();

  constructor(private readonly layout: StoreLayout) {}

  /** Reads the file again (another window or the CLI may have written it). */
  async load(id: string): Promise<void> {
    this.records.set(id, await readUpdateRecord(this.layout, id));
  }

  get(id: string): UpdateRecord {
    return this.records.get(id) ?? EMPTY_UPDATE_RECORD;
  }

  async change(id: string, change: (r: UpdateRecord) => Partial<UpdateRecord>): Promise<void> {
    this.records.set(id, await changeUpdateRecord(this.layout, id, change));
  }

  /** Trials whose new version `installedOf` says is still installed. */
  trials(installedOf: (id: string) => string | null): (UpdateTrial & { readonly id: string })[] {
    return [...this.records].flatMap(([id, r]) => (r.trial && installedOf(id) === r.trial.to ? [{ ...r.trial, id }] : []));
  }

  /** The rollbacks made, newest first. */
  rollbacks(): (RollbackMade & { readonly id: string })[] {
    return [...this.records].flatMap(([id, r]) => r.rollbacks.map((b) => ({ ...b, id }))).sort((a, b) => b.at.localeCompare(a.at));
  }
}
