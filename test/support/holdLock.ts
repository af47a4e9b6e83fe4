import { withFileLock } from '../../src/engine/store/fileLock';

/** Run as a child process: takes the download lock of argv[2] as a download does, says "locked", and waits forever. */
void withFileLock(process.argv[2], { staleMs: 60_000, signal: new AbortController().signal, onOtherProgress: () => undefined, onWaiting: () => undefined }, async () => {
  process.stdout.write('locked\n');
  await new Promise(() => setInterval(() => undefined, 1000));
});
