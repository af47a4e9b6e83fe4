type Reading = { readonly t: number; readonly bytes: number };

/**
 * Transfer speed over the last few seconds: the bytes moved across a sliding window, measured from half a
 * second after the bytes began to move. The first bytes of a transfer come in a burst (a server catching
 * up with its schedule, buffers filling), and a speed taken across it made every early estimate short; a
 * stall or a burst later on moves the speed only by its share of the window.
 */
export class SpeedMeter {
  private static readonly WARM_UP_MS = 500;
  /** Less time than this between the first point and the latest reading says nothing yet about the speed. */
  private static readonly MIN_SPAN_MS = 1_500;
  private static readonly WINDOW_MS = 5_000;
  /** Readings closer together than this are not kept as window points, only as the latest reading. */
  private static readonly POINT_MS = 250;
  /** Bytes done at the transfer's first reading: the bytes move once a reading has more. */
  private startBytes: number | undefined;
  private movingSince: number | undefined;
  private points: Reading[] = [];
  private latest: Reading | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  sample(bytesDone: number): void {
    const reading = { t: this.now(), bytes: bytesDone };
    // Fewer bytes than before: the transfer started over, and what came before describes another one.
    if (this.startBytes === undefined || (this.latest && bytesDone < this.latest.bytes)) {
      this.startBytes = bytesDone;
      this.movingSince = undefined;
      this.points = [];
    }
    this.latest = reading;
    if (this.movingSince === undefined) {
      if (bytesDone > this.startBytes) this.movingSince = reading.t;
      return;
    }
    if (reading.t - this.movingSince < SpeedMeter.WARM_UP_MS) return;
    const last = this.points.at(-1);
    if (!last || reading.t - last.t >= SpeedMeter.POINT_MS) this.points.push(reading);
    while (this.points.length > 2 && reading.t - this.points[1].t >= SpeedMeter.WINDOW_MS) this.points.shift();
  }

  /** Bytes per second; 0 until the meter has 1.5 s of readings past the warm-up. */
  get speed(): number {
    const start = this.points[0];
    const latest = this.latest;
    if (!start || !latest || latest.t - start.t < SpeedMeter.MIN_SPAN_MS) return 0;
    return ((latest.bytes - start.bytes) / (latest.t - start.t)) * 1000;
  }
}
