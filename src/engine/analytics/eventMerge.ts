import type { Database, Statement } from 'sql.js';
import { EVENT_KEY_SLOTS, eventKeyAt, kindCode, type PendingEvent } from './eventTypes';
import { localDay } from './period';

/**
 * Adds one process's events to `db` and rolls them up by day, in one transaction. Events at or below the
 * origin's recorded `last_seq` are skipped, so merging the same batch twice (a save that wrote the file
 * but failed afterwards) adds nothing. Returns how many events were added.
 */
export function mergeEvents(db: Database, origin: string, events: readonly PendingEvent[]): number {
  if (events.length === 0) return 0;
  const merge = new EventMerge(db);
  db.exec('BEGIN');
  try {
    const added = merge.run(origin, events);
    db.exec('COMMIT');
    return added;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  } finally {
    merge.free();
  }
}

/** Deletes raw events older than `retentionDays`; their totals stay in `daily`, which every merge keeps current. */
export function applyRetention(db: Database, now: number, retentionDays: number): void {
  const cutoff = eventKeyAt(now - retentionDays * 86_400_000);
  db.run('DELETE FROM events WHERE key < ?', [cutoff]);
  db.run('DELETE FROM event_details WHERE key < ?', [cutoff]);
}

/** The statements of one merge; prepared per merge because `export()` frees every statement. */
class EventMerge {
  private readonly modelIds = new Map<string, number>();
  private readonly findModel: Statement;
  private readonly addModel: Statement;
  private readonly lastKeyInSlot: Statement;
  private readonly addEvent: Statement;
  private readonly addDetail: Statement;
  private readonly addToDaily: Statement;

  constructor(private readonly db: Database) {
    this.findModel = db.prepare('SELECT id FROM models WHERE name = ?');
    this.addModel = db.prepare('INSERT INTO models (name) VALUES (?)');
    this.lastKeyInSlot = db.prepare('SELECT key FROM events WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT 1');
    this.addEvent = db.prepare('INSERT INTO events (key, kind, model_id, ok, duration_ms, units) VALUES (?, ?, ?, ?, ?, ?)');
    this.addDetail = db.prepare('INSERT INTO event_details (key, other_model_id, bytes, detail) VALUES (?, ?, ?, ?)');
    this.addToDaily = db.prepare(`
      INSERT INTO daily (day, model_id, kind, count, ok_count, failed_count, duration_count, sum_duration_ms,
        min_duration_ms, max_duration_ms, sum_units, units_duration_ms, sum_bytes, last_ts)
      VALUES (:day, :model, :kind, 1, :ok, :failed, :hasDuration, :duration, :minDuration, :maxDuration, :units, :unitsDuration, :bytes, :ts)
      ON CONFLICT (day, model_id, kind) DO UPDATE SET
        count = count + 1, ok_count = ok_count + excluded.ok_count, failed_count = failed_count + excluded.failed_count,
        duration_count = duration_count + excluded.duration_count, sum_duration_ms = sum_duration_ms + excluded.sum_duration_ms,
        min_duration_ms = coalesce(min(min_duration_ms, excluded.min_duration_ms), min_duration_ms, excluded.min_duration_ms),
        max_duration_ms = coalesce(max(max_duration_ms, excluded.max_duration_ms), max_duration_ms, excluded.max_duration_ms),
        sum_units = sum_units + excluded.sum_units, units_duration_ms = units_duration_ms + excluded.units_duration_ms,
        sum_bytes = sum_bytes + excluded.sum_bytes, last_ts = max(last_ts, excluded.last_ts)`);
  }

  run(origin: string, events: readonly PendingEvent[]): number {
    this.db.run('INSERT OR IGNORE INTO origins (origin, last_seq) VALUES (?, 0)', [origin]);
    const lastSeq = Number(this.db.exec('SELECT last_seq FROM origins WHERE origin = ?', [origin])[0].values[0][0]);
    let added = 0;
    let maxSeq = lastSeq;
    for (const e of events) {
      if (e.seq <= lastSeq) continue;
      this.add(e);
      added++;
      maxSeq = Math.max(maxSeq, e.seq);
    }
    this.db.run('UPDATE origins SET last_seq = ? WHERE origin = ?', [maxSeq, origin]);
    return added;
  }

  free(): void {
    for (const s of [this.findModel, this.addModel, this.lastKeyInSlot, this.addEvent, this.addDetail, this.addToDaily]) s.free();
  }

  private add(e: PendingEvent): void {
    const key = this.freeKey(e.ts);
    const model = this.modelId(e.modelId);
    const kind = kindCode(e.kind);
    const ok = e.ok === undefined ? null : e.ok ? 1 : 0;
    const duration = finiteOrNull(e.durationMs);
    const units = finiteOrNull(e.units);
    const bytes = finiteOrNull(e.bytes);
    this.addEvent.run([key, kind, model, ok, duration, units]);
    if (e.otherModelId !== undefined || bytes !== null || e.detail !== undefined) {
      const other = e.otherModelId === undefined ? null : this.modelId(e.otherModelId);
      this.addDetail.run([key, other, bytes, e.detail === undefined ? null : JSON.stringify(e.detail)]);
    }
    this.addToDaily.run({
      ':day': localDay(e.ts), ':model': model, ':kind': kind,
      ':ok': ok === 1 ? 1 : 0, ':failed': ok === 0 ? 1 : 0,
      ':hasDuration': duration === null ? 0 : 1, ':duration': duration ?? 0, ':minDuration': duration, ':maxDuration': duration,
      ':units': units ?? 0, ':unitsDuration': units !== null && duration !== null ? duration : 0,
      ':bytes': bytes ?? 0, ':ts': Math.floor(e.ts),
    });
  }

  /** The next free key for `ts`; a millisecond with all its slots taken spills into the next one. */
  private freeKey(ts: number): number {
    for (let base = eventKeyAt(ts); ; base += EVENT_KEY_SLOTS) {
      this.lastKeyInSlot.bind([base, base + EVENT_KEY_SLOTS]);
      const last = this.lastKeyInSlot.step() ? Number(this.lastKeyInSlot.get()[0]) : undefined;
      this.lastKeyInSlot.reset();
      if (last === undefined) return base;
      if (last + 1 < base + EVENT_KEY_SLOTS) return last + 1;
    }
  }

  private modelId(name: string): number {
    let id = this.modelIds.get(name);
    if (id === undefined) {
      this.findModel.bind([name]);
      if (this.findModel.step()) {
        id = Number(this.findModel.get()[0]);
      } else {
        this.addModel.run([name]);
        id = Number(this.db.exec('SELECT last_insert_rowid()')[0].values[0][0]);
      }
      this.findModel.reset();
      this.modelIds.set(name, id);
    }
    return id;
  }
}

function finiteOrNull(n: number | undefined): number | null {
  return n !== undefined && Number.isFinite(n) ? Math.round(n) : null;
}
