import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { applyConnectionPragmas, migrate } from './schema';

/** An opened database file: current (migrated if older), of a newer schema (read only), or unreadable. */
export type OpenResult =
  | { readonly status: 'ok'; readonly db: Database }
  | { readonly status: 'newer'; readonly db: Database }
  | { readonly status: 'corrupt' };

const sqlJsByWasm = new Map<string, Promise<SqlJsStatic>>();

/** sql.js, loaded once per wasm file (a failed load is tried again next time). */
export function loadSqlJs(wasmPath: string): Promise<SqlJsStatic> {
  let loading = sqlJsByWasm.get(wasmPath);
  if (!loading) {
    loading = initSqlJs({ locateFile: () => wasmPath });
    loading.catch(() => sqlJsByWasm.delete(wasmPath));
    sqlJsByWasm.set(wasmPath, loading);
  }
  return loading;
}

/** Opens file bytes; `fullCheck` runs `PRAGMA integrity_check`, too slow to run on every save. */
export function openDatabase(sql: SqlJsStatic, bytes: Uint8Array, fullCheck: boolean): OpenResult {
  let db: Database | undefined;
  try {
    db = new sql.Database(bytes);
    applyConnectionPragmas(db);
    if (fullCheck && db.exec('PRAGMA integrity_check')[0]?.values[0]?.[0] !== 'ok') throw new Error('integrity check failed');
    return migrate(db) ? { status: 'ok', db } : { status: 'newer', db };
  } catch {
    db?.close();
    return { status: 'corrupt' };
  }
}

export function newDatabase(sql: SqlJsStatic): Database {
  const db = new sql.Database();
  migrate(db);
  applyConnectionPragmas(db);
  return db;
}
