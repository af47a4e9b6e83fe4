import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DownloadError } from '../core/downloadError';
import { sleep } from '../core/sleep';
import { downloadLockPath } from './storeLayout';
import { readPartState } from './partState';
import { acquireLock, type HeldLock } from './crossProcessLock';

export interface FileLockOptions {
  /** A lock not refreshed for this long belongs to a dead process and is taken over. */
  readonly staleMs: number;
  readonly signal: AbortSignal;
  /** Called while another process holds the lock, with that process's progress. */
  readonly onOtherProgress: (bytesDone: number, total: number | undefined) => void;
  readonly onWaiting: () => void;
}

export type LockedOutcome<T> = { readonly kind: 'ran'; readonly value: T } | { readonly kind: 'installedByOther' };

/** How often a waiting process re-reads the holder's state file and retries the lock. */
const FOLLOW_INTERVAL_MS = 1000;

/**
 * Runs `body` holding the cross-process lock of one file (`<final>.part.lock`, refreshed by
 * proper-lockfile, considered stale when its holder stops refreshing it). If another process holds it, we
 * follow that process's `.part.json` — a slow interval poll, since fs.watch is unreliable across
 * platforms for atomically renamed files — until it installs the file or dies, then take over.
 */
export async function withFileLock<T>(finalPath: string, opts: FileLockOptions, body: (signal: AbortSignal) => Promise<T>): Promise<LockedOutcome<T>> {
  await fs.mkdir(path.dirname(finalPath), { recursive: true });
  const lockOptions = { lockfilePath: downloadLockPath(finalPath), staleMs: opts.staleMs, updateMs: Math.max(1000, Math.floor(opts.staleMs / 4)) };
  let announced = false;
  for (;;) {
    opts.signal.throwIfAborted();
    let held: HeldLock | undefined;
    try {
      held = await acquireLock(finalPath, lockOptions);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    if (held) {
      const lost = new AbortController();
      held.lost.addEventListener('abort', () => lost.abort(new DownloadError('retryable', 'another process took over this download')), { once: true });
      try {
        return { kind: 'ran', value: await body(AbortSignal.any([opts.signal, lost.signal])) };
      } finally {
        await held.release();
      }
    }
    if (!announced) {
      announced = true;
      opts.onWaiting();
    }
    if (await isFile(finalPath)) return { kind: 'installedByOther' };
    const state = await readPartState(finalPath);
    if (state) {
      const done = state.completePieces.reduce((s, i) => s + Math.max(0, Math.min(state.pieceSize, state.size - i * state.pieceSize)), 0);
      opts.onOtherProgress(done, state.size);
    }
    await sleep(FOLLOW_INTERVAL_MS, opts.signal);
  }
}

/**
 * Runs `body` only if no process holds the file's download lock (returns false when one does): what must
 * not happen under another window's running download, like deleting its partial data on cancel.
 */
export async function whenLockFree(finalPath: string, staleMs: number, body: () => Promise<void>): Promise<boolean> {
  let held: HeldLock;
  try {
    held = await acquireLock(finalPath, { lockfilePath: downloadLockPath(finalPath), staleMs });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false;
    // No folder yet: nothing to protect and nothing to delete.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  try {
    await body();
    return true;
  } finally {
    await held.release();
  }
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
