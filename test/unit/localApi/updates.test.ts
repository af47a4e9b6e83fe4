import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { generateData } from '../../support/faultServer';
import { assertWsMessage, startApi, TOKEN, type ApiHarness } from './apiFixtures';

interface Message { type: string; model_id?: string; from?: string | null; to?: string; updates?: { model_id: string; to: string }[] }

describe('Local API: updates and rollback', function () {
  this.timeout(30_000);
  let h: ApiHarness;
  beforeEach(async () => { h = await startApi(); });
  afterEach(async () => { await h.close(); });

  it('lists and checks updates, updates over HTTP with model_updated on /ws, rolls back with model_rolled_back', async () => {
    await h.call('POST', '/api/v1/models/download/manage', { model_id: 'small-model', action: 'start' });
    await waitFor(h.engine.onDidChangeModel, () => h.engine.getModelState('small-model')?.state === 'ready');
    await h.engine.whenIdle();
    assert.deepEqual((await h.call('GET', '/api/v1/models/updates')).body, { updates: [] });
    const none = await h.call('POST', '/api/v1/models/small-model/update');
    assert.equal(none.status, 409, 'nothing to update');

    h.cdn.addFile('small2.bin', generateData(32 * 1024, 9));
    const bumped = { ...urlModel(h.cdn, 'small-model', ['small2.bin']), version: '2.0.0' };
    await h.engine.setModels([bumped, ...h.engine.getModels().filter((m) => m.id !== 'small-model')]);
    const messages: Message[] = [];
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const c = new WebSocket(`ws://127.0.0.1:${h.api.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
      c.on('message', (data: Buffer) => { const m = JSON.parse(data.toString()) as Message; assertWsMessage(m); messages.push(m); });
      c.once('open', () => resolve(c));
      c.once('error', reject);
    });
    const until = async (type: string) => { while (!messages.some((m) => m.type === type)) await new Promise((r) => setTimeout(r, 20)); };
    try {
      const listed = await h.call('GET', '/api/v1/models/updates');
      assert.deepEqual(listed.body, { updates: [{ model_id: 'small-model', from: '1.0.0', to: '2.0.0', bytes_to_download: 32 * 1024, source: 'catalog', notes: null }] });
      const status = (await h.call('GET', '/api/v1/models/small-model/status')).body as { state: string; update_available: string | null };
      assert.deepEqual([status.state, status.update_available], ['ready', '2.0.0']);
      const checked = await h.call('POST', '/api/v1/models/updates/check');
      assert.deepEqual(checked.body, listed.body);
      await until('update_available');

      const started = await h.call('POST', '/api/v1/models/small-model/update', { priority: 'high' });
      assert.equal(started.status, 202);
      await until('model_updated');
      assert.deepEqual(messages.find((m) => m.type === 'model_updated'), { type: 'model_updated', model_id: 'small-model', from: '1.0.0', to: '2.0.0' });
      assert.equal(h.engine.getModelState('small-model')?.installedVersion, '2.0.0');

      const back = await h.call('POST', '/api/v1/models/small-model/rollback', {});
      assert.equal(back.status, 200);
      assert.equal((back.body as { to: string }).to, '1.0.0');
      await until('model_rolled_back');
      const wrong = await h.call('POST', '/api/v1/models/small-model/rollback', { to: '7.0.0' });
      assert.equal(wrong.status, 409);
      assert.match((wrong.body as { error: { message: string } }).error.message, /7\.0\.0 of small-model is not installed/);
    } finally {
      ws.close();
    }
  });
});
