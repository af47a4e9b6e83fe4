import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ModelEntry } from '../catalog/catalogTypes';
import { readJsonIfPresent } from '../core/atomicFile';
import { removeModelFiles } from './modelRemoval';
import { scanModel, type StoredModel } from './storeScanner';
import { isModelManifest, type ModelManifest, type StoreLayout } from './storeLayout';

export interface InstalledVersion {
  readonly version: string;
  readonly bytes: number;
  readonly files: number;
  readonly verifiedAt: string;
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
 * Every version of a model the store holds (a catalog that moved to a new version leaves the old one until
 * it is removed), newest verification first. The store is the truth: this reads the manifests on disk.
 */
export async function installedVersions(layout: StoreLayout, id: string): Promise<InstalledVersion[]> {
  return (await manifestsOf(layout, id))
    .map((m) => ({ version: m.version, bytes: m.files.reduce((s, f) => s + f.size, 0), files: m.files.length, verifiedAt: m.verifiedAt }))
    .sort((a, b) => b.verifiedAt.localeCompare(a.verifiedAt));
}

/** A catalog entry for an installed version, built from its own manifest (its files may differ from the catalog's). */
function entryOf(manifest: ModelManifest): ModelEntry {
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
 * What the store can serve for a model: the catalog's version as scanModel sees it, unless that version
 * was never installed (no manifest) while an older one is, complete and unchanged — then that one (newest
 * verification first). A catalog that moved on does not make an installed model missing. A catalog
 * version that was installed and is now damaged stays what it is, so its damage shows and gets repaired.
 */
export async function scanInstalled(layout: StoreLayout, model: ModelEntry): Promise<StoredModel> {
  const wanted = await scanModel(layout, model);
  if (wanted.ready || wanted.manifest || wanted.manifestError) return wanted;
  const older = (await manifestsOf(layout, model.id))
    .filter((m) => m.version !== model.version)
    .sort((a, b) => b.verifiedAt.localeCompare(a.verifiedAt));
  for (const manifest of older) {
    const scanned = await scanModel(layout, entryOf(manifest));
    if (scanned.ready) return scanned;
  }
  return wanted;
}
