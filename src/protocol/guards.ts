/** Small type-guard combinators for messages that arrive unchecked (the webview protocol). */

export type Guard<T> = (v: unknown) => v is T;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const isNumber: Guard<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
export const isString: Guard<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';

export function nullable<T>(guard: Guard<T>): Guard<T | null> {
  return (v): v is T | null => v === null || guard(v);
}

export function oneOf<T extends string | number>(values: readonly T[]): Guard<T> {
  return (v): v is T => (values as readonly unknown[]).includes(v);
}

export function arrayOf<T>(guard: Guard<T>): Guard<readonly T[]> {
  return (v): v is readonly T[] => Array.isArray(v) && v.every(guard);
}

/** A guard for an object type: one guard per field, and the compiler makes sure none is missing. */
export function shape<T>(fields: { readonly [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  return (v): v is T => isRecord(v) && Object.entries(fields).every(([key, guard]) => (guard as Guard<unknown>)(v[key]));
}
