import { Disposable, toDisposable } from '../core/lifecycle';
import type { Logger } from '../transfer/settings';
import type { HealthReport, RepairResult } from '../availability/modelIntegrity';
import type { VerifyOptions } from '../availability/modelVerifier';
import type { Health, HealthSettings } from '../availability/health';

/** What the monitor needs from the engine (AvailabilityEngine provides it). */
export interface MonitoredEngine {
  getModelStates(): readonly { readonly id: string; readonly state: string; readonly health: Health | null; readonly files: readonly { readonly verifiedAt?: string }[] }[];
  readonly settings: { readonly health: HealthSettings };
  /** Leases, generations and a storage move: a model in use is skipped. */
  readonly uses: { reasonAgainst(id: string): string | undefined };
  readonly integrity: {
    verify(id: string, opts: VerifyOptions): Promise<HealthReport>;
    repair(id: string, opts: VerifyOptions): Promise<RepairResult>;
    isBusy(id: string): boolean;
  };
}

export interface HealthMonitorOptions {
  readonly engine: MonitoredEngine;
  /** The extension routes it to health_monitor.log. */
  readonly logger: Logger;
  /** Test seam: the check interval in ms; defaults to the engine's checkIntervalHours. */
  readonly intervalMs?: () => number;
  /** Sleep between pieces so a background check stays out of the way (default 5 ms). */
  readonly pauseBetweenPiecesMs?: number;
}

/** The timer looks for due models this often relative to the interval, at most hourly. */
const TICKS_PER_INTERVAL = 4;
const MAX_TICK_MS = 3_600_000;

/**
 * Scheduled full checks: every model not checked for `checkIntervalHours` (0 = off) is checked, one at a
 * time, at low priority; models in use, downloading, or already being checked are skipped until the next
 * round. A red model is repaired when `autoRepair` is on. Everything goes to the logger.
 */
export class HealthMonitor extends Disposable {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly stop = new AbortController();
  /** When the monitor last checked each model (a failed repair is not retried before the next interval). */
  private readonly lastChecked = new Map<string, number>();

  constructor(private readonly opts: HealthMonitorOptions) {
    super();
    this._register(toDisposable(() => {
      clearTimeout(this.timer);
      this.stop.abort();
    }));
    this.reschedule();
  }

  /** Re-reads the interval; call when the setting changes. */
  reschedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const interval = this.interval();
    if (this.isDisposed || interval <= 0) return;
    this.timer = setTimeout(() => {
      void this.runRound().finally(() => this.reschedule());
    }, Math.min(MAX_TICK_MS, interval / TICKS_PER_INTERVAL));
    this.timer.unref();
  }

  /** Checks every due model now; resolves when the round ends (a round already running is joined). */
  runRound(): Promise<void> {
    this.round ??= this.checkDue().finally(() => { this.round = undefined; });
    return this.round;
  }

  private interval(): number {
    return this.opts.intervalMs?.() ?? this.opts.engine.settings.health.checkIntervalHours * 3_600_000;
  }

  private async checkDue(): Promise<void> {
    const { engine, logger } = this.opts;
    const interval = this.interval();
    if (interval <= 0) return;
    // Installed models only, and not while they download: a paused or failed download is the queue's business.
    const candidates = engine.getModelStates().filter((s) => s.health !== null && (s.state === 'ready' || s.state === 'missing'));
    for (const s of candidates) {
      if (this.stop.signal.aborted) return;
      const verified = s.files.map((f) => (f.verifiedAt ? Date.parse(f.verifiedAt) : 0));
      const last = Math.max(this.lastChecked.get(s.id) ?? 0, verified.length > 0 ? Math.min(...verified) : 0);
      if (Date.now() - last < interval) continue;
      const inUse = engine.uses.reasonAgainst(s.id);
      if (inUse) {
        logger.info(`scheduled check skipped: ${inUse}`, s.id);
        continue;
      }
      if (engine.integrity.isBusy(s.id)) continue;
      this.lastChecked.set(s.id, Date.now());
      await this.checkOne(s.id);
    }
  }

  private async checkOne(id: string): Promise<void> {
    const { engine, logger } = this.opts;
    const options: VerifyOptions = { signal: this.stop.signal, pauseBetweenPiecesMs: this.opts.pauseBetweenPiecesMs ?? 5 };
    try {
      logger.info('scheduled check started', id);
      const report = await engine.integrity.verify(id, options);
      const reasons = report.healthReasons.map((r) => r.message).join('; ');
      logger[report.health === 'red' ? 'warn' : 'info'](`scheduled check: ${report.health ?? 'not installed'}${reasons ? ` (${reasons})` : ''}`, id);
      if (report.health !== 'red' || !engine.settings.health.autoRepair) return;
      const inUse = engine.uses.reasonAgainst(id);
      if (inUse) {
        logger.info(`auto-repair postponed: ${inUse}`, id);
        return;
      }
      logger.info('auto-repair started', id);
      const result = await engine.integrity.repair(id, options);
      if (result.error) logger.error(`auto-repair failed: ${result.error}`, id);
      else logger.info(`auto-repair finished: ${result.health ?? 'not installed'}${result.repaired.length ? ` (fetched ${result.repaired.join(', ')})` : ''}`, id);
    } catch (err) {
      if (!this.stop.signal.aborted) logger.warn(`scheduled check failed: ${err instanceof Error ? err.message : String(err)}`, id);
    }
  }
}
