import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import openApi from '../../../schemas/local-api.openapi.json';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import type { AnalyticsStore } from '../../../src/engine/usage/analytics/analyticsStore';
import { usageRecorder } from '../../../src/engine/usage/analytics/usageRecorder';
import { ModelRequests } from '../../../src/engine/usage/requests/modelRequests';
import { LocalApiServer, type LocalApiServerOptions } from '../../../src/localApi/localApiServer';
import { urlModel } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { openStore } from '../usage/analytics/analyticsFixtures';

export const TOKEN = 'a'.repeat(64);
const KiB = 1024;

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(openApi, 'api');

type OpenApiOperation = { responses: Record<string, { content?: { 'application/json'?: { schema: object } } }> };

const pointerSegment = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorAt(pointer: string): ReturnType<typeof ajv.compile> {
  let v = validators.get(pointer);
  if (!v) validators.set(pointer, v = ajv.compile({ $ref: `api#${pointer}` }));
  return v;
}

/** Fails the test unless `body` matches what the OpenAPI document says `method path` answers with `status`. */
export function assertMatchesSpec(method: string, pathname: string, status: number, body: unknown): void {
  const paths = openApi.paths as Record<string, Record<string, OpenApiOperation>>;
  const m = method.toLowerCase();
  const template = Object.keys(paths).find((t) => paths[t][m] && new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname));
  const documented = template ? paths[template][m].responses[String(status)]?.content?.['application/json'] : undefined;
  // Refusals before routing (401, 403, 404, 405, 413…) answer with the error schema.
  assert.ok(documented || status >= 400, `the OpenAPI document has no ${status} response for ${method} ${pathname}`);
  const pointer = documented && template ? `/paths/${pointerSegment(template)}/${m}/responses/${status}/content/${pointerSegment('application/json')}/schema` : '/components/schemas/Error';
  const validate = validatorAt(pointer);
  assert.ok(validate(body), `${method} ${pathname} → ${status} does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
}

/** Fails unless a WebSocket message matches the document's WsMessage schema. */
export function assertWsMessage(message: unknown): void {
  const validate = validatorAt('/components/schemas/WsMessage');
  assert.ok(validate(message), `WebSocket message does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(message).slice(0, 500)}`);
}

export interface ApiHarness {
  readonly cdn: FaultServer;
  readonly engine: AvailabilityEngine;
  readonly requests: ModelRequests;
  readonly analytics: AnalyticsStore;
  readonly api: LocalApiServer;
  readonly store: string;
  readonly logLines: string[];
  /** fetch against the API with the token, checking the answer against the OpenAPI document. */
  call(method: string, pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly models?: (cdn: FaultServer) => ModelEntry[];
  readonly server?: Partial<Pick<LocalApiServerOptions, 'token' | 'allowedOrigins' | 'hub'>>;
}

/** A real engine over a fault server, its analytics database, and the API on 127.0.0.1:0. */
export async function startApi(options: HarnessOptions = {}): Promise<ApiHarness> {
  const cdn = await FaultServer.start();
  cdn.addFile('small.bin', generateData(64 * KiB, 1));
  cdn.addFile('big.bin', generateData(2048 * KiB, 2));
  const store = await mkdtemp(path.join(os.tmpdir(), 'ma-api-'));
  const models = options.models?.(cdn) ?? [urlModel(cdn, 'small-model', ['small.bin']), urlModel(cdn, 'big-model', ['big.bin'])];
  const engine = await AvailabilityEngine.create({ storeRoot: path.join(store, 'models'), models, settings: { pieceSizeBytes: 64 * KiB, retryBaseDelayMs: 10 }, persistQueue: false });
  const analytics = await openStore(path.join(store, 'analytics'));
  const requests = new ModelRequests(engine, () => ({ strategy: 'mock', minCompatibility: 60, autoDownload: true }), async () => undefined, usageRecorder(analytics));
  const logLines: string[] = [];
  const api = await LocalApiServer.start({
    context: { engine, requests, analytics, storeRoot: store, storagePolicy: () => ({ keepRecentDays: 30, keepFrequentUses: 20, pinned: [], inUse: [] }) },
    port: 0, token: TOKEN, allowedOrigins: [], log: (l) => logLines.push(l), ...options.server,
  });
  const call: ApiHarness['call'] = async (method, pathAndQuery, body, headers = {}) => {
    const res = await fetch(`${api.url}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const parsed: unknown = await res.json();
    assertMatchesSpec(method, new URL(pathAndQuery, api.url).pathname, res.status, parsed);
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    cdn, engine, requests, analytics, api, store, logLines, call,
    close: async () => {
      await api.close();
      requests.dispose();
      engine.dispose();
      await analytics.close();
      await cdn.close();
      await rm(store, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
