import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { writeJsonAtomic } from './atomicFile';
import { readManifest } from './storeScanner';
import type { ManifestFile, ModelManifest, StoreLayout } from './storeLayout';

/**
 * Records one verified file in its model's manifest (atomically), replacing an older entry for the same
 * path. A short lock keeps two processes finishing different files of one model from losing an entry.
 */
export async function recordVerifiedFile(layout: StoreLayout, id: string, version: string, file: ManifestFile): Promise<void> {
  const target = layout.manifestPath(id, version);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const release = await lockfile.lock(target, {
    realpath: false, lockfilePath: `${target}.lock`, stale: 10_000, retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    const existing = await readManifest(layout, id, version);
    const files = [...(existing?.files ?? []).filter((f) => f.path !== file.path), file];
    const manifest: ModelManifest = { formatVersion: 1, id, version, files, verifiedAt: file.verifiedAt };
    await writeJsonAtomic(target, manifest);
  } finally {
    await release();
  }
}
