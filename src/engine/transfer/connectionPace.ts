import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** How long the connections run before the pace is judged: long enough for a rate and a utilisation to mean something. */
const JUDGE_AFTER_MS = 100;
/**
 * How long the first connection's body runs alone before the others start, to be judged early from its second
 * half (the first still carries this process's own start): from nginx on loopback here, 210-350 MB/s then
 * (75-135 MB/s over the first 25 ms); on a slow link the others start this much later, which costs a
 * sixteenth of a second of their transfer.
 */
export const EARLY_LOOK_MS = 60;
/** The event loop this busy means it, not the network, limits the speed. */
const BUSY_UTILISATION = 0.5;
/** Below this the network is the limit whatever the event loop does (a busy extension host must not cost connections). */
const FAST_BYTES_PER_SECOND = 150e6;

/** Whether extra connections still help; RangeWorkers asks before the others start and before they claim more. */
export interface PaceJudge {
  machineBound(bytesPerSecond: number): boolean;
  /**
   * Asked by the other connections EARLY_LOOK_MS into the first connection's body, before they start: true
   * when the first alone already shows that this machine is the limit (they then never start). False only
   * means "not yet": the judgement once every connection has finished a request still comes.
   */
  boundEarly?(bytesPerSecond: number): boolean;
}

/**
 * Says when extra connections stop helping. They help when each connection is held back by the network (a
 * per-connection cap, a long round trip). When the data comes faster than this process can take it — a mirror
 * on the LAN, a server on loopback — the event loop is busy all the time, and every extra connection only adds
 * wake-ups and CPU: on two cores, 4 connections from a local server took 1.3× as long as one. Judged from the
 * event loop's utilisation and the measured speed; a verdict that this machine is the limit is kept.
 */
export class ConnectionPace implements PaceJudge {
  private verdict: boolean | undefined;

  constructor(
    private readonly log: (message: string) => void,
    /** Milliseconds since the connections started, and how busy the event loop was meanwhile (0–1). */
    private readonly gauge: () => { elapsedMs: number; busy: number } = eventLoopGauge(),
  ) {}

  /** True once the speed is found to be this machine's limit, not the network's (judged once, then kept). */
  machineBound(bytesPerSecond: number): boolean {
    if (this.verdict !== undefined) return this.verdict;
    const { elapsedMs, busy } = this.gauge();
    if (elapsedMs < JUDGE_AFTER_MS || bytesPerSecond <= 0) return false;
    this.verdict = this.judge(busy, bytesPerSecond, 'one connection from here on', '');
    return this.verdict;
  }

  boundEarly(bytesPerSecond: number): boolean {
    if (this.verdict !== undefined) return this.verdict;
    // Only "yes" is kept: "not yet" leaves the judgement with every connection measured.
    if (this.judge(this.gauge().busy, bytesPerSecond, 'one connection', ' on the first connection alone')) this.verdict = true;
    return this.verdict === true;
  }

  private judge(busy: number, bytesPerSecond: number, outcome: string, measuredOn: string): boolean {
    const bound = busy >= BUSY_UTILISATION && bytesPerSecond >= FAST_BYTES_PER_SECOND;
    if (bound) {
      this.log(`${outcome}: this machine, not the network, sets the pace (event loop ${Math.round(busy * 100)}% busy at ${Math.round(bytesPerSecond / 1e6)} MB/s${measuredOn})`);
    }
    return bound;
  }
}

/** This thread's event loop, from now on. */
function eventLoopGauge(): () => { elapsedMs: number; busy: number } {
  const started = performance.now();
  const before: EventLoopUtilization = performance.eventLoopUtilization();
  return () => ({ elapsedMs: performance.now() - started, busy: performance.eventLoopUtilization(before).utilization });
}
