import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ModelEntry } from '../catalog/catalogTypes';
import { readJsonIfPresent } from '../core/atomicFile';
import { removeModelFiles } from './modelRemoval';
import { readInstalledPointer, writeInstalledPointer } from './installedPointer';
import { scanModel, type StoredModel } from './storeScanner';
import { contentDiffers } from './versionContent';
import { isModelManifest, type ModelManifest, type StoreLayout } from './storeLayout';

export interface InstalledVersion {
  readonly version: string;
  readonly bytes: number;
  readonly files: number;
  readonly verifiedAt: string;
  /** When the version came into the store (its newest file's install time): what "newer" means here. */
  readonly installedAt: string;
}

const MANIFEST_SUFFIX = '.manifest.json';

async function manifestsOf(layout: StoreLayout, id: string): Promise<ModelManifest[]> {
  const dir = path.dirname(layout.manifestPath(id, 'x'));
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const manifests: ModelManifest[] = [];
  for (const name of names.filter((n) => n.endsWith(MANIFEST_SUFFIX))) {
    const m = await readJsonIfPresent(path.join(dir, name));
    if (isModelManifest(m) && m.id === id && `${m.version}${MANIFEST_SUFFIX}` === name) manifests.push(m);
  }
  return manifests;
}

/**
 * Every version of a model the store holds (an update keeps the previous ones), most recently installed
 * first. The store is the truth: this reads the manifests on disk.
 */
export async function installedVersions(layout: StoreLayout, id: string): Promise<InstalledVersion[]> {
  return (await manifestsOf(layout, id))
    .map((m) => ({
      version: m.version, bytes: m.files.reduce((s, f) => s + f.size, 0), files: m.files.length, verifiedAt: m.verifiedAt,
      // A file linked from the previous version keeps that one's verification time, not its install time.
      installedAt: m.files.map((f) => f.installedAt ?? f.verifiedAt).sort().at(-1) ?? m.verifiedAt,
    }))
    .sort((a, b) => b.installedAt.localeCompare(a.installedAt));
}

/** A catalog entry for an installed version, built from its own manifest (its files may differ from the catalog's). */
export function entryOf(manifest: ModelManifest): ModelEntry {
  return {
    id: manifest.id, version: manifest.version, name: manifest.id, alternatives: [], origin: 'store',
    files: manifest.files.map((f) => ({ path: f.path, source: f.source, sha256: f.sha256, size: f.size })),
  };
}

/** The catalog entry of an installed version, from its manifest; undefined when that version is not installed. */
export async function installedEntry(layout: StoreLayout, id: string, version: string): Promise<ModelEntry | undefined> {
  const manifest = (await manifestsOf(layout, id)).find((m) => m.version === version);
  return manifest && entryOf(manifest);
}

/** Deletes one installed version by its own manifest. */
export async function removeInstalledVersion(layout: StoreLayout, id: string, version: string): Promise<number> {
  const entry = await installedEntry(layout, id, version);
  if (!entry) throw new Error(`version ${version} of ${id} is not installed`);
  return removeModelFiles(layout, entry);
}

/**
 * What the store can serve for a model. The version `installed.json` names, when it is still on disk (its
 * damage shows, so it gets repaired). Without that file (a store from before it): the catalog's version as
 * scanModel sees it, unless that version was never installed (no manifest) while an older one is, complete
 * and unchanged — then that one (newest verification first). A catalog that moved on (to another version,
 * or to other files under the same version) does not make an installed model missing.
 */
export async function scanInstalled(layout: StoreLayout, model: ModelEntry): Promise<StoredModel> {
  const pointer = await readInstalledPointer(layout, model.id);
  const manifests = await manifestsOf(layout, model.id);
  // The catalog changed a file's sha256 but not the version: the store still serves what it verified.
  const same = manifests.find((m) => m.version === model.version);
  const changed = same && contentDiffers(model, same.files) ? same : undefined;
  if (pointer?.version === model.version && !changed) return scanModel(layout, model);
  const pointed = pointer ? manifests.find((m) => m.version === pointer.version) : changed;
  if (pointed) return scanModel(layout, entryOf(pointed));
  const wanted = await scanModel(layout, model);
  if (wanted.ready || wanted.manifest || wanted.manifestError) return wanted;
  const older = manifests.filter((m) => m.version !== model.version).sort((a, b) => b.verifiedAt.localeCompare(a.verifiedAt));
  for (const manifest of older) {
    const scanned = await scanModel(layout, entryOf(manifest));
    if (scanned.ready) return scanned;
  }
  return wanted;
}

/**
 * Makes `version` the installed one, in one atomic write, only when its files are all there with their
 * verified sizes (the quick check; each was sha256-verified when it was installed). Throws otherwise: the
 * installed version stays.
 */
export async function switchInstalledVersion(layout: StoreLayout, id: string, version: string): Promise<void> {
  const entry = await installedEntry(layout, id, version);
  const scanned = entry && (await scanModel(layout, entry));
  if (!scanned?.ready) throw new Error(`version ${version} of ${id} is not complete on disk; it was not made the installed version`);
  await writeInstalledPointer(layout, id, version);
}

/**
 * Removes the versions beyond the `keep` most recently verified ones other than the installed one, never
 * one `inUse` says a lease holds. The manifest goes first, so a kill midway leaves no half version installed.
 */
export async function pruneVersions(layout: StoreLayout, id: string, installed: string, keep: number, inUse: (version: string) => boolean): Promise<string[]> {
  const others = (await installedVersions(layout, id)).filter((v) => v.version !== installed);
  const removed: string[] = [];
  for (const old of others.slice(Math.max(0, keep))) {
    if (inUse(old.version)) continue;
    await removeInstalledVersion(layout, id, old.version);
    removed.push(old.version);
  }
  return removed;
}
