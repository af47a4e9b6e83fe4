import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { AnalyticsStore, type AnalyticsStoreOptions } from '../../../../src/engine/usage/analytics/analyticsStore';

/** sql.js's wasm next to its main module, as esbuild copies it into dist/. */
export const WASM_PATH = path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm');

let sqlJs: Promise<SqlJsStatic> | undefined;
export function sql(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs({ locateFile: () => WASM_PATH });
  return sqlJs;
}

export async function tempFolder(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ma-analytics-'));
}

export function openStore(folder: string, options: Partial<AnalyticsStoreOptions> = {}): Promise<AnalyticsStore> {
  return AnalyticsStore.open({ folder, wasmPath: WASM_PATH, saveDelayMs: 60_000, lockStaleMs: 2000, ...options });
}

/** Opens a database file directly, independent of the store. */
export async function openFile(file: string): Promise<Database> {
  return new (await sql()).Database(await fs.readFile(file));
}

export function scalar(db: Pick<Database, 'exec'>, query: string): number | string | null {
  const value = db.exec(query)[0]?.values[0]?.[0];
  if (value instanceof Uint8Array) throw new Error('unexpected blob');
  return value ?? null;
}

/** The file's event count after checking it passes `PRAGMA integrity_check`. */
export async function checkedEventCount(file: string): Promise<number> {
  const db = await openFile(file);
  try {
    const integrity = scalar(db, 'PRAGMA integrity_check');
    if (integrity !== 'ok') throw new Error(`integrity_check: ${String(integrity)}`);
    return Number(scalar(db, 'SELECT count(*) FROM events'));
  } finally {
    db.close();
  }
}

export const DAY = 86_400_000;

/** Local noon some days ago, so day-based periods never straddle a boundary in tests. */
export function localNoon(daysAgo = 0, from = new Date()): number {
  const d = new Date(from);
  d.setHours(12, 0, 0, 0);
  d.setDate(d.getDate() - daysAgo);
  return d.getTime();
}
