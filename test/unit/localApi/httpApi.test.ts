import assert from 'node:assert/strict';
import { waitFor } from '../../support/engineFixtures';
import { startApi, type ApiHarness } from './apiFixtures';

interface Status { model_id: string; state: string; progress: number | null; installed_version: string | null; use_count: number; files: { local_path: string }[] }

describe('Local API: models, downloads, leases, analytics over HTTP', function () {
  this.timeout(30_000);
  let h: ApiHarness;
  beforeEach(async () => { h = await startApi(); });
  afterEach(async () => { await h.close(); });

  const ready = (id: string) => waitFor(h.engine.onDidChangeModel, () => h.engine.getModelState(id)?.state === 'ready');

  it('status/detailed lists every model with the guide\'s snake_case fields', async () => {
    const r = await h.call('GET', '/api/v1/models/status/detailed');
    assert.equal(r.status, 200);
    const models = (r.body as { models: Status[] }).models;
    assert.deepEqual(models.map((m) => [m.model_id, m.state]), [['small-model', 'missing'], ['big-model', 'missing']]);
    assert.equal(models[0].installed_version, null);
  });

  it('a form-encoded POST (the guide\'s requests.post) starts a download; the model ends ready and verified', async () => {
    const r = await h.call('POST', '/api/v1/models/download/manage', 'model_id=small-model&action=start&max_retries=3', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 202);
    // What a script polls right after its POST already shows the download, not a cached "missing".
    const polled = (await h.call('GET', '/api/v1/models/status/detailed')).body as { models: Status[] };
    assert.notEqual(polled.models.find((m) => m.model_id === 'small-model')?.state, 'missing');
    await ready('small-model');
    const s = await h.call('GET', '/api/v1/models/small-model/status');
    const status = s.body as Status;
    assert.equal(status.state, 'ready');
    assert.equal(status.progress, 100);
    assert.equal(status.installed_version, '1.0.0');
  });

  it('pause, resume, priority and cancel reach the queue; refusals are 409 with the reason', async () => {
    h.cdn.bytesPerSecondPerConnection = 256 * 1024;
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'start' });
    const paused = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'pause' });
    assert.equal((paused.body as Status).state, 'paused');
    const pri = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'priority', priority: 'high' });
    assert.equal(pri.status, 202);
    assert.equal((pri.body as { priority: string }).priority, 'high');
    const resumed = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'resume' });
    assert.match((resumed.body as Status).state, /queued|downloading/);
    const cancelled = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'cancel' });
    assert.equal((cancelled.body as Status).state, 'missing');
    const nothing = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'big-model', action: 'pause' });
    assert.equal(nothing.status, 409);
    assert.match((nothing.body as { error: { message: string } }).error.message, /big-model is missing/);
  });

  it('names the bad field (400) and the unknown model with close ids (404)', async () => {
    const missing = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model' });
    assert.equal(missing.status, 400);
    assert.match((missing.body as { error: { message: string } }).error.message, /'action' is required/);
    const bad = await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start', priority: 'urgent' });
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: { message: string } }).error.message, /'priority' must be one of high, normal, low/);
    const unknown = await h.call('GET', '/api/v1/models/smal-model/status');
    assert.equal(unknown.status, 404);
    assert.match((unknown.body as { error: { message: string } }).error.message, /did you mean: small-model/);
  });

  it('an HTTP lease protects its model from removal like an extension\'s lease; released, it can go', async () => {
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start' });
    await ready('small-model');
    const granted = await h.call('POST', '/api/v1/models/request', { model_id: 'small-model' });
    assert.equal(granted.status, 200);
    const lease = granted.body as { lease_id: string; mode: string; ttl_seconds: number; paths: string[] };
    assert.equal(lease.mode, 'ready');
    assert.equal(lease.ttl_seconds, 600);
    assert.equal(lease.paths.length, 1);
    assert.equal((h.engine.uses.reasonAgainst('small-model') !== undefined), true);
    const refused = await h.call('DELETE', '/api/v1/models/small-model');
    assert.equal(refused.status, 409);
    const repair = await h.call('POST', '/api/v1/models/small-model/repair');
    assert.equal(repair.status, 409);
    const renewed = await h.call('POST', `/api/v1/leases/${lease.lease_id}/renew`, { ttl_seconds: 60 });
    assert.equal((renewed.body as { ttl_seconds: number }).ttl_seconds, 60);
    const gen = await h.call('POST', `/api/v1/leases/${lease.lease_id}/generations`, { ok: true, duration_ms: 1200, units: 42 });
    assert.equal(gen.status, 201);
    assert.equal((await h.call('DELETE', `/api/v1/leases/${lease.lease_id}`)).status, 200);
    assert.equal((h.engine.uses.reasonAgainst('small-model') !== undefined), false);
    assert.equal((await h.call('DELETE', `/api/v1/leases/${lease.lease_id}`)).status, 404);
    const removed = await h.call('DELETE', '/api/v1/models/small-model');
    assert.equal(removed.status, 200);
    assert.ok((removed.body as { freed_bytes: number }).freed_bytes >= 64 * 1024);
  });

  it('a lease not renewed is released when its TTL passes', async () => {
    h.engine.download(['small-model']);
    await ready('small-model');
    const granted = await h.call('POST', '/api/v1/models/request', { model_id: 'small-model', ttl_seconds: 1 });
    assert.equal((granted.body as { mode: string }).mode, 'ready');
    assert.equal(h.engine.uses.leaseCount, 1);
    await waitFor(h.engine.uses.onDidChange, () => h.engine.uses.leaseCount === 0);
    const id = (granted.body as { lease_id: string }).lease_id;
    assert.equal((await h.call('POST', `/api/v1/leases/${id}/renew`)).status, 404);
  });

  it('generations recorded over HTTP show in the analytics it serves (the extension\'s database)', async () => {
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start' });
    await ready('small-model');
    const lease = (await h.call('POST', '/api/v1/models/request', { model_id: 'small-model' })).body as { lease_id: string };
    for (let i = 0; i < 3; i++) await h.call('POST', `/api/v1/leases/${lease.lease_id}/generations`, { ok: true, duration_ms: 800 + i });
    // Recorded events reach the database (and every reader of it) at its next save.
    await h.analytics.flush();
    const a = await h.call('GET', '/api/v1/models/analytics?period=all');
    assert.equal(a.status, 200);
    const perf = (a.body as { performance: { model_id: string; median_ms: number | null }[] }).performance.find((p) => p.model_id === 'small-model');
    assert.equal(perf?.median_ms, 801);
    const status = (await h.call('GET', '/api/v1/models/small-model/status')).body as Status;
    assert.ok(status.use_count >= 1);
    assert.equal((await h.call('GET', '/api/v1/models/analytics?period=14')).status, 400);
  });

  it('verify checks the sha256 of each file and answers with the health', async () => {
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start' });
    await ready('small-model');
    const r = await h.call('POST', '/api/v1/models/small-model/verify');
    assert.equal(r.status, 200);
    assert.equal((r.body as { health: string }).health, 'green');
  });

  it('serves its OpenAPI 3.1 document', async () => {
    const r = await h.call('GET', '/api/v1/openapi.json');
    assert.equal((r.body as { openapi: string }).openapi, '3.1.0');
  });
});
