import type { Database } from 'sql.js';
import { DurationHistogram } from './durationStats';
import { EVENT_KEY_SLOTS, kindCode } from './eventTypes';
import { DAY_MS, localDay } from './period';

const GENERATION = kindCode('generation');
/** 16 KiB: half the pages of 8 KiB for the same rows, which makes `export()` (a page-by-page copy) faster. */
const PAGE_SIZE = 16_384;

/**
 * Each migration moves the schema from version `index` to `index + 1` (`PRAGMA user_version`).
 * Append only: a database written by any earlier release must upgrade through every later step.
 */
const MIGRATIONS: readonly ((db: Database) => void)[] = [
  // v1: raw events, with lookup tables so a row stays ~20 bytes.
  (db) => db.exec(`
    CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    -- Each process numbers its events; last_seq makes re-merging the same events a no-op.
    CREATE TABLE origins (id INTEGER PRIMARY KEY, origin TEXT NOT NULL UNIQUE, last_seq INTEGER NOT NULL);
    -- key = ts_ms * ${EVENT_KEY_SLOTS} + n (see EVENT_KEY_SLOTS).
    CREATE TABLE events (key INTEGER PRIMARY KEY, kind INTEGER NOT NULL, model_id INTEGER NOT NULL,
      ok INTEGER, duration_ms INTEGER, units INTEGER);
    -- The rarely filled fields live apart so that common rows carry no NULL columns for them.
    CREATE TABLE event_details (key INTEGER PRIMARY KEY, other_model_id INTEGER, bytes INTEGER, detail TEXT);
  `),
  // v2: daily roll-ups, kept after raw events expire; back-filled from the raw events.
  (db) => {
    db.exec(`
      CREATE TABLE daily (day INTEGER NOT NULL, model_id INTEGER NOT NULL, kind INTEGER NOT NULL,
        count INTEGER NOT NULL, ok_count INTEGER NOT NULL, failed_count INTEGER NOT NULL,
        duration_count INTEGER NOT NULL, sum_duration_ms INTEGER NOT NULL, min_duration_ms INTEGER, max_duration_ms INTEGER,
        sum_units INTEGER NOT NULL, units_duration_ms INTEGER NOT NULL, sum_bytes INTEGER NOT NULL, last_ts INTEGER NOT NULL,
        PRIMARY KEY (day, model_id, kind)) WITHOUT ROWID;
    `);
    // Old rows get the current zone's offset: one hour off across a DST change is acceptable for a back-fill.
    const offsetMs = new Date().getTimezoneOffset() * 60_000;
    db.run(`
      INSERT INTO daily
      SELECT ((e.key / ${EVENT_KEY_SLOTS}) - :offset) / ${DAY_MS} AS day, e.model_id, e.kind,
        count(*), count(CASE WHEN e.ok = 1 THEN 1 END), count(CASE WHEN e.ok = 0 THEN 1 END),
        count(e.duration_ms), coalesce(sum(e.duration_ms), 0), min(e.duration_ms), max(e.duration_ms),
        coalesce(sum(e.units), 0), coalesce(sum(CASE WHEN e.units IS NOT NULL THEN e.duration_ms END), 0),
        coalesce(sum(d.bytes), 0), max(e.key / ${EVENT_KEY_SLOTS})
      FROM events e LEFT JOIN event_details d ON d.key = e.key
      GROUP BY day, e.model_id, e.kind`, { ':offset': offsetMs });
  },
  // v3: generations, the bulk of the events, in a table of their own without a kind; other events without
  // the outcome columns (their rare outcomes go to event_details); per-day duration histograms, so that
  // medians and p95s over weeks read roll-ups instead of raw rows. `events` stays, as a view, for reading.
  (db) => {
    db.exec(`
      CREATE TABLE generation_events (key INTEGER PRIMARY KEY, model_id INTEGER NOT NULL, ok INTEGER, duration_ms INTEGER, units INTEGER);
      INSERT INTO generation_events SELECT key, model_id, ok, duration_ms, units FROM events WHERE kind = ${GENERATION};
      ALTER TABLE event_details ADD COLUMN ok INTEGER;
      ALTER TABLE event_details ADD COLUMN duration_ms INTEGER;
      ALTER TABLE event_details ADD COLUMN units INTEGER;
      INSERT INTO event_details (key, ok, duration_ms, units)
        SELECT key, ok, duration_ms, units FROM events
        WHERE kind != ${GENERATION} AND (ok IS NOT NULL OR duration_ms IS NOT NULL OR units IS NOT NULL)
        ON CONFLICT (key) DO UPDATE SET ok = excluded.ok, duration_ms = excluded.duration_ms, units = excluded.units;
      CREATE TABLE other_events (key INTEGER PRIMARY KEY, kind INTEGER NOT NULL, model_id INTEGER NOT NULL);
      INSERT INTO other_events SELECT key, kind, model_id FROM events WHERE kind != ${GENERATION};
      DROP TABLE events;
      CREATE VIEW events AS
        SELECT key, ${GENERATION} AS kind, model_id, ok, duration_ms, units FROM generation_events
        UNION ALL
        SELECT e.key, e.kind, e.model_id, d.ok, d.duration_ms, d.units FROM other_events e LEFT JOIN event_details d ON d.key = e.key;
      ALTER TABLE daily ADD COLUMN duration_hist BLOB;
    `);
    backfillHistograms(db);
  },
  // v4: the model version each generation ran on (NULL before), so an update's results compare with the
  // previous version's (automatic rollback).
  (db) => db.exec('ALTER TABLE generation_events ADD COLUMN version TEXT'),
];

/**
 * Histograms of the raw generations still kept; days already past retention keep none (their percentiles
 * were gone before too). A day whose roll-up row v2's back-fill put on a neighbouring day (DST) keeps none.
 */
function backfillHistograms(db: Database): void {
  const byDay = new Map<string, { day: number; model: number; hist: DurationHistogram }>();
  const rows = db.prepare(`SELECT key / ${EVENT_KEY_SLOTS}, model_id, duration_ms FROM generation_events WHERE duration_ms IS NOT NULL`);
  try {
    while (rows.step()) {
      const [ts, model, ms] = rows.get().map(Number);
      const day = localDay(ts);
      const id = `${day},${model}`;
      let entry = byDay.get(id);
      if (!entry) byDay.set(id, entry = { day, model, hist: new DurationHistogram() });
      entry.hist.add(ms);
    }
  } finally {
    rows.free();
  }
  const update = db.prepare(`UPDATE daily SET duration_hist = ? WHERE day = ? AND model_id = ? AND kind = ${GENERATION}`);
  try {
    for (const { day, model, hist } of byDay.values()) update.run([hist.encode(), day, model]);
  } finally {
    update.free();
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  return Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0);
}

/**
 * Brings `db` up to `target` (default: the newest), each step in its own transaction.
 * Returns false, changing nothing, for a database written by a newer release.
 */
export function migrate(db: Database, target = SCHEMA_VERSION): boolean {
  let version = schemaVersion(db);
  if (version > SCHEMA_VERSION) return false;
  const from = version;
  if (version === 0) {
    // Only takes effect on an empty database; larger pages cut per-page overhead, and export() copies page by page.
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
  }
  while (version < target) {
    db.exec('BEGIN');
    try {
      MIGRATIONS[version](db);
      version++;
      db.exec(`PRAGMA user_version = ${version}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  // v3 moved most rows: compact the file once (and give it the new page size) rather than carry the old pages.
  if (from > 0 && from < 3 && version >= 3) db.exec(`PRAGMA page_size = ${PAGE_SIZE}; VACUUM`);
  return true;
}

/**
 * Connection settings, which `export()` resets (it closes and reopens the database): apply after every
 * open and every export. The database lives in sql.js's memory, so a journal on "disk" buys nothing —
 * durability comes from writing the exported file atomically.
 */
export function applyConnectionPragmas(db: Database): void {
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
}
