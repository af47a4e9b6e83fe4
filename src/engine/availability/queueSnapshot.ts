import type { DownloadFailureCode } from '../core/downloadError';
import type { SpeedMeter } from '../transfer/speedMeter';
import type { ModelProgress } from './modelDownload';
import type { DownloadPriority, QueueItem, QueueItemState, QueueProgress } from './queueTypes';

/** A DownloadQueue item as the queue keeps it. */
export interface MutableItem {
  id: string;
  priority: DownloadPriority;
  state: QueueItemState;
  order: number;
  pausedReason?: string;
  error?: string;
  failureCode?: DownloadFailureCode;
  progress?: ModelProgress;
  meter?: SpeedMeter;
  controller?: AbortController;
  running?: Promise<void>;
  /** Paused by a generation, resumed when it ends. */
  heldByGeneration?: boolean;
}

/**
 * What the queue shows, in its order: each item's progress with speed and time left, and for queued items
 * their place and an estimated wait (what runs and waits ahead of them over the speed of what runs).
 */
export function queueSnapshot(ordered: readonly MutableItem[], remainingBytes: (id: string) => number | undefined): QueueItem[] {
  const running = ordered.filter((i) => i.state === 'running');
  const speed = running.reduce((s, i) => s + (i.meter?.speed ?? 0), 0);
  let ahead = running.reduce((s, i) => s + remaining(i.progress), 0);
  let position = 0;
  return ordered.map((item) => {
    let queuePosition: number | undefined;
    let waitEstimateSeconds: number | undefined;
    if (item.state === 'queued') {
      queuePosition = ++position;
      if (speed > 0) waitEstimateSeconds = Math.ceil(ahead / speed);
      ahead += remainingBytes(item.id) ?? 0;
    }
    const p = item.progress;
    const spd = item.meter?.speed ?? 0;
    const progress: QueueProgress | undefined = p && {
      bytesDone: p.bytesDone, total: p.total, speed: spd, followingOtherProcess: p.followingOtherProcess,
      etaSeconds: p.total !== undefined && spd > 0 ? Math.round((p.total - p.bytesDone) / spd) : undefined,
    };
    return { id: item.id, priority: item.priority, state: item.state, pausedReason: item.pausedReason, error: item.error, failureCode: item.failureCode, progress, queuePosition, waitEstimateSeconds };
  });
}

function remaining(p: ModelProgress | undefined): number {
  return p?.total !== undefined ? Math.max(0, p.total - p.bytesDone) : 0;
}
