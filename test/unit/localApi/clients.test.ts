import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from '../../support/engineFixtures';
import { startApi, TOKEN, type ApiHarness } from './apiFixtures';

const run = promisify(execFile);

/** The user guide's "API Integration" example, with the token header added (Debian's python3 + requests). */
const GUIDE_PYTHON = `
import os, requests
base = os.environ['API']
headers = {'Authorization': 'Bearer ' + os.environ['TOKEN']}

# Check model status
response = requests.get(base + '/api/v1/models/status/detailed', headers=headers)
models = response.json()

# Start download with retry
started = requests.post(base + '/api/v1/models/download/manage', {
    'model_id': 'small-model',
    'action': 'start',
    'max_retries': 3
}, headers=headers)

# Get usage analytics
analytics = requests.get(base + '/api/v1/models/analytics', headers=headers)
print(response.status_code, len(models['models']), started.status_code, started.json()['model_id'], analytics.status_code, sorted(analytics.json())[0])
`;

describe('Local API clients: the guide\'s Python, and 1,000 malformed requests', function () {
  this.timeout(60_000);
  let h: ApiHarness;
  beforeEach(async () => { h = await startApi(); });
  afterEach(async () => { await h.close(); });

  it('the guide\'s Python example (requests, form-encoded POST) starts a download', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', GUIDE_PYTHON], { env: { ...process.env, API: h.api.url, TOKEN } });
    assert.equal(stdout.trim(), '200 2 202 small-model 200 alerts');
    await waitFor(h.engine.onDidChangeModel, () => h.engine.getModelState('small-model')?.state === 'ready');
  });

  it('1,000 malformed requests change nothing, and the server still answers with every model as it was', async () => {
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start' });
    await waitFor(h.engine.onDidChangeModel, () => h.engine.getModelState('small-model')?.state === 'ready');
    const before = (await h.call('GET', '/api/v1/models/status/detailed')).body;
    const manage = '/api/v1/models/download/manage';
    const junk: [string, string, string | undefined, Record<string, string>][] = [
      ['POST', manage, '{"model_id": "big-model", "action":', { 'content-type': 'application/json' }],
      ['POST', manage, '[1,2,3]', { 'content-type': 'application/json' }],
      ['POST', manage, 'model_id=big-model&action=explode', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['POST', manage, 'model_id=%ZZ&action=start', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['POST', manage, '{"model_id": 7, "action": "start"}', { 'content-type': 'application/json' }],
      ['POST', manage, '{"model_id": "big-model", "action": "start", "max_retries": -1}', { 'content-type': 'application/json' }],
      ['POST', manage, 'model_id=big-model&action=start', { 'content-type': 'text/plain' }],
      ['POST', manage, 'model_id=big-model&action=start', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }],
      ['POST', manage, '{"model_id": "big-model", "action": "start"}', { 'content-type': 'application/json', authorization: 'Bearer nope' }],
      ['DELETE', '/api/v1/models/%E0%A4%A', undefined, {}],
      ['PUT', '/api/v1/models/small-model/status', undefined, {}],
      ['GET', '/api/v1/models/analytics?period=-1', undefined, {}],
      ['POST', '/api/v1/leases/nope/generations', '{"ok": "maybe"}', { 'content-type': 'application/json' }],
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const [method, pathname, body, headers] = junk[i % junk.length];
      const r = await fetch(`${h.api.url}${pathname}`, { method, body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
      await r.arrayBuffer();
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${pathname} ${body ?? ''} → ${r.status}`);
      statuses.add(r.status);
    }
    assert.deepEqual([...statuses].sort(), [400, 401, 403, 404, 405, 415]);
    assert.deepEqual((await h.call('GET', '/api/v1/models/status/detailed')).body, before);
  });
});
