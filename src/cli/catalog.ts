import * as path from 'node:path';
import { formatProblem, loadCatalogs, type CatalogProblem, type CatalogSource } from '../engine';
import type { ModelEntry } from '../engine';

export interface CliCatalog {
  readonly models: ModelEntry[];
  /** Errors (file, JSON path, reason, fix): `list` shows what loaded and exits 2, other commands refuse to run. */
  readonly errors: string[];
  readonly warnings: string[];
}

/** The built-in catalog (unless --no-builtin) plus every --catalog, merged as the extension does. */
export async function loadCliCatalog(catalogs: readonly string[], builtin: boolean): Promise<CliCatalog> {
  const sources: CatalogSource[] = [...(builtin ? [{ kind: 'builtin' } as const] : []), ...catalogs.map((c): CatalogSource =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(c) ? { kind: 'url', url: c } : { kind: 'file', path: path.resolve(c) })];
  const result = await loadCatalogs(sources);
  const words = (severity: CatalogProblem['severity']): string[] =>
    result.problems.filter((p) => p.severity === severity).map((p) => formatProblem(p, 'cli'));
  return { models: result.models, errors: words('error'), warnings: words('warning') };
}

/** Ids that look like `wanted`: shared substrings first, then small edit distance. */
export function closeIds(wanted: string, ids: readonly string[], max = 3): string[] {
  const w = wanted.toLowerCase();
  return ids
    .map((id) => ({ id, score: id.includes(w) || w.includes(id) ? 0 : editDistance(w, id.toLowerCase()) }))
    .filter((c) => c.score <= Math.max(3, Math.floor(w.length / 2)))
    .sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .slice(0, max)
    .map((c) => c.id);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
