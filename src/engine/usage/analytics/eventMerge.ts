import type { Database, Statement } from 'sql.js';
import { DurationHistogram } from './durationStats';
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
  for (const table of ['generation_events', 'other_events', 'event_details']) db.run(`DELETE FROM ${table} WHERE key < ?`, [cutoff]);
}

const GENERATION = kindCode('generation');

/** One `daily` row's share of a batch: rolled up in memory, then written with one upsert. */
interface DayTotals {
  readonly day: number;
  readonly model: number;
  readonly kind: number;
  count: number;
  ok: number;
  failed: number;
  durations: number;
  sumDuration: number;
  minDuration: number | null;
  maxDuration: number | null;
  units: number;
  unitsDuration: number;
  bytes: number;
  lastTs: number;
  /** Generations only: their durations, to add to the stored histogram. */
  readonly hist: DurationHistogram | undefined;
}

/** The statements of one merge; prepared per merge so none outlives the database it was prepared on. */
class EventMerge {
  private readonly modelIds = new Map<string, number>();
  private readonly totals = new Map<string, DayTotals>();
  /** The last key given in this batch per millisecond slot base. */
  private readonly given = new Map<number, number>();
  /** Slots above this held no key when the batch started, so only `given` can have taken them. */
  private storedMaxKey = 0;
  private readonly findModel: Statement;
  private readonly addModel: Statement;
  private readonly lastKeyInSlot: Statement[];
  private readonly addGeneration: Statement;
  private readonly addOther: Statement;
  private readonly addDetail: Statement;
  private readonly readHist: Statement;
  private readonly addToDaily: Statement;

  constructor(private readonly db: Database) {
    this.findModel = db.prepare('SELECT id FROM models WHERE name = ?');
    this.addModel = db.prepare('INSERT INTO models (name) VALUES (?)');
    // Keys are unique across both event tables: event_details refers to either.
    this.lastKeyInSlot = ['generation_events', 'other_events'].map((t) => db.prepare(`SELECT key FROM ${t} WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT 1`));
    this.addGeneration = db.prepare('INSERT INTO generation_events (key, model_id, ok, duration_ms, units, version) VALUES (?, ?, ?, ?, ?, ?)');
    this.addOther = db.prepare('INSERT INTO other_events (key, kind, model_id) VALUES (?, ?, ?)');
    this.addDetail = db.prepare('INSERT INTO event_details (key, other_model_id, bytes, detail, ok, duration_ms, units) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.readHist = db.prepare('SELECT duration_hist FROM daily WHERE day = ? AND model_id = ? AND kind = ?');
    this.addToDaily = db.prepare(`
      INSERT INTO daily (day, model_id, kind, count, ok_count, failed_count, duration_count, sum_duration_ms,
        min_duration_ms, max_duration_ms, sum_units, units_duration_ms, sum_bytes, last_ts, duration_hist)
      VALUES (:day, :model, :kind, :count, :ok, :failed, :durations, :duration, :minDuration, :maxDuration, :units, :unitsDuration, :bytes, :ts, :hist)
      ON CONFLICT (day, model_id, kind) DO UPDATE SET
        count = count + excluded.count, ok_count = ok_count + excluded.ok_count, failed_count = failed_count + excluded.failed_count,
        duration_count = duration_count + excluded.duration_count, sum_duration_ms = sum_duration_ms + excluded.sum_duration_ms,
        min_duration_ms = coalesce(min(min_duration_ms, excluded.min_duration_ms), min_duration_ms, excluded.min_duration_ms),
        max_duration_ms = coalesce(max(max_duration_ms, excluded.max_duration_ms), max_duration_ms, excluded.max_duration_ms),
        sum_units = sum_units + excluded.sum_units, units_duration_ms = units_duration_ms + excluded.units_duration_ms,
        sum_bytes = sum_bytes + excluded.sum_bytes, last_ts = max(last_ts, excluded.last_ts),
        duration_hist = coalesce(excluded.duration_hist, duration_hist)`);
  }

  run(origin: string, events: readonly PendingEvent[]): number {
    this.db.run('INSERT OR IGNORE INTO origins (origin, last_seq) VALUES (?, 0)', [origin]);
    const lastSeq = Number(this.db.exec('SELECT last_seq FROM origins WHERE origin = ?', [origin])[0].values[0][0]);
    this.storedMaxKey = Number(this.db.exec('SELECT max((SELECT coalesce(max(key), 0) FROM generation_events), (SELECT coalesce(max(key), 0) FROM other_events))')[0].values[0][0]);
    let added = 0;
    let maxSeq = lastSeq;
    for (const e of events) {
      if (e.seq <= lastSeq) continue;
      this.add(e);
      added++;
      maxSeq = Math.max(maxSeq, e.seq);
    }
    this.writeTotals();
    this.db.run('UPDATE origins SET last_seq = ? WHERE origin = ?', [maxSeq, origin]);
    return added;
  }

  free(): void {
    for (const s of [this.findModel, this.addModel, ...this.lastKeyInSlot, this.addGeneration, this.addOther, this.addDetail, this.readHist, this.addToDaily]) s.free();
  }

  private add(e: PendingEvent): void {
    const key = this.freeKey(e.ts);
    const model = this.modelId(e.modelId);
    const kind = kindCode(e.kind);
    const ok = e.ok === undefined ? null : e.ok ? 1 : 0;
    const duration = finiteOrNull(e.durationMs);
    const units = finiteOrNull(e.units);
    const bytes = finiteOrNull(e.bytes);
    const generation = kind === GENERATION;
    if (generation) this.addGeneration.run([key, model, ok, duration, units, e.version ?? null]);
    else this.addOther.run([key, kind, model]);
    const outcome = !generation && (ok !== null || duration !== null || units !== null);
    if (outcome || e.otherModelId !== undefined || bytes !== null || e.detail !== undefined) {
      const other = e.otherModelId === undefined ? null : this.modelId(e.otherModelId);
      const detail = e.detail === undefined ? null : JSON.stringify(e.detail);
      this.addDetail.run(generation ? [key, other, bytes, detail, null, null, null] : [key, other, bytes, detail, ok, duration, units]);
    }
    const t = this.dayTotals(localDay(e.ts), model, kind);
    t.count++;
    if (ok === 1) t.ok++;
    if (ok === 0) t.failed++;
    if (duration !== null) {
      t.durations++;
      t.sumDuration += duration;
      t.minDuration = t.minDuration === null ? duration : Math.min(t.minDuration, duration);
      t.maxDuration = t.maxDuration === null ? duration : Math.max(t.maxDuration, duration);
      t.hist?.add(duration);
      if (units !== null) t.unitsDuration += duration;
    }
    t.units += units ?? 0;
    t.bytes += bytes ?? 0;
    t.lastTs = Math.max(t.lastTs, Math.floor(e.ts));
  }

  private dayTotals(day: number, model: number, kind: number): DayTotals {
    const id = `${day},${model},${kind}`;
    let t = this.totals.get(id);
    if (!t) {
      t = {
        day, model, kind, count: 0, ok: 0, failed: 0, durations: 0, sumDuration: 0, minDuration: null, maxDuration: null,
        units: 0, unitsDuration: 0, bytes: 0, lastTs: Number.MIN_SAFE_INTEGER, hist: kind === GENERATION ? new DurationHistogram() : undefined,
      };
      this.totals.set(id, t);
    }
    return t;
  }

  private writeTotals(): void {
    for (const t of this.totals.values()) {
      let hist: Uint8Array | null = null;
      if (t.hist && t.hist.count > 0) {
        this.readHist.bind([t.day, t.model, t.kind]);
        const stored = this.readHist.step() ? this.readHist.get()[0] : null;
        this.readHist.reset();
        if (stored instanceof Uint8Array) t.hist.addEncoded(stored);
        hist = t.hist.encode();
      }
      this.addToDaily.run({
        ':day': t.day, ':model': t.model, ':kind': t.kind, ':count': t.count, ':ok': t.ok, ':failed': t.failed,
        ':durations': t.durations, ':duration': t.sumDuration, ':minDuration': t.minDuration, ':maxDuration': t.maxDuration,
        ':units': t.units, ':unitsDuration': t.unitsDuration, ':bytes': t.bytes, ':ts': t.lastTs, ':hist': hist,
      });
    }
  }

  /** The next free key for `ts`; a millisecond with all its slots taken spills into the next one. */
  private freeKey(ts: number): number {
    for (let base = eventKeyAt(ts); ; base += EVENT_KEY_SLOTS) {
      let last = this.given.get(base);
      if (last === undefined && base <= this.storedMaxKey) last = this.lastStoredKey(base);
      const next = last === undefined ? base : last + 1;
      if (next < base + EVENT_KEY_SLOTS) {
        this.given.set(base, next);
        return next;
      }
    }
  }

  private lastStoredKey(base: number): number | undefined {
    let last: number | undefined;
    for (const s of this.lastKeyInSlot) {
      s.bind([base, base + EVENT_KEY_SLOTS]);
      if (s.step()) last = Math.max(last ?? -Infinity, Number(s.get()[0]));
      s.reset();
    }
    return last;
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
