import type { ModelEntry } from '../../catalog/catalogTypes';
import { entryOf } from '../../store/installedVersions';
import type { StoredModel } from '../../store/storeScanner';
import { contentDiffers, isVariantOf } from '../../store/versionContent';
import { catalogInstallVersion } from '../modelState';
import { followsHubBranch } from './hubCheck';

export interface DownloadEntryInput {
  readonly model: ModelEntry;
  /** What the last scan found. */
  readonly stored: StoredModel | undefined;
  /** What a download underway fetches (updates.json), when it is not the catalog's entry as is. */
  readonly pending: ModelEntry | undefined;
  readonly repairing: boolean;
  /** The model pinned to the hub commits its branches point at now; undefined when the hub could not say. */
  pin(): Promise<ModelEntry | undefined>;
}

/**
 * What a download of the model fetches: for a repair, the installed version's own files (from its manifest);
 * else an update's target; for a download of the installed version, its own files again; else the catalog's files (under a
 * `+content` version when they changed without the version). A first download of a file that follows a
 * hub branch is pinned to the commit it points at now, so the installed version names it (`1.0.0+9a67fe2`).
 */
export async function downloadEntry(input: DownloadEntryInput): Promise<ModelEntry> {
  const { model, stored, repairing } = input;
  const manifest = stored?.manifest;
  const changed = manifest !== undefined && contentDiffers(model, manifest.files);
  const catalogAsIs = manifest?.version === model.version && !changed;
  if (manifest && !catalogAsIs && repairing) return entryOf(manifest);
  if (input.pending) return input.pending;
  if (manifest && !catalogAsIs && !changed && isVariantOf(manifest.version, model.version)) return entryOf(manifest);
  const version = catalogInstallVersion(model, stored);
  if (version !== model.version) return { ...model, version };
  if (manifest || !followsHubBranch(model)) return model;
  return (await input.pin()) ?? model;
}
