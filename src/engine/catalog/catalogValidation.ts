import type { ErrorObject } from 'ajv';
import { validateCatalogSchema } from './catalogSchema';
import { modelFilePathProblem } from './modelFilePath';

/** A location inside a catalog document, as JSON path segments: ['models', 0, 'files', 0, 'path']. */
export type JsonPath = readonly (string | number)[];

export interface SchemaIssue {
  readonly path: JsonPath;
  readonly message: string;
  /** True when the issue is about a property name (unknown property) rather than its value. */
  readonly onKey?: boolean;
}

const validateCatalog = validateCatalogSchema;

/** Human names for the patterns of the schema, keyed by the property they check. */
const PATTERN_REASONS: Record<string, string> = {
  id: "must use only lower-case letters, digits, '.', '_' and '-', and start with a letter or digit",
  alternatives: "must be model ids: lower-case letters, digits, '.', '_' and '-'",
  version: "must start with a letter or digit and use only letters, digits, '.', '_', '+' and '-'",
  url: 'must be an http:// or https:// URL (other schemes are not allowed)',
  sha256: 'must be the sha256 as 64 hexadecimal digits',
  repo: "must be a Hugging Face repository as 'owner/name'",
};

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => {
    const seg = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
}

function lastName(path: JsonPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return seg;
  }
  return undefined;
}

function describe(err: ErrorObject, path: (string | number)[]): SchemaIssue {
  switch (err.keyword) {
    case 'required':
      return { path: [...path, String(err.params.missingProperty)], message: 'is required but missing' };
    case 'additionalProperties':
      return { path: [...path, String(err.params.additionalProperty)], message: 'is not a known property (check its spelling)', onKey: true };
    case 'oneOf':
      return { path, message: "needs exactly one source: either 'url' or 'hf'" };
    case 'pattern':
      return { path, message: PATTERN_REASONS[lastName(path) ?? ''] ?? `must match ${String(err.params.pattern)}` };
    case 'minItems':
      return { path, message: lastName(path) === 'files' ? 'must list at least one file' : (err.message ?? 'has too few items') };
    case 'type':
      return { path, message: `must be ${/^[aeiou]/.test(String(err.params.type)) ? 'an' : 'a'} ${String(err.params.type)}` };
    default:
      return { path, message: err.message ?? `fails the '${err.keyword}' rule` };
  }
}

/** Validates a parsed catalog against the shipped JSON Schema and names each problem's JSON path. */
export function schemaIssues(value: unknown): SchemaIssue[] {
  if (validateCatalog(value)) return filePathIssues(value);
  const errors = validateCatalog.errors ?? [];
  // A failed oneOf already says "exactly one of url or hf"; the required-errors under it only repeat that.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    if (err.keyword !== 'oneOf' && oneOfPaths.some((p) => err.schemaPath.startsWith(p + '/'))) continue;
    const issue = describe(err, pointerToPath(err.instancePath));
    const key = JSON.stringify(issue.path) + issue.message;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return [...issues, ...filePathIssues(value)];
}

/**
 * The path rule of `files[].path` lives in code (modelFilePath.ts), so the loader and the store share one
 * definition; the schema's `modelFilePath` keyword only documents it (and keeps the schema compilable ahead of time).
 */
function filePathIssues(value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const models = isRecord(value) && Array.isArray(value.models) ? value.models : [];
  models.forEach((model, m) => {
    const files = isRecord(model) && Array.isArray(model.files) ? model.files : [];
    files.forEach((file, f) => {
      const p = isRecord(file) ? file.path : undefined;
      const problem = typeof p === 'string' && p.length > 0 ? modelFilePathProblem(p) : undefined;
      if (problem) issues.push({ path: ['models', m, 'files', f, 'path'], message: problem });
    });
  });
  return issues;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON path of a problem with the whole document. */
export const DOCUMENT_PATH = '(document)';

/** `models[0].files[1].path` */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || DOCUMENT_PATH;
}
