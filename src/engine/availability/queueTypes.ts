import type { DownloadFailureCode } from '../core/downloadError';
import type { Fix } from '../core/fixes';
import type { Logger } from '../transfer/settings';
import type { ModelProgress } from './modelDownload';

// What the DownloadQueue takes and tells: its items, their changes and failures, and what runs them.

export type DownloadPriority = 'high' | 'normal' | 'low';

/** A download failed (`failed`) or stopped needing attention, e.g. disk full (`paused`). */
export interface DownloadFailure {
  readonly id: string;
  readonly reason: string;
  /** What went wrong, for surfaces to decide on. */
  readonly code: DownloadFailureCode;
  readonly kind: 'failed' | 'paused';
  /** What the user can do about it, for the surface to phrase (core/fixes). */
  readonly fix?: Fix;
}

/** A queue item changed: its state (started, paused, failed, gone…) or only its progress. */
export interface QueueChange {
  readonly id: string;
  readonly kind: 'state' | 'progress';
}
export type QueueItemState = 'queued' | 'running' | 'paused' | 'failed';

export interface QueueProgress {
  readonly bytesDone: number;
  readonly total?: number;
  /** Smoothed bytes/s. */
  readonly speed: number;
  readonly etaSeconds?: number;
  readonly followingOtherProcess: boolean;
}

export interface QueueItem {
  readonly id: string;
  readonly priority: DownloadPriority;
  readonly state: QueueItemState;
  readonly pausedReason?: string;
  readonly error?: string;
  /** Set when it failed, or paused because the disk is full. */
  readonly failureCode?: DownloadFailureCode;
  readonly progress?: QueueProgress;
  /** 1-based among waiting items. */
  readonly queuePosition?: number;
  readonly waitEstimateSeconds?: number;
}

export interface QueueRunner {
  run(id: string, signal: AbortSignal, onProgress: (p: ModelProgress) => void): Promise<void>;
  /** Removes a download's partial data (cancel). */
  discard(id: string): Promise<void>;
  /** Bytes still to fetch, for wait estimates of queued items. */
  remainingBytes(id: string): number | undefined;
}

export interface DownloadQueueOptions {
  readonly runner: QueueRunner;
  readonly concurrency: () => number;
  readonly pauseDuringGeneration: () => boolean;
  readonly persistFile?: string;
  readonly logger: Logger;
}
