import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { whenLockFree } from '../../../src/engine/store/fileLock';
import { downloadLockPath, lockOwnerPath } from '../../../src/engine/store/storeLayout';
import { tempDir } from '../../support/downloadFixtures';

/** A real process that takes a file's download lock as a download does, says so, and then waits forever. */
function holdLockInChild(finalPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/holdLock.ts'), finalPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve(child); });
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('cross-process locks', function () {
  this.timeout(30_000);
  let dir: string;
  let finalPath: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await tempDir('ma-lock-');
    finalPath = path.join(dir, 'm.bin');
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) await kill(c);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('takes over at once a lock whose holder on this host was killed, though the lock is far from stale', async () => {
    const holder = await holdLockInChild(finalPath);
    children.push(holder);
    assert.equal(await whenLockFree(finalPath, 60_000, async () => undefined), false, 'held by a live process');
    await kill(holder);
    let ran = false;
    assert.equal(await whenLockFree(finalPath, 60_000, async () => { ran = true; }), true);
    assert.ok(ran);
  });

  it('keeps waiting for the stale timeout when the dead holder was on another host (a network disk)', async () => {
    const holder = await holdLockInChild(finalPath);
    children.push(holder);
    await kill(holder);
    const ownerFile = lockOwnerPath(downloadLockPath(finalPath));
    const owner = JSON.parse(await fs.readFile(ownerFile, 'utf8')) as { hostname: string };
    await fs.writeFile(ownerFile, JSON.stringify({ ...owner, hostname: `not-${owner.hostname}` }));
    assert.equal(await whenLockFree(finalPath, 60_000, async () => undefined), false);
  });

  it('a lock lost while held does not throw from a timer (proper-lockfile\'s default would crash the process)', async () => {
    const freed = await whenLockFree(finalPath, 2000, async () => {
      // Someone removes the lock; the holder's next refresh (after 1 s) notices.
      await fs.rmdir(downloadLockPath(finalPath));
      await new Promise((r) => setTimeout(r, 2500));
    });
    assert.equal(freed, true);
  });
});
