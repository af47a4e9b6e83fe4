import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { installedVersions } from './installedVersions';
import { readManifest } from './storeScanner';
import type { ManifestFile, StoreLayout } from './storeLayout';

/**
 * Puts a file another installed version of the model already holds with this sha256 at `finalPath` — a
 * hard link (same bytes, no extra space), else a copy — so an update downloads only what changed. Returns
 * that version's manifest entry (when the bytes were verified), or undefined when no version has them intact.
 */
export async function linkFromOtherVersion(layout: StoreLayout, id: string, version: string, sha256: string, finalPath: string): Promise<ManifestFile | undefined> {
  for (const other of await installedVersions(layout, id)) {
    if (other.version === version) continue;
    const entry = (await readManifest(layout, id, other.version))?.files.find((f) => f.sha256 === sha256 && !f.damagedPieces?.length);
    if (!entry) continue;
    const source = layout.filePath(id, other.version, entry.path);
    const size = await fs.stat(source).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size !== entry.size) continue;
    await fs.mkdir(path.dirname(finalPath), { recursive: true });
    const temp = `${finalPath}.link.tmp`;
    await fs.rm(temp, { force: true });
    await fs.link(source, temp).catch(() => fs.copyFile(source, temp));
    await fs.rename(temp, finalPath);
    return entry;
  }
  return undefined;
}
