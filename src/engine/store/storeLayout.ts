import * as path from 'node:path';
import type { FileSource } from '../catalog/catalogTypes';
import { modelFilePathProblem } from '../catalog/modelFilePath';

/** Where everything of one store lives. Paths from the catalog are validated, but we re-check containment here. */
export class StoreLayout {
  constructor(readonly root: string) {}

  get queueFile(): string {
    return path.join(this.root, 'queue.json');
  }

  modelDir(id: string, version: string): string {
    const models = path.join(this.root, 'models');
    const dir = path.resolve(models, id, version);
    assertInside(models, dir);
    return dir;
  }

  manifestPath(id: string, version: string): string {
    const models = path.join(this.root, 'models');
    const file = path.resolve(models, id, `${version}.manifest.json`);
    assertInside(models, file);
    return file;
  }

  /** Which version of a model is installed (what requests get): one small file, replaced atomically at a switch. */
  installedPointerPath(id: string): string {
    return this.modelSideFile(id, 'installed.json');
  }

  /** What updates must remember across restarts: an update on trial, a version held back, rollbacks made. */
  updateRecordPath(id: string): string {
    return this.modelSideFile(id, 'updates.json');
  }

  private modelSideFile(id: string, name: string): string {
    const models = path.join(this.root, 'models');
    const file = path.resolve(models, id, name);
    assertInside(models, file);
    return file;
  }

  /**
   * The final path of a model file; throws for a path the catalog should have refused (it would leave the
   * model's folder, or is unsafe on some platform): the catalog checks on load, this is the second line of defence.
   */
  filePath(id: string, version: string, relPath: string): string {
    const problem = modelFilePathProblem(relPath);
    if (problem) throw new Error(`refusing file path '${relPath}' of ${id}: it ${problem}`);
    const dir = this.modelDir(id, version);
    const file = path.resolve(dir, ...relPath.split('/'));
    assertInside(dir, file);
    return file;
  }
}

export function partPath(finalPath: string): string {
  return `${finalPath}.part`;
}

export function partStatePath(finalPath: string): string {
  return `${finalPath}.part.json`;
}

/**
 * Space held back beside a `.part.json`, given up when the disk is full so that the state of what is on
 * disk can still be saved (an atomic save needs room for the new copy beside the old one).
 */
export function partStateReservePath(finalPath: string): string {
  return `${finalPath}.part.reserve`;
}

/**
 * An in-place repair turns the installed file into the `.part` it fetches damaged pieces into. This marker
 * says so, so that discarding the partial data (cancel) gives the file back instead of deleting a whole model.
 */
export function repairMarkerPath(finalPath: string): string {
  return `${partPath(finalPath)}.repair`;
}

/** The cross-process lock of one file's download (a folder, held by proper-lockfile). */
export function downloadLockPath(finalPath: string): string {
  return `${finalPath}.part.lock`;
}

/** Who holds a lock folder (pid and host), beside it: proper-lockfile removes the folder with rmdir, so it must stay empty. */
export function lockOwnerPath(lockfilePath: string): string {
  return `${lockfilePath}.owner.json`;
}

export function assertInside(dir: string, candidate: string): void {
  const rel = path.relative(path.resolve(dir), path.resolve(candidate));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`refusing path outside the store folder: ${candidate}`);
  }
}

/** How piece digests are computed; manifests written before XXH64 pieces have sha256 ones (and no field). */
export type PieceAlgorithm = 'xxh64' | 'sha256';

/** One verified file as recorded in a manifest; piece hashes let a later repair re-fetch only damaged pieces. */
export interface ManifestFile {
  readonly path: string;
  readonly source: FileSource;
  /** The URL actually downloaded (a hub file resolves to a commit-pinned URL). */
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
  /** False when the catalog gave no checksum: the sha256 is what we downloaded, not what was promised. */
  readonly sha256Expected: boolean;
  readonly pieceSize: number;
  readonly pieces: readonly string[];
  /** Absent: sha256 (manifests from before XXH64 pieces); rewritten with the current algorithm at the next full check. */
  readonly pieceAlgorithm?: PieceAlgorithm;
  readonly verifiedAt: string;
  /** When the file was first installed (kept across checks and repairs); absent in stores from before 0.x. */
  readonly installedAt?: string;
  /** Pieces a full check found changed; present until a repair installs the file verified again. */
  readonly damagedPieces?: readonly number[];
}

export interface ModelManifest {
  readonly formatVersion: 1;
  readonly id: string;
  readonly version: string;
  readonly files: readonly ManifestFile[];
  readonly verifiedAt: string;
}

export function isModelManifest(value: unknown): value is ModelManifest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ModelManifest>;
  return v.formatVersion === 1 && typeof v.id === 'string' && typeof v.version === 'string' && Array.isArray(v.files);
}
