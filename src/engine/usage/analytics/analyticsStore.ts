import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { Emitter, type Event } from '../../core/event';
import { Disposable } from '../../core/lifecycle';
import { writeFileAtomic } from '../../core/atomicFile';
import { fileStamp, moveAside, readWithStamp, removeMovedAside, removeOrphanTemps, withFileLock, type FileStamp } from './databaseFile';
import { applyRetention, mergeEvents } from './eventMerge';
import type { AnalyticsDatabase, AnalyticsEvent, PendingEvent } from './eventTypes';
import { applyConnectionPragmas } from './schema';
import { loadSqlJs, newDatabase, openDatabase } from './sqlDatabase';

export interface AnalyticsStoreOptions {
  /** Folder of the database file (the extension passes its global storage). */
  readonly folder: string;
  readonly fileName?: string;
  /** Path of `sql-wasm.wasm` (the extension passes `dist/sql-wasm.wasm`). */
  readonly wasmPath: string;
  readonly enabled?: boolean;
  /** Recorded events are saved this long after the first unsaved one (default 3000 ms). */
  readonly saveDelayMs?: number;
  /** Raw events older than this are deleted at save; daily roll-ups are kept (default 90). */
  readonly retentionDays?: number;
  readonly lockStaleMs?: number;
  /** How long a save waits for another process's lock before trying again later (default 15 s). */
  readonly lockWaitMs?: number;
  /** Unsaved events kept while saves fail; the oldest go beyond this (default 100,000). */
  readonly maxPendingEvents?: number;
  readonly now?: () => number;
}

export type AnalyticsWarningKind = 'corrupt' | 'newerSchema' | 'saveFailed' | 'dropped' | 'openFailed';

export interface AnalyticsWarning {
  readonly kind: AnalyticsWarningKind;
  readonly message: string;
  /** For `corrupt`: where the unreadable file was moved. */
  readonly movedTo?: string;
}

/**
 * Usage events in a sql.js database file shared by every process (VS Code window) using `folder`.
 * `record()` only buffers; a save, debounced or on `flush()`, takes the file's cross-process lock, reads
 * the file as it is now (another process may have saved since), merges this process's events into it and
 * writes it back atomically. Queries (`read`) see the database as of the last save or `reload()`.
 */
export class AnalyticsStore extends Disposable {
  private readonly _onDidWarn = this._register(new Emitter<AnalyticsWarning>());
  /** Problems found after `open()`; those found while opening are in `startupWarnings`. */
  readonly onDidWarn: Event<AnalyticsWarning> = this._onDidWarn.event;
  private readonly _onDidSave = this._register(new Emitter<void>());
  /** The snapshot behind `read()` changed (a save or a reload). */
  readonly onDidSave: Event<void> = this._onDidSave.event;

  readonly file: string;
  enabled: boolean;
  retentionDays: number;

  private readonly origin = randomUUID();
  private readonly now: () => number;
  private seq = 0;
  private pending: PendingEvent[] = [];
  private db: Database | undefined;
  /** The disk version `db` was read from or written as; undefined when `db` must not be taken as current. */
  private stamp: FileStamp | undefined;
  private readOnly = false;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly warned = new Set<AnalyticsWarningKind>();
  private readonly _startupWarnings: AnalyticsWarning[] = [];

  /** Never rejects for a missing, unreadable or corrupt file (it warns); only if sql.js itself cannot load. */
  static async open(options: AnalyticsStoreOptions): Promise<AnalyticsStore> {
    const store = new AnalyticsStore(await loadSqlJs(options.wasmPath), options);
    await store.loadAtStartup();
    store.opened = true;
    return store;
  }

  private constructor(private readonly sql: SqlJsStatic, private readonly options: AnalyticsStoreOptions) {
    super();
    this.file = path.join(options.folder, options.fileName ?? 'analytics.sqlite');
    this.enabled = options.enabled ?? true;
    this.retentionDays = options.retentionDays ?? 90;
    this.now = options.now ?? Date.now;
  }

  get startupWarnings(): readonly AnalyticsWarning[] {
    return this._startupWarnings;
  }

  /** Events recorded but not yet saved. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Buffers one event; cheap and synchronous. Nothing is kept while `enabled` is false. */
  record(event: AnalyticsEvent): void {
    if (!this.enabled || this.readOnly || this.closing) return;
    this.pending.push({ ...event, ts: event.ts ?? this.now(), seq: ++this.seq });
    const max = this.options.maxPendingEvents ?? 100_000;
    if (this.pending.length > max) {
      this.pending.splice(0, this.pending.length - max);
      this.warnOnce('dropped', 'Analytics events could not be saved for a while; the oldest unsaved ones were dropped.');
    }
    this.scheduleSave();
  }

  /** Saves now; rejects if the save failed (the events stay pending and are retried). */
  flush(): Promise<void> {
    return this.enqueue(() => this.save());
  }

  /** Re-reads the file so that `read()` sees other processes' saves. */
  reload(): Promise<void> {
    return this.enqueue(async () => {
      const latest = await this.loadLatest(false);
      if (latest) this._onDidSave.fire();
    });
  }

  /** Deletes every recorded event and roll-up, for every process sharing the file. */
  clear(): Promise<void> {
    this.pending = [];
    return this.enqueue(() => this.withLock(async (assertHeld) => {
      this.replaceDb(newDatabase(this.sql));
      await removeMovedAside(this.file);
      await this.write(assertHeld);
      this._onDidSave.fire();
    }));
  }

  /** Runs `query` on the current snapshot. */
  read<T>(query: (db: AnalyticsDatabase) => T): T {
    if (!this.db) throw new Error('The analytics store is closed.');
    return query(this.db);
  }

  /** Saves what is pending, then closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      await this.enqueue(() => this.save()).catch(() => undefined);
      this.replaceDb(undefined);
      super.dispose();
    })();
    return this.closing;
  }

  override dispose(): void {
    void this.close();
  }

  private scheduleSave(): void {
    if (this.timer || this.closing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, this.options.saveDelayMs ?? 3000);
    // A pending save must not keep a CLI process alive; `close()` saves what is left.
    this.timer.unref();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async save(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.readOnly) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.withLock(async (assertHeld) => {
        await removeOrphanTemps(this.file);
        const db = await this.loadLatest(true);
        if (!db) return;
        mergeEvents(db, this.origin, batch);
        applyRetention(db, this.now(), this.retentionDays);
        await this.write(assertHeld);
      });
      this.warned.delete('saveFailed');
      this._onDidSave.fire();
    } catch (err) {
      // Put the batch back in front: seq order must be kept for the merge's last_seq check.
      this.pending = batch.concat(this.pending);
      this.warnOnce('saveFailed', `Analytics could not be saved: ${err instanceof Error ? err.message : String(err)}`);
      this.scheduleSave();
      throw err;
    }
  }

  private withLock<T>(body: (assertHeld: () => void) => Promise<T>): Promise<T> {
    return withFileLock(this.file, { staleMs: this.options.lockStaleMs ?? 10_000, waitMs: this.options.lockWaitMs ?? 15_000 }, body);
  }

  /**
   * Makes `db` the file's current content, re-reading only if another process replaced it since we last
   * read or wrote it. Returns undefined for a database written by a newer release, which we must not write.
   * `underLock` allows moving a corrupt file aside (another process cannot be replacing it meanwhile).
   */
  private async loadLatest(underLock: boolean): Promise<Database | undefined> {
    if (this.db && this.stamp !== undefined && this.stamp === await fileStamp(this.file)) return this.readOnly ? undefined : this.db;
    // Close the old copy before loading the new one, so the process never holds two.
    this.replaceDb(undefined);
    const read = await readWithStamp(this.file);
    const opened = read ? openDatabase(this.sql, read.bytes, false) : { status: 'ok' as const, db: newDatabase(this.sql) };
    this.stamp = undefined;
    if (opened.status === 'corrupt') {
      this.replaceDb(newDatabase(this.sql));
      if (underLock) await this.setAsideCorrupt();
      return this.db;
    }
    this.replaceDb(opened.db);
    this.stamp = read?.stamp;
    if (opened.status === 'newer') {
      this.markNewerSchema();
      return undefined;
    }
    return opened.db;
  }

  private async loadAtStartup(): Promise<void> {
    try {
      const read = await readWithStamp(this.file);
      const opened = read ? openDatabase(this.sql, read.bytes, true) : { status: 'ok' as const, db: newDatabase(this.sql) };
      if (opened.status === 'corrupt') {
        this.replaceDb(newDatabase(this.sql));
        await this.withLock(async () => {
          // Another process may have replaced the file since we read it: only set aside what is still bad.
          const again = await readWithStamp(this.file);
          const recheck = again ? openDatabase(this.sql, again.bytes, true) : undefined;
          if (recheck?.status === 'corrupt') {
            await this.setAsideCorrupt();
          } else if (recheck) {
            this.replaceDb(recheck.db);
            this.stamp = again?.stamp;
            if (recheck.status === 'newer') this.markNewerSchema();
          }
        });
        return;
      }
      this.replaceDb(opened.db);
      this.stamp = read?.stamp;
      if (opened.status === 'newer') this.markNewerSchema();
    } catch (err) {
      this.replaceDb(this.db ?? newDatabase(this.sql));
      this.warnOnce('openFailed', `Analytics data could not be opened: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async setAsideCorrupt(): Promise<void> {
    const movedTo = await moveAside(this.file, this.now());
    this.warnOnce('corrupt', `The analytics database could not be read; it was moved to ${movedTo} and a new one started.`, movedTo);
  }

  private markNewerSchema(): void {
    this.readOnly = true;
    this.pending = [];
    this.warnOnce('newerSchema', 'The analytics database was written by a newer version of the extension; this window will not record usage.');
  }

  private async write(assertHeld: () => void): Promise<void> {
    if (!this.db) return;
    const data = this.db.export();
    // export() closed and reopened the connection, resetting its pragmas.
    applyConnectionPragmas(this.db);
    await writeFileAtomic(this.file, data, { beforeRename: assertHeld });
    this.stamp = await fileStamp(this.file);
  }

  private replaceDb(db: Database | undefined): void {
    if (this.db && this.db !== db) this.db.close();
    this.db = db;
  }

  private warnOnce(kind: AnalyticsWarningKind, message: string, movedTo?: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    const warning: AnalyticsWarning = movedTo === undefined ? { kind, message } : { kind, message, movedTo };
    // Nobody can listen before open() returns: those warnings are kept for the caller to read.
    if (this.opened) this._onDidWarn.fire(warning);
    else this._startupWarnings.push(warning);
  }
}
