import * as path from 'node:path';
import { formatProblem, loadCatalogs, type CatalogSource } from '../engine';
import type { ModelEntry } from '../engine';

export interface CliCatalog {
  readonly models: ModelEntry[];
  /** Errors (file, JSON path, reason): the CLI refuses to run with them. */
  readonly errors: string[];
  readonly warnings: string[];
}

/** The built-in catalog plus every --catalog, merged as the extension does. */
export async function loadCliCatalog(catalogs: readonly string[]): Promise<CliCatalog> {
  const sources: CatalogSource[] = [{ kind: 'builtin' }, ...catalogs.map((c): CatalogSource =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(c) ? { kind: 'url', url: c } : { kind: 'file', path: path.resolve(c) })];
  const result = await loadCatalogs(sources);
  return {
    models: result.models,
    errors: result.problems.filter((p) => p.severity === 'error').map(formatProblem),
    warnings: result.problems.filter((p) => p.severity === 'warning').map(formatProblem),
  };
}
