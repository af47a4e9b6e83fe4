import * as net from 'node:net';
import * as tls from 'node:tls';

/** How the connection reaches the server: straight, inside a CONNECT tunnel, or through a forwarding proxy. */
export interface Route {
  readonly ca?: string | Buffer;
  readonly tunnel?: net.Socket;
  readonly forward?: URL;
}

/** The exchange using a socket: its reads and events go there (nowhere while the socket is idle). */
export interface SocketUser {
  /** Memory for the next read. */
  nextBuffer(): Buffer;
  /** `n` bytes arrived in `buf`; returns whether to go on reading. */
  onRead(n: number, buf: Uint8Array): boolean;
  onError(err: Error): void;
  onEof(): void;
}

/**
 * How long an idle connection is kept for the next request to its origin. Requests follow each other
 * within milliseconds in a download; servers close idle connections after 5 s or more (nginx 75 s).
 */
const IDLE_MS = 2000;
const idle = new Map<string, DirectSocket[]>();

/**
 * A socket of the direct client, kept alive between requests to the same origin: a multi-connection
 * download then pays no new TCP (and TLS) handshake per range, and a slow connection stays one connection.
 * Only sockets straight to the server are reused (not through a proxy, not with a custom CA).
 */
export class DirectSocket {
  readonly socket: net.Socket;
  private user: SocketUser | undefined;
  private readonly spare = Buffer.allocUnsafe(1024);
  /** Requests sent on this socket before the current one: a reused socket may have been closed meanwhile. */
  private uses = 0;

  private constructor(to: URL, route: Route, private readonly key: string | undefined) {
    const onread = {
      buffer: (): Buffer => this.user?.nextBuffer() ?? this.spare,
      callback: (n: number, buf: Uint8Array): boolean => {
        const user = this.user;
        if (!user) return this.drop();
        // A user that ended its exchange in this read released the socket: it goes on reading while idle
        // (Node pauses a socket whose read callback says false, and a paused idle socket never answers again).
        return user.onRead(n, buf) || (this.user === undefined && !this.socket.destroyed);
      },
    };
    this.socket = connect(to, route, onread);
    // TLS over a tunnel socket ignores `onread` and emits chunks instead: those are copied into the sink.
    if (route.tunnel) this.socket.on('data', (chunk: Buffer) => { if (!(this.user ? this.user.onRead(chunk.length, chunk) : this.drop())) this.socket.pause(); });
    // Only idle sockets have a timeout (release() sets it, open() clears it): one listener for all of them.
    this.socket.on('timeout', () => { if (!this.user) this.drop(); });
    this.socket.on('error', (err) => (this.user ? this.user.onError(err) : this.drop()));
    this.socket.on('end', () => (this.user ? this.user.onEof() : this.drop()));
    this.socket.on('close', () => (this.user ? this.user.onEof() : this.drop()));
  }

  /**
   * An idle socket to `url`'s origin when there is one, else a new one; `user` gets its reads and events.
   * Without `keepAlive` the socket is neither taken from the idle ones nor kept after.
   */
  static open(url: URL, route: Route, user: SocketUser, keepAlive: boolean): DirectSocket {
    const key = !keepAlive || route.tunnel || route.forward || route.ca !== undefined ? undefined : `${url.protocol}//${url.host}`;
    const reused = key !== undefined ? idle.get(key)?.pop() : undefined;
    const s = reused ?? new DirectSocket(route.forward ?? url, route, key);
    if (reused) {
      s.socket.setTimeout(0);
      s.socket.ref();
      s.socket.resume();
      s.uses++;
    }
    s.user = user;
    return s;
  }

  /** This is not the socket's first request: a failure before any answer may just mean the server closed it while idle. */
  get reused(): boolean {
    return this.uses > 0;
  }

  /** The exchange ended cleanly (the whole response read, nothing after it): kept for the next request to the origin. */
  release(): void {
    this.user = undefined;
    if (this.key === undefined || this.socket.destroyed || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    // Read while idle: a close by the server (or anything it sends unasked) then drops the socket at once.
    this.socket.setTimeout(IDLE_MS);
    this.socket.unref();
    this.socket.resume();
    const list = idle.get(this.key) ?? [];
    list.push(this);
    idle.set(this.key, list);
  }

  destroy(): void {
    this.user = undefined;
    this.drop();
  }

  private drop(): false {
    const list = this.key !== undefined ? idle.get(this.key) : undefined;
    const at = list?.indexOf(this) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
    if (list?.length === 0 && this.key !== undefined) idle.delete(this.key);
    this.socket.destroy();
    return false;
  }
}

type OnRead = { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean };

/** A socket to `to` (the server, or the forwarding proxy) whose reads go through `onread`; TLS runs inside a tunnel when there is one. */
function connect(to: URL, route: Route, onread: OnRead): net.Socket {
  const host = to.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(to.port);
  if (to.protocol !== 'https:') return net.connect({ host, port: port || 80, onread });
  // @types/node omits `onread` from tls options, though tls.connect honours it (not over a given socket).
  const options: tls.ConnectionOptions & net.ConnectOpts = {
    host, port: port || 443, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ca: route.ca, onread,
    ...(route.tunnel && { socket: route.tunnel }),
  };
  return tls.connect(options);
}
