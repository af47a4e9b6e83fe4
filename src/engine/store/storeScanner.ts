import { promises as fs } from 'node:fs';
import type { ModelEntry } from '../catalog/catalogTypes';
import { readPartState } from '../download/partState';
import { readJsonIfPresent } from './atomicFile';
import { isModelManifest, partPath, type ManifestFile, type ModelManifest, type StoreLayout } from './storeLayout';

export type StoredFileState = 'ready' | 'partial' | 'missing';

export interface StoredFile {
  readonly path: string;
  readonly localPath: string;
  readonly state: StoredFileState;
  readonly bytesOnDisk: number;
  /** From the manifest when ready, else from the catalog or the partial state. */
  readonly size?: number;
  readonly sha256?: string;
  readonly manifest?: ManifestFile;
}

export interface StoredModel {
  readonly id: string;
  readonly files: readonly StoredFile[];
  readonly manifest?: ModelManifest;
  readonly bytesOnDisk: number;
  readonly ready: boolean;
}

export async function readManifest(layout: StoreLayout, id: string, version: string): Promise<ModelManifest | undefined> {
  const raw = await readJsonIfPresent(layout.manifestPath(id, version));
  return isModelManifest(raw) ? raw : undefined;
}

/** What the store holds for a model: the store is the truth, so this is rebuilt from disk, not remembered. */
export async function scanModel(layout: StoreLayout, model: ModelEntry): Promise<StoredModel> {
  const manifest = await readManifest(layout, model.id, model.version);
  const files: StoredFile[] = [];
  for (const f of model.files) {
    const localPath = layout.filePath(model.id, model.version, f.path);
    const entry = manifest?.files.find((m) => m.path === f.path);
    const stat = await fs.stat(localPath).catch(() => undefined);
    const matchesCatalog = entry !== undefined && (f.sha256 === undefined || entry.sha256 === f.sha256.toLowerCase());
    if (entry && matchesCatalog && stat?.isFile() && stat.size === entry.size) {
      files.push({ path: f.path, localPath, state: 'ready', bytesOnDisk: stat.size, size: entry.size, sha256: entry.sha256, manifest: entry });
      continue;
    }
    const part = await readPartState(localPath);
    const partStat = await fs.stat(partPath(localPath)).catch(() => undefined);
    if (part && partStat) {
      const done = part.completePieces.reduce((sum, i) => sum + Math.max(0, Math.min(part.pieceSize, part.size - i * part.pieceSize)), 0);
      files.push({ path: f.path, localPath, state: 'partial', bytesOnDisk: done, size: part.size, sha256: f.sha256 });
    } else {
      files.push({ path: f.path, localPath, state: 'missing', bytesOnDisk: 0, size: f.size, sha256: f.sha256 });
    }
  }
  return {
    id: model.id,
    files,
    manifest,
    bytesOnDisk: files.reduce((s, f) => s + f.bytesOnDisk, 0),
    ready: files.length > 0 && files.every((f) => f.state === 'ready'),
  };
}

export async function scanStore(layout: StoreLayout, models: readonly ModelEntry[]): Promise<Map<string, StoredModel>> {
  const out = new Map<string, StoredModel>();
  for (const m of models) out.set(m.id, await scanModel(layout, m));
  return out;
}
