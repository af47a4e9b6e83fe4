import type { IncomingMessage } from 'node:http';
import { ApiError } from './apiError';
import type { BodyFields } from './requestBody';

export interface ApiRequest {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** The `{name}` segments of the route's pattern. */
  readonly params: Readonly<Record<string, string>>;
  /** The parsed body (read only when a handler asks, so GETs never wait for one). */
  body(): Promise<BodyFields>;
  /** Aborted when the client goes away before the answer (a request waiting for a download stops waiting). */
  readonly signal: AbortSignal;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  /** The body already serialised (a cached answer); sent instead of JSON.stringify(body). */
  readonly json?: string;
}

export type Handler = (request: ApiRequest) => Promise<ApiResponse>;

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: Handler;
}

/** Method + path → handler; a known path with another method is 405 (with Allow), anything else 404. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: 'GET' | 'POST' | 'DELETE', pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: pattern.split('/'), handler });
    return this;
  }

  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } {
    const parts = pathname.split('/');
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method) return { handler: route.handler, params };
      allowed.push(route.method);
    }
    if (allowed.length) throw new MethodNotAllowed(method, pathname, allowed);
    throw new ApiError(404, 'not_found', `no endpoint ${pathname.slice(0, 200)}; GET /api/v1/openapi.json lists them`);
  }
}

export class MethodNotAllowed extends ApiError {
  constructor(method: string, pathname: string, readonly allowed: readonly string[]) {
    super(405, 'method_not_allowed', `${pathname} takes ${allowed.join(', ')}, not ${method.slice(0, 20)}`);
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('{') && p.endsWith('}')) {
      if (parts[i] === '') return undefined;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (p !== parts[i]) {
      return undefined;
    }
  }
  return params;
}
