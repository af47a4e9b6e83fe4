import { promises as fs } from 'node:fs';
import { AvailabilityEngine, type AvailabilityEngineOptions } from '../../../src/engine/availability/engine';
import { MemoryLogger, tempDir, testSettings } from '../../support/downloadFixtures';
import { FaultServer } from '../../support/faultServer';

/** Engines on a temp store, disposed (and the store deleted) after each test. */
export class EngineHarness {
  readonly engines: AvailabilityEngine[] = [];
  readonly logger = new MemoryLogger();
  store = '';

  async setUp(): Promise<void> {
    this.store = await tempDir('ma-integrity-');
  }

  async tearDown(): Promise<void> {
    for (const e of this.engines.splice(0)) e.dispose();
    await fs.rm(this.store, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }

  async engine(opts: Partial<AvailabilityEngineOptions>): Promise<AvailabilityEngine> {
    const e = await AvailabilityEngine.create({
      storeRoot: this.store, models: [], logger: this.logger, persistQueue: false, ...opts, settings: testSettings(opts.settings),
    });
    this.engines.push(e);
    return e;
  }
}

/** Hooks for a suite: a fresh fault server and harness for every test, both torn down after it. */
export function withFaultServer(harness: EngineHarness): () => FaultServer {
  let server: FaultServer | undefined;
  beforeEach(async () => {
    server = await FaultServer.start();
    await harness.setUp();
  });
  afterEach(async () => {
    await harness.tearDown();
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the fault server starts in beforeEach');
    return server;
  };
}

/** Downloads the models and waits until each is ready. */
export async function install(engine: AvailabilityEngine, ids: readonly string[]): Promise<void> {
  const pending = new Set(ids);
  await new Promise<void>((resolve, reject) => {
    engine.onDidFinish(({ id }) => { pending.delete(id); if (pending.size === 0) resolve(); });
    engine.onDidFail(({ id, reason }) => { if (pending.has(id)) reject(new Error(`${id}: ${reason}`)); });
    engine.download(ids);
  });
}

/** XORs one byte of a file in place. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** For each test of the calling describe: a fresh FaultServer and EngineHarness, torn down after it. */
export function serverAndHarnessPerTest(): { server(): FaultServer; harness: EngineHarness } {
  const harness = new EngineHarness();
  return { server: withFaultServer(harness), harness };
}
