import { createHash } from 'node:crypto';
import type { ModelEntry } from '../catalog/catalogTypes';

/** What a store copy of a file says it holds: its manifest's sha256 and size. */
export interface StoredContent {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Whether the catalog names other content for a file than the store holds under the same version (its
 * sha256, or for a URL file its size, changed while the version did not). A file the store does not hold
 * yet is no difference: that is a download still to finish. A hub file's size moves with its branch and
 * is no difference either (the hub check compares its sha256).
 */
export function contentDiffers(model: ModelEntry, stored: readonly StoredContent[]): boolean {
  return model.files.some((f) => {
    const have = stored.find((s) => s.path === f.path);
    if (!have) return false;
    if (f.sha256 !== undefined) return f.sha256.toLowerCase() !== have.sha256;
    return f.source.kind === 'url' && f.size !== undefined && f.size !== have.size;
  });
}

/**
 * The version the catalog's files install as when the store already holds other files under the catalog's
 * version: `1.0.0+3c9e1a2` (a digest of what the catalog names), so the new files get their own folder and
 * the installed ones stay untouched until the switch.
 */
export function contentVersion(model: ModelEntry): string {
  const names = model.files.map((f) => `${f.path}\n${f.sha256?.toLowerCase() ?? ''}\n${f.size ?? ''}`).sort().join('\n');
  return `${model.version}+${createHash('sha256').update(names).digest('hex').slice(0, 7)}`;
}

/** Whether `version` is the catalog's version, or that version at a hub commit or with other content (`1.0.0+…`). */
export function isVariantOf(version: string, catalogVersion: string): boolean {
  return version === catalogVersion || version.startsWith(`${catalogVersion}+`);
}
