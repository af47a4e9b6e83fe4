import { formatBytes } from '../engine';
import type { ModelState } from '../engine';

const PLAIN_INTERVAL_MS = 2000;

/** Download progress on stderr: a live bar per model on a TTY, a plain line every few seconds otherwise. */
export class ProgressPrinter {
  private lastPlain = new Map<string, number>();
  private drawnLines = 0;

  constructor(private readonly out: NodeJS.WriteStream, private readonly ids: readonly string[]) {}

  update(states: readonly ModelState[]): void {
    const mine = states.filter((s) => this.ids.includes(s.id));
    if (this.out.isTTY) this.drawBars(mine);
    else this.printLines(mine);
  }

  /** Leaves the bars in place and moves below them, so later output does not overwrite them. */
  finish(): void {
    this.drawnLines = 0;
  }

  /** Clears the bars so a log line can be printed, the next update redraws them. */
  clear(): void {
    if (!this.out.isTTY || this.drawnLines === 0) return;
    this.out.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }

  private drawBars(states: readonly ModelState[]): void {
    this.clear();
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - 60));
    for (const s of states) {
      const fraction = s.totalBytes ? Math.min(1, s.bytesOnDisk / s.totalBytes) : s.state === 'ready' ? 1 : 0;
      const filled = Math.round(fraction * width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      this.out.write(`${s.id.padEnd(24).slice(0, 24)} ${bar} ${describe(s)}\n`);
    }
    this.drawnLines = states.length;
  }

  private printLines(states: readonly ModelState[]): void {
    const now = Date.now();
    for (const s of states) {
      if (s.state !== 'downloading') continue;
      if (now - (this.lastPlain.get(s.id) ?? 0) < PLAIN_INTERVAL_MS) continue;
      this.lastPlain.set(s.id, now);
      this.out.write(`${s.id}: ${describe(s)}\n`);
    }
  }
}

export function describe(s: ModelState): string {
  const pct = s.totalBytes ? `${((100 * s.bytesOnDisk) / s.totalBytes).toFixed(1)}%` : formatBytes(s.bytesOnDisk);
  switch (s.state) {
    case 'downloading': {
      const p = s.progress;
      const speed = p && p.speed > 0 ? ` ${formatBytes(p.speed)}/s` : '';
      const eta = p?.etaSeconds !== undefined ? ` ETA ${formatDuration(p.etaSeconds)}` : '';
      const other = p?.followingOtherProcess ? ' (another process is downloading it)' : '';
      return `${pct}${speed}${eta}${other}`;
    }
    case 'queued':
      return `queued${s.waitEstimateSeconds !== undefined ? `, starts in ~${formatDuration(s.waitEstimateSeconds)}` : ''}`;
    case 'paused':
      return `paused at ${pct}${s.pausedReason ? `: ${s.pausedReason}` : ''}`;
    case 'failed':
      return `failed: ${s.error ?? 'unknown error'}`;
    default:
      return s.state;
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
