import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../core/atomicFile';
import { readManifest } from './storeScanner';
import { acquireLock } from './crossProcessLock';
import type { ManifestFile, ModelManifest, StoreLayout } from './storeLayout';

/**
 * Records one verified file in its model's manifest (atomically), replacing an older entry for the same
 * path (and with it any damage a check had recorded). A repair keeps the first install time: it is not a new model.
 */
export async function recordVerifiedFile(layout: StoreLayout, id: string, version: string, file: ManifestFile): Promise<void> {
  await updateManifestFiles(layout, id, version, (files) => {
    const old = files.find((f) => f.path === file.path);
    return [...files.filter((f) => f !== old), { ...file, installedAt: old?.installedAt ?? file.installedAt }];
  });
}

/**
 * Rewrites a manifest's file list under a short cross-process lock, so two processes finishing different
 * files of one model (or a check and a download) do not lose each other's entries. An absent or
 * unreadable manifest starts empty.
 */
export async function updateManifestFiles(
  layout: StoreLayout, id: string, version: string, change: (files: readonly ManifestFile[]) => readonly ManifestFile[],
): Promise<void> {
  const target = layout.manifestPath(id, version);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const lock = await acquireLock(target, { lockfilePath: `${target}.lock`, staleMs: 10_000, retries: { retries: 50, minTimeout: 20, maxTimeout: 200 } });
  try {
    const existing = await readManifest(layout, id, version);
    const files = change(existing?.files ?? []);
    // The model is verified as of its least recently verified file.
    const verifiedAt = files.map((f) => f.verifiedAt).sort()[0] ?? new Date().toISOString();
    const manifest: ModelManifest = { formatVersion: 1, id, version, files, verifiedAt };
    await writeJsonAtomic(target, manifest);
  } finally {
    await lock.release();
  }
}
