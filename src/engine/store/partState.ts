import { promises as fs } from 'node:fs';
import { readJsonIfPresent, writeJsonAtomic } from '../core/atomicFile';
import { partPath, partStatePath, partStateReservePath, repairMarkerPath } from './storeLayout';
import { PieceMap } from './pieceMap';

/** What sits beside a `.part` file: enough to resume it, and for another process to show its progress. */
export interface PartState {
  readonly formatVersion: 1;
  readonly url: string;
  readonly size: number;
  readonly pieceSize: number;
  readonly sha256?: string;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly rangeSupported: boolean;
  readonly completePieces: readonly number[];
  readonly updatedAt: string;
  /** Smoothed bytes/s of the process writing it, so watchers in other processes can show speed. */
  readonly speed?: number;
}

export async function readPartState(finalPath: string): Promise<PartState | undefined> {
  const raw = await readJsonIfPresent(partStatePath(finalPath));
  if (typeof raw !== 'object' || raw === null) return undefined;
  const s = raw as Partial<PartState>;
  if (s.formatVersion !== 1 || typeof s.size !== 'number' || typeof s.pieceSize !== 'number' || !Array.isArray(s.completePieces)) {
    return undefined;
  }
  return s as PartState;
}

/** What a saved state must match to be resumed: the same source, piece size, size (when known) and sha256. */
export interface ResumeKey {
  readonly url: string;
  readonly pieceSize: number;
  readonly size?: number;
  readonly sha256?: string;
}

/**
 * The saved state of `finalPath`'s `.part` when it still describes this download and the `.part` exists;
 * otherwise undefined, and a stale state goes with its `.part` (never resumed into the wrong file).
 */
export async function readResumableState(finalPath: string, key: ResumeKey): Promise<PartState | undefined> {
  const state = await readPartState(finalPath);
  if (!state) return undefined;
  const matches = state.url === key.url && state.pieceSize === key.pieceSize &&
    (key.size === undefined || state.size === key.size) && state.sha256 === key.sha256;
  if (matches && (await fs.stat(partPath(finalPath)).then(() => true, () => false))) return state;
  await removePartData(finalPath);
  return undefined;
}

/** Room for a few saves of the largest state (16 MiB pieces of a 100 GB file: about 60 KB). */
const RESERVE_BYTES = 256 * 1024;

/**
 * Saves the state atomically; a failed save leaves the previous one. On a full disk the reserve beside
 * it is given up for this save, so what was fetched before the disk filled stays known.
 */
export async function writePartState(finalPath: string, state: PartState): Promise<void> {
  const reserve = partStateReservePath(finalPath);
  try {
    await writeJsonAtomic(partStatePath(finalPath), state);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code !== 'ENOSPC' && code !== 'EDQUOT') || !(await fs.rm(reserve).then(() => true, () => false))) throw err;
    await writeJsonAtomic(partStatePath(finalPath), state);
    return;
  }
  if (!(await fs.stat(reserve).then(() => true, () => false))) {
    await fs.writeFile(reserve, Buffer.alloc(RESERVE_BYTES)).catch(() => fs.rm(reserve, { force: true }));
  }
}

export async function markInPlaceRepair(finalPath: string): Promise<void> {
  await fs.writeFile(repairMarkerPath(finalPath), '');
}

/** The `.part` became the installed file again (verified): it is no longer a repair in progress. */
export async function clearRepairMarker(finalPath: string): Promise<void> {
  await fs.rm(repairMarkerPath(finalPath), { force: true });
}

/** Drops partial data; for an in-place repair, puts the (still damaged) installed file back where it was. */
export async function removePartData(finalPath: string): Promise<void> {
  const marker = repairMarkerPath(finalPath);
  const repairing = await fs.stat(marker).then(() => true, () => false);
  if (repairing) await fs.rename(partPath(finalPath), finalPath).catch(() => undefined);
  await fs.rm(partPath(finalPath), { force: true });
  await fs.rm(partStatePath(finalPath), { force: true });
  await fs.rm(partStateReservePath(finalPath), { force: true });
  await fs.rm(marker, { force: true });
}

export function pieceMapFromState(state: PartState): PieceMap {
  return new PieceMap(state.size, state.pieceSize, state.completePieces);
}
