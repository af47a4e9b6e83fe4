/** Smoothed transfer speed: an exponentially weighted average over samples at least WINDOW_MS apart. */
export class SpeedMeter {
  private static readonly WINDOW_MS = 500;
  private static readonly ALPHA = 0.3;
  private lastBytes: number | undefined;
  private lastTime = 0;
  private smoothed = 0;

  constructor(private readonly now: () => number = Date.now) {}

  sample(bytesDone: number): void {
    const t = this.now();
    if (this.lastBytes === undefined || bytesDone < this.lastBytes) {
      this.lastBytes = bytesDone;
      this.lastTime = t;
      return;
    }
    const dt = t - this.lastTime;
    if (dt < SpeedMeter.WINDOW_MS) return;
    const rate = ((bytesDone - this.lastBytes) / dt) * 1000;
    this.smoothed = this.smoothed === 0 ? rate : SpeedMeter.ALPHA * rate + (1 - SpeedMeter.ALPHA) * this.smoothed;
    this.lastBytes = bytesDone;
    this.lastTime = t;
  }

  /** Bytes per second. */
  get speed(): number {
    return this.smoothed;
  }
}
