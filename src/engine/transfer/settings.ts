import type { Transport } from './http/httpClient';
import { MAX_PIECE_SIZE } from '../store/pieceMap';

/** The knobs of the engine; the extension maps `modelAvailability.download.*` onto these, the CLI its flags. */
export interface DownloadSettings {
  readonly concurrency: number;
  readonly connections: number;
  /** MB/s (10^6 bytes) shared by all downloads; 0 = unlimited. */
  readonly speedLimitMBps: number;
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly stallTimeoutSeconds: number;
  /** Pause transfers while a generation runs (generations register in the engine's use guard). */
  readonly pauseDuringGeneration: boolean;
  /** At most 16 MiB; tests use small pieces. */
  readonly pieceSizeBytes: number;
  /** Free space required beyond the missing bytes before a download starts. */
  readonly diskMarginBytes: number;
  /** How file bodies and the hub's API answers are fetched. */
  readonly transport: Transport;
}

export const DEFAULT_DOWNLOAD_SETTINGS: DownloadSettings = {
  concurrency: 2,
  connections: 4,
  speedLimitMBps: 0,
  maxRetries: 3,
  retryBaseDelayMs: 1000,
  stallTimeoutSeconds: 30,
  pauseDuringGeneration: true,
  pieceSizeBytes: MAX_PIECE_SIZE,
  diskMarginBytes: 64 * 1024 * 1024,
  transport: 'direct',
};

export function withDefaults(partial: Partial<DownloadSettings> | undefined): DownloadSettings {
  return { ...DEFAULT_DOWNLOAD_SETTINGS, ...partial };
}

/** Where the engine reports what it does; the extension writes downloads.log + an output channel, the CLI stderr. */
export interface Logger {
  info(message: string, modelId?: string): void;
  warn(message: string, modelId?: string): void;
  error(message: string, modelId?: string): void;
}

export const NULL_LOGGER: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
