import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import type { StoreLayout } from './storeLayout';

/**
 * `models/<id>/installed.json`: the version requests get, and the version an update is bringing in. The
 * switch is one atomic rename of this file, so a process killed at any instant leaves exactly one installed
 * version. A store from before this file has none: then the catalog's version, or the newest complete one, counts.
 */
export interface InstalledPointer {
  readonly formatVersion: 1;
  readonly version: string;
  readonly switchedAt: string;
  /** An update downloading into its own folder; the switch happens when it is verified. */
  readonly updatingTo?: string;
}

function isPointer(value: unknown): value is InstalledPointer {
  const v = value as Partial<InstalledPointer> | undefined;
  return typeof v === 'object' && v !== null && v.formatVersion === 1 && typeof v.version === 'string';
}

export async function readInstalledPointer(layout: StoreLayout, id: string): Promise<InstalledPointer | undefined> {
  const raw = await readJsonIfPresent(layout.installedPointerPath(id));
  return isPointer(raw) ? raw : undefined;
}

/** Names `version` as installed (the caller checked it is complete); keeps nothing of a finished update's intent. */
export async function writeInstalledPointer(layout: StoreLayout, id: string, version: string, updatingTo?: string): Promise<void> {
  const pointer: InstalledPointer = { formatVersion: 1, version, switchedAt: new Date().toISOString(), ...(updatingTo ? { updatingTo } : {}) };
  await writeJsonAtomic(layout.installedPointerPath(id), pointer);
}
