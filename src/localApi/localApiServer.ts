import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import openApi from '../../schemas/local-api.openapi.json';
import { Disposable } from '../engine';
import { cachedUses, type LocalApiContext } from './apiContext';
import { addAnalyticsRoutes } from './analyticsHandler';
import { ApiError, sendError, sendJson } from './apiError';
import { HttpLeases } from './httpLeases';
import { addLeaseRoutes } from './leaseHandlers';
import { addModelRoutes, cachedStatusBody, type StatusCache } from './modelHandlers';
import { addUpdateRoutes } from './updateHandlers';
import { readBody } from './requestBody';
import { MethodNotAllowed, Router } from './router';
import { allowedOrigin, checkHost, checkToken, type SecurityOptions } from './security';
import { WebSocketHub, type HubOptions } from './websocketHub';

export interface LocalApiServerOptions {
  readonly context: Omit<LocalApiContext, 'leases' | 'uses'>;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly token: SecurityOptions['token'];
  readonly allowedOrigins: SecurityOptions['allowedOrigins'];
  /** One line per request: method, path (never the query, where a WebSocket token travels), status, duration. */
  readonly log: (line: string) => void;
  readonly hub?: HubOptions;
}

/** A slow or silent client gets this long for its headers, and for its whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The local HTTP + WebSocket API on 127.0.0.1. Every request and upgrade passes the Host, Origin and token
 * checks before anything else; handlers only translate to the engine.
 */
export class LocalApiServer extends Disposable {
  private readonly router = new Router();
  private readonly hub: WebSocketHub;
  private readonly security: SecurityOptions;
  private readonly statusCache: StatusCache;

  private constructor(private readonly server: http.Server, private readonly opts: LocalApiServerOptions) {
    super();
    const leases = this._register(new HttpLeases());
    const uses = this._register(cachedUses(opts.context.analytics));
    const context: LocalApiContext = { ...opts.context, leases, uses: uses.uses };
    this.hub = this._register(new WebSocketHub(context, opts.hub));
    this.security = { port: () => this.port, token: opts.token, allowedOrigins: opts.allowedOrigins };
    this.router.add('GET', '/api/v1/openapi.json', async () => ({ status: 200, body: openApi }));
    this.statusCache = this._register(cachedStatusBody(context));
    addModelRoutes(this.router, context, this.statusCache);
    addAnalyticsRoutes(this.router, context);
    addLeaseRoutes(this.router, context);
    addUpdateRoutes(this.router, context);
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 64;
    server.on('request', (req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    // Junk that is not HTTP, or headers too slow or too large: answered (when possible) and closed.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && err.code !== 'ECONNRESET') socket.end(rawResponse(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400, { error: { code: 'bad_request', message: 'the request is not valid HTTP' } }));
      else socket.destroy();
    });
  }

  /** Listens on 127.0.0.1 only; rejects (EADDRINUSE) when the port is taken. */
  static async start(opts: LocalApiServerOptions): Promise<LocalApiServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: opts.port, host: '127.0.0.1', exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const api = new LocalApiServer(server, opts);
    api._register({ dispose: () => { server.close(); server.closeAllConnections(); } });
    return api;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get webSocketClients(): number {
    return this.hub.clientCount;
  }

  /** Stops listening, drops every connection and WebSocket, releases the HTTP leases. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dispose();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let pathname = '?';
    const aborted = new AbortController();
    res.on('close', () => { if (!res.writableFinished) aborted.abort(); });
    res.on('finish', () => this.opts.log(`${req.method ?? '?'} ${pathname.slice(0, 200)} ${res.statusCode} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`));
    try {
      const url = parseUrl(req.url);
      pathname = url.pathname;
      checkHost(req, this.security);
      const origin = allowedOrigin(req, this.security);
      if (origin) res.setHeader('access-control-allow-origin', origin).setHeader('vary', 'Origin');
      if (req.method === 'OPTIONS' && origin) {
        // A browser's preflight carries no token; what it asks about is checked when the real request comes.
        res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, DELETE', 'access-control-allow-headers': 'Authorization, Content-Type', 'access-control-max-age': '600' }).end();
        return;
      }
      checkToken(req, url, this.security, false);
      const { handler, params } = this.router.match(req.method ?? '', url.pathname);
      const result = await handler({ req, url, params, body: () => readBody(req), signal: aborted.signal });
      if (req.method !== 'GET') this.statusCache.invalidate();
      sendJson(res, result.status, result.body, result.json);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        sendError(res, err, err instanceof MethodNotAllowed ? { allow: err.allowed.join(', ') } : err.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
        // An unread body of a refused request is not worth waiting for.
        if (err.status === 413) res.once('finish', () => req.destroy());
      } else {
        this.opts.log(`error in ${req.method ?? '?'} ${pathname.slice(0, 200)}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        sendError(res, new ApiError(500, 'internal_error', `the server failed: ${err instanceof Error ? err.message : String(err)}; see its log`));
      }
    }
  }

  /** Authenticated here, before handleUpgrade: a refused upgrade never becomes a WebSocket. */
  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = process.hrtime.bigint();
    let status = 101;
    let pathname = '?';
    try {
      const url = parseUrl(req.url);
      pathname = url.pathname;
      checkHost(req, this.security);
      allowedOrigin(req, this.security);
      checkToken(req, url, this.security, true);
      if (url.pathname !== '/ws') throw new ApiError(404, 'not_found', `no WebSocket at ${url.pathname.slice(0, 200)}; connect to /ws`);
      this.hub.accept(req, socket, head);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(400, 'bad_request', err instanceof Error ? err.message : String(err));
      status = apiErr.status;
      socket.end(rawResponse(apiErr.status, { error: { code: apiErr.code, message: apiErr.message } }));
    }
    this.opts.log(`GET ${pathname.slice(0, 200)} (WebSocket) ${status} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);
  }
}

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://127.0.0.1');
  } catch {
    throw new ApiError(400, 'bad_request', 'the request URL is malformed');
  }
}

/** An HTTP response written straight to a socket (upgrade refusals and client errors have no ServerResponse). */
function rawResponse(status: number, body: object): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}
