import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import lockfile from 'proper-lockfile';
import { lockOwnerPath } from './storeLayout';

/**
 * The one way the engine takes a cross-process lock (downloads, manifests, analytics): a proper-lockfile
 * folder refreshed while held and taken over once stale, plus an owner record (pid, host) beside it, so a
 * lock left by a process on this host that no longer exists is taken over at once instead of after the
 * stale timeout. A lock from another host (a network disk) still waits for the timeout: its pid means nothing here.
 */
export interface LockOptions {
  /** The lock folder. */
  readonly lockfilePath: string;
  /** A lock not refreshed for this long is left by a dead process (min 2000, as proper-lockfile). */
  readonly staleMs: number;
  /** How often the holder refreshes it; default staleMs / 2. */
  readonly updateMs?: number;
  /** How long to keep trying while a live process holds it; default 0 (fail at once with ELOCKED). */
  readonly retries?: lockfile.LockOptions['retries'];
}

export interface HeldLock {
  /** Aborted when the lock was lost (its folder was removed or refreshed by someone else): stop writing. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

interface OwnerRecord {
  readonly pid: number;
  readonly hostname: string;
  /** The pid namespace (Linux): containers on one host may share a hostname but not their pids. */
  readonly pidNamespace?: string;
  /** Which lock folder this record belongs to: a record left by an earlier holder must not judge a new one. */
  readonly lockId: string;
}

/** Takes the lock or throws (code ELOCKED when a live process holds it). Never throws later from a timer. */
export async function acquireLock(target: string, opts: LockOptions): Promise<HeldLock> {
  const lost = new AbortController();
  const attempt = (): Promise<() => Promise<void>> => lockfile.lock(target, {
    realpath: false, lockfilePath: opts.lockfilePath, stale: opts.staleMs, update: opts.updateMs, retries: opts.retries,
    // proper-lockfile's default throws from a timer, which would take the whole extension host down.
    onCompromised: (err) => lost.abort(err),
  });
  await takeOverIfOwnerDead(opts.lockfilePath);
  let release: () => Promise<void>;
  try {
    release = await attempt();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || !(await takeOverIfOwnerDead(opts.lockfilePath))) throw err;
    release = await attempt();
  }
  await recordOwner(opts.lockfilePath).catch(() => undefined);
  return {
    lost: lost.signal,
    release: async () => {
      // The record goes first: once the folder is gone, a new holder may write its own.
      await fs.rm(lockOwnerPath(opts.lockfilePath), { force: true }).catch(() => undefined);
      await release().catch(() => undefined);
    },
  };
}

/** True while a live process holds the lock (a lock whose owner on this host is dead does not count). */
export async function isLockHeld(target: string, opts: Pick<LockOptions, 'lockfilePath' | 'staleMs'>): Promise<boolean> {
  const held = await lockfile.check(target, { realpath: false, lockfilePath: opts.lockfilePath, stale: opts.staleMs }).catch(() => false);
  return held && !(await ownerIsDead(opts.lockfilePath));
}

/** Removes the lock when its owner is a process of this host that no longer exists; true if it did. */
async function takeOverIfOwnerDead(lockfilePath: string): Promise<boolean> {
  if (!(await ownerIsDead(lockfilePath))) return false;
  await fs.rmdir(lockfilePath).catch(() => undefined);
  await fs.rm(lockOwnerPath(lockfilePath), { force: true });
  return true;
}

async function ownerIsDead(lockfilePath: string): Promise<boolean> {
  const [owner, id] = await Promise.all([readOwner(lockfilePath), lockIdOf(lockfilePath)]);
  if (!owner || id === undefined || owner.lockId !== id) return false;
  if (owner.hostname !== os.hostname() || owner.pidNamespace !== (await pidNamespace())) return false;
  return owner.pid !== process.pid && !processExists(owner.pid);
}

async function recordOwner(lockfilePath: string): Promise<void> {
  const lockId = await lockIdOf(lockfilePath);
  if (lockId === undefined) return;
  const record: OwnerRecord = { pid: process.pid, hostname: os.hostname(), pidNamespace: await pidNamespace(), lockId };
  await fs.writeFile(lockOwnerPath(lockfilePath), JSON.stringify(record));
}

async function readOwner(lockfilePath: string): Promise<OwnerRecord | undefined> {
  try {
    const raw = JSON.parse(await fs.readFile(lockOwnerPath(lockfilePath), 'utf8')) as Partial<OwnerRecord>;
    return typeof raw.pid === 'number' && typeof raw.hostname === 'string' && typeof raw.lockId === 'string' ? raw as OwnerRecord : undefined;
  } catch {
    return undefined;
  }
}

/** Identifies one lock folder: a new folder at the same path gets a new inode and birth time. */
async function lockIdOf(lockfilePath: string): Promise<string | undefined> {
  const s = await fs.stat(lockfilePath, { bigint: true }).catch(() => undefined);
  return s ? `${s.dev}:${s.ino}:${s.birthtimeNs}` : undefined;
}

let namespace: Promise<string | undefined> | undefined;
function pidNamespace(): Promise<string | undefined> {
  namespace ??= fs.readlink('/proc/self/ns/pid').catch(() => undefined);
  return namespace;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
