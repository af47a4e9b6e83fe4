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
