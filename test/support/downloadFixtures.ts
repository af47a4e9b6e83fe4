import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../src/engine/transfer/settings';
import { withDefaults, type DownloadSettings } from '../../src/engine/transfer/settings';

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
