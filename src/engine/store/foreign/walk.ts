import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';

/** A folder's entries, or none when it is absent or unreadable (another tool's store may be either). */
export async function entriesOf(dir: string): Promise<Dirent[]> {
  return fs.readdir(dir, { withFileTypes: true }).catch(() => []);
}

/**
 * Calls `visit` for every non-folder entry under `dir` (files and links), down to `maxDepth` folders,
 * with its path relative to `dir` in POSIX form. Links to folders are not followed.
 */
export async function walkFiles(dir: string, maxDepth: number, visit: (full: string, rel: string) => Promise<void>, rel = ''): Promise<void> {
  for (const entry of await entriesOf(dir)) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (maxDepth > 0) await walkFiles(full, maxDepth - 1, visit, relPath);
    } else {
      await visit(full, relPath);
    }
  }
}
