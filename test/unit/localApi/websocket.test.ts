import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { assertWsMessage, startApi, TOKEN, type ApiHarness } from './apiFixtures';

interface Message { type: string; model_id?: string; progress?: number | null; models?: unknown[] }

function connect(h: ApiHarness, onMessage: (m: Message) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.api.port}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as Message;
      assertWsMessage(m);
      onMessage(m);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('Local API WebSocket /ws', function () {
  this.timeout(60_000);
  let h: ApiHarness;
  beforeEach(async () => { h = await startApi(); });
  afterEach(async () => { await h.close(); });

  it('50 clients get hello, then progress (at most 4 a second per model) and the completion of a real download', async () => {
    // 2 MiB at 512 KiB/s: about 4 s of progress.
    h.cdn.bytesPerSecondPerConnection = 512 * 1024;
    const received: Message[][] = [];
    const times: number[][] = [];
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => {
      received[i] = [];
      times[i] = [];
      return connect(h, (m) => {
        received[i].push(m);
        if (m.type === 'model_download_progress') times[i].push(Date.now());
      });
    }));
    const completed = Promise.all(clients.map((_, i) => new Promise<void>((resolve) => {
      const check = setInterval(() => { if (received[i].some((m) => m.type === 'download_completed')) { clearInterval(check); resolve(); } }, 50);
    })));
    h.engine.download(['big-model']);
    await completed;
    for (const [i, messages] of received.entries()) {
      assert.equal(messages[0].type, 'hello');
      assert.equal(messages[0].models?.length, 2);
      const progress = messages.filter((m) => m.type === 'model_download_progress' && m.model_id === 'big-model');
      assert.ok(progress.length >= 2, `client ${i} got ${progress.length} progress messages`);
      const values = progress.map((m) => m.progress ?? 0);
      assert.deepEqual(values, [...values].sort((a, b) => a - b), 'progress only grows');
      // However often the engine changes, a client never gets more than 4 a second per model (+1 for the boundary).
      const span = (times[i][times[i].length - 1] - times[i][0]) / 1000;
      assert.ok(progress.length <= Math.ceil(span * 4) + 1, `client ${i}: ${progress.length} progress messages in ${span.toFixed(2)} s`);
      assert.ok(messages.some((m) => m.type === 'model_status_changed' && m.model_id === 'big-model'));
    }
    for (const c of clients) c.close();
  });

  it('pings clients and drops one that stops answering', async () => {
    await h.close();
    h = await startApi({ server: { hub: { pingIntervalMs: 100 } } });
    const answering = await connect(h, () => undefined);
    // A raw peer that completes the handshake and then never answers a ping.
    const silent = net.connect(h.api.port, '127.0.0.1');
    silent.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${h.api.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    let handshake = '';
    silent.on('data', (d: Buffer) => { handshake += d.toString('latin1'); });
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    assert.match(handshake, /^HTTP\/1\.1 101/);
    // The answering client outlives several ping rounds; the server forgets the silent one.
    while (h.api.webSocketClients > 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(answering.readyState, WebSocket.OPEN);
    answering.close();
  });
});
