import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Disposable, type AvailabilityEngine } from '../engine';
import type { LocalApiContext } from './apiContext';
import { allModelStatuses, progressFields } from './modelStatus';
import { offerJson } from './updateHandlers';

export interface HubOptions {
  /** A client whose unsent data passes this is dropped: a slow reader never holds the engine's memory. */
  readonly maxBufferedBytes?: number;
  readonly pingIntervalMs?: number;
}

/** At most 4 progress messages a second per model. */
const PROGRESS_INTERVAL_MS = 250;

/** `/ws`: a `hello` with every model's status, then the engine's events, to every client. */
export class WebSocketHub extends Disposable {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly alive = new WeakSet<WebSocket>();
  private readonly lastProgressAt = new Map<string, number>();
  private readonly pendingProgress = new Map<string, NodeJS.Timeout>();
  private readonly maxBuffered: number;

  constructor(private readonly ctx: LocalApiContext, opts: HubOptions = {}) {
    super();
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    const { engine } = ctx;
    this._register(engine.onDidChangeModel((change) => {
      if (change.kind === 'progress') this.progress(engine, change.id);
      else if (change.kind === 'state' || change.kind === 'health') {
        const s = engine.getModelState(change.id);
        if (s) this.broadcast({ type: 'model_status_changed', model_id: s.id, state: s.state, health: s.health });
        if (s?.state === 'downloading') this.progress(engine, change.id);
      }
    }));
    this._register(engine.onDidFinish(({ id }) => this.broadcast({ type: 'download_completed', model_id: id })));
    this._register(engine.onDidFail((e) => this.broadcast({
      type: 'download_failed', model_id: e.id, error: { code: e.kind === 'paused' ? 'download_paused' : 'download_failed', message: e.reason },
    })));
    this._register(engine.onDidCheck((e) => this.broadcast({
      type: 'health_check_completed', model_id: e.id, kind: e.kind, ok: e.ok, duration_ms: e.durationMs, health: engine.getModelState(e.id)?.health ?? null,
    })));
    this._register(engine.updates.onDidFindUpdates((offers) => this.broadcast({ type: 'update_available', updates: offers.map(offerJson) })));
    this._register(engine.updates.onDidSwitch((e) => this.broadcast({ type: e.reason === 'update' ? 'model_updated' : 'model_rolled_back', model_id: e.id, from: e.from, to: e.to })));
    const ping = setInterval(() => this.pingAll(), opts.pingIntervalMs ?? 30_000);
    ping.unref();
    this._register({
      dispose: () => {
        clearInterval(ping);
        for (const t of this.pendingProgress.values()) clearTimeout(t);
        for (const client of this.wss.clients) client.terminate();
        this.wss.close();
      },
    });
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  /** Called by the server's `upgrade` handler once the request passed the Host, Origin and token checks. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.alive.add(ws);
      ws.on('pong', () => this.alive.add(ws));
      // Clients only listen; what they send is ignored (and capped by maxPayload).
      ws.on('error', () => ws.terminate());
      this.send(ws, { type: 'hello', models: allModelStatuses(this.ctx.engine, this.ctx.uses()) });
    });
  }

  private progress(engine: AvailabilityEngine, id: string): void {
    if (this.pendingProgress.has(id)) return;
    const wait = (this.lastProgressAt.get(id) ?? 0) + PROGRESS_INTERVAL_MS - Date.now();
    const sendNow = () => {
      this.pendingProgress.delete(id);
      this.lastProgressAt.set(id, Date.now());
      const s = engine.getModelState(id);
      if (s?.state === 'downloading') this.broadcast({ type: 'model_download_progress', model_id: id, ...progressFields(s) });
    };
    if (wait <= 0) sendNow();
    else this.pendingProgress.set(id, setTimeout(sendNow, wait));
  }

  private broadcast(message: object): void {
    if (this.wss.clients.size === 0) return;
    // Serialised once for every client.
    const text = JSON.stringify(message);
    for (const client of this.wss.clients) this.send(client, text);
  }

  private send(ws: WebSocket, message: object | string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.maxBuffered) {
      ws.terminate();
      return;
    }
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  private pingAll(): void {
    for (const ws of this.wss.clients) {
      // No pong since the last ping: the peer is gone (or too slow to matter).
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}
