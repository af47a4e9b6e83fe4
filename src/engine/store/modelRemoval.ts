import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ModelEntry } from '../catalog/catalogTypes';
import { isLockHeld } from './crossProcessLock';
import { whenLockFree } from './fileLock';
import { removePartData } from './partState';
import { downloadLockPath, lockOwnerPath, partPath, partStatePath, partStateReservePath, repairMarkerPath, type StoreLayout } from './storeLayout';

/** True when another process holds the download lock of one of the model's files. */
export async function isLockedByAnotherProcess(layout: StoreLayout, model: ModelEntry, staleMs: number): Promise<boolean> {
  for (const f of model.files) {
    const finalPath = layout.filePath(model.id, model.version, f.path);
    if (await isLockHeld(finalPath, { lockfilePath: downloadLockPath(finalPath), staleMs })) return true;
  }
  return false;
}

/**
 * Deletes one model version: the manifest first (from then on the model is not installed, whatever
 * remains), then its files and their partial data, then the folders left empty. Only the catalog's files
 * are deleted, never anything else a user put in the folder. Returns the bytes freed.
 */
export async function removeModelFiles(layout: StoreLayout, model: ModelEntry): Promise<number> {
  let freed = 0;
  const remove = async (file: string): Promise<void> => {
    const size = await fs.stat(file).then((s) => (s.isFile() ? s.size : 0), () => 0);
    await fs.rm(file, { force: true });
    freed += size;
  };
  await remove(layout.manifestPath(model.id, model.version));
  const dirs = new Set<string>();
  for (const f of model.files) {
    const finalPath = layout.filePath(model.id, model.version, f.path);
    for (const file of [finalPath, partPath(finalPath), partStatePath(finalPath), partStateReservePath(finalPath), repairMarkerPath(finalPath)]) await remove(file);
    // The lock of a killed download (no live holder, or removal was refused).
    await remove(lockOwnerPath(downloadLockPath(finalPath)));
    await fs.rmdir(downloadLockPath(finalPath)).catch(() => undefined);
    for (let dir = path.dirname(finalPath); dir.startsWith(layout.modelDir(model.id, model.version)); dir = path.dirname(dir)) dirs.add(dir);
  }
  dirs.add(path.dirname(layout.modelDir(model.id, model.version)));
  // Deepest first; a folder that still holds something stays.
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fs.rmdir(dir).catch(() => undefined);
  return freed;
}

/**
 * A cancelled download's data goes: its partial files, and for an update (a version that is not installed)
 * the whole new version, so nothing half-made stays listed. A file another process is downloading stays its
 * own. Returns how many files were left to that process.
 */
export async function discardDownload(layout: StoreLayout, model: ModelEntry, staleMs: number, wholeVersion: boolean): Promise<number> {
  let kept = 0;
  for (const f of model.files) {
    const finalPath = layout.filePath(model.id, model.version, f.path);
    if (!(await whenLockFree(finalPath, staleMs, () => removePartData(finalPath)))) kept++;
  }
  if (wholeVersion && kept === 0) await removeModelFiles(layout, model);
  return kept;
}
