import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../src/engine/transfer/settings';
import { withDefaults, type DownloadSettings } from '../../src/engine/transfer/settings';
import { FaultServer } from './faultServer';

export const PIECE = 64 * 1024;

/** Settings for tests: small pieces, fast retries, short stall timeout. */
export function testSettings(overrides: Partial<DownloadSettings> = {}): DownloadSettings {
  return withDefaults({
    pieceSizeBytes: PIECE, retryBaseDelayMs: 20, stallTimeoutSeconds: 1, diskMarginBytes: 0, connections: 1, ...overrides,
  });
}

export async function tempDir(prefix = 'ma-dl-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A logger that keeps lines so tests can assert on what was said. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(m: string): void { this.lines.push(`info ${m}`); }
  warn(m: string): void { this.lines.push(`warn ${m}`); }
  error(m: string): void { this.lines.push(`error ${m}`); }
}

/** For each test of the calling describe: a fresh FaultServer and temp folder, closed and deleted after it. */
export function serverAndFolderPerTest(): { server(): FaultServer; dir(): string } {
  let server: FaultServer | undefined;
  let dir: string | undefined;
  beforeEach(async () => {
    server = await FaultServer.start();
    dir = await tempDir();
  });
  afterEach(async () => {
    await server?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return {
    server: () => server ?? assert.fail('no server outside a test'),
    dir: () => dir ?? assert.fail('no folder outside a test'),
  };
}
