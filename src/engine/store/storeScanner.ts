import { promises as fs } from 'node:fs';
import type { ModelEntry } from '../catalog/catalogTypes';
import { readPartState } from './partState';
import { readJsonIfPresent } from '../core/atomicFile';
import { isModelManifest, partPath, type ManifestFile, type ModelManifest, type StoreLayout } from './storeLayout';

export type StoredFileState = 'ready' | 'partial' | 'missing';

/** Why a file the manifest says was installed is not usable now (found by the quick check or a full check). */
export type StoredFileProblem = 'missing' | 'truncated' | 'grown' | 'changed';

export interface StoredFile {
  readonly path: string;
  readonly localPath: string;
  readonly state: StoredFileState;
  readonly bytesOnDisk: number;
  /** From the manifest when ready, else from the catalog or the partial state. */
  readonly size?: number;
  readonly sha256?: string;
  readonly manifest?: ManifestFile;
  /** Set only for a file that was installed (it has a manifest entry for the catalog's content). */
  readonly problem?: StoredFileProblem;
}

export interface StoredModel {
  readonly id: string;
  /** The version these files belong to (the catalog's, or an older one still installed). */
  readonly version: string;
  readonly files: readonly StoredFile[];
  readonly manifest?: ModelManifest;
  /** The manifest exists but cannot be read or is not a manifest. */
  readonly manifestError?: string;
  readonly bytesOnDisk: number;
  readonly ready: boolean;
}

export async function readManifest(layout: StoreLayout, id: string, version: string): Promise<ModelManifest | undefined> {
  const raw = await readJsonIfPresent(layout.manifestPath(id, version));
  return isModelManifest(raw) ? raw : undefined;
}

/** Reads a manifest, telling "absent" (no error) from "present but unreadable" (an error to show). */
export async function loadManifest(layout: StoreLayout, id: string, version: string): Promise<{ manifest?: ModelManifest; error?: string }> {
  const file = layout.manifestPath(id, version);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? {} : { error: `the manifest cannot be read: ${code ?? String(err)}` };
  }
  try {
    const raw = JSON.parse(text) as unknown;
    return isModelManifest(raw) ? { manifest: raw } : { error: 'the manifest is not a valid store manifest' };
  } catch {
    return { error: 'the manifest is not valid JSON' };
  }
}

/**
 * What the store holds for a model — the quick check: files present, sizes right, manifest readable. The
 * store is the truth, so this is rebuilt from disk, not remembered.
 */
export async function scanModel(layout: StoreLayout, model: ModelEntry): Promise<StoredModel> {
  const { manifest, error: manifestError } = await loadManifest(layout, model.id, model.version);
  const files: StoredFile[] = [];
  for (const f of model.files) {
    const localPath = layout.filePath(model.id, model.version, f.path);
    const found = manifest?.files.find((m) => m.path === f.path);
    // An entry for other content (the catalog now names another sha256) is a new file to download, not damage.
    const entry = found && (f.sha256 === undefined || found.sha256 === f.sha256.toLowerCase()) ? found : undefined;
    const stat = await fs.stat(localPath).then((s) => (s.isFile() ? s : undefined), () => undefined);
    const problem = entry ? problemOf(entry, stat?.size) : undefined;
    if (entry && stat && !problem) {
      files.push({ path: f.path, localPath, state: 'ready', bytesOnDisk: stat.size, size: entry.size, sha256: entry.sha256, manifest: entry });
      continue;
    }
    const part = await readPartState(localPath);
    const partStat = await fs.stat(partPath(localPath)).catch(() => undefined);
    if (part && partStat) {
      const done = part.completePieces.reduce((sum, i) => sum + Math.max(0, Math.min(part.pieceSize, part.size - i * part.pieceSize)), 0);
      files.push({ path: f.path, localPath, state: 'partial', bytesOnDisk: done, size: part.size, sha256: f.sha256, manifest: entry, problem });
    } else {
      files.push({
        path: f.path, localPath, state: 'missing', bytesOnDisk: problem ? (stat?.size ?? 0) : 0, size: entry?.size ?? f.size,
        sha256: entry?.sha256 ?? f.sha256, manifest: entry, problem,
      });
    }
  }
  return {
    id: model.id,
    version: model.version,
    files,
    manifest,
    manifestError,
    bytesOnDisk: files.reduce((s, f) => s + f.bytesOnDisk, 0),
    ready: !manifestError && files.length > 0 && files.every((f) => f.state === 'ready'),
  };
}

function problemOf(entry: ManifestFile, size: number | undefined): StoredFileProblem | undefined {
  if (size === undefined) return 'missing';
  if (size < entry.size) return 'truncated';
  if (size > entry.size) return 'grown';
  return entry.damagedPieces?.length ? 'changed' : undefined;
}
