import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { urlModel } from '../../support/engineFixtures';
import type { FaultServer } from '../../support/faultServer';
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

/** Resolves once `predicate` holds (checked every 20 ms: what a remote client received is not an engine event). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
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
    const completed = until(() => received.every((messages) => messages.some((m) => m.type === 'download_completed')));
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

  it('a client that stops reading is dropped once its buffer passes the bound; the others keep receiving', async function () {
    // The stalled peer lives 90 s: without the bound this test times out instead of seeing it dropped.
    this.timeout(30_000);
    await h.close();
    // 100 models with 64 KiB names: a hello of about 6.5 MB, more than the kernel's buffers (up to 4 MB) take in for a peer that does not read.
    const bigHello = (cdn: FaultServer) => Array.from({ length: 100 }, (_, i) => ({ ...urlModel(cdn, `model-${i}`, ['small.bin']), name: `Model ${i} ${'x'.repeat(64 * 1024)}` }));
    h = await startApi({ models: bigHello, server: { hub: { maxBufferedBytes: 16 * 1024 } } });
    const messages: Message[] = [];
    const reader = await connect(h, (m) => messages.push(m));
    // A peer with a 4 KiB receive window that completes the handshake and never reads again.
    const stalled = spawn('/usr/bin/python3', ['-c', `
import socket, sys, time, base64, os
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', ${h.api.port}))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(('GET /ws HTTP/1.1\\r\\nHost: 127.0.0.1:${h.api.port}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
  'Sec-WebSocket-Key: ' + key + '\\r\\nSec-WebSocket-Version: 13\\r\\nAuthorization: Bearer ${TOKEN}\\r\\n\\r\\n').encode())
print(s.recv(12).decode(), flush=True)
time.sleep(90)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const status = await new Promise<string>((resolve) => stalled.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
      assert.equal(status, 'HTTP/1.1 101');
      await until(() => h.api.webSocketClients === 2);
      h.engine.download(['model-0']);
      // The engine's events reach the reader; the stalled peer is cut off rather than buffered for.
      await until(() => messages.some((m) => m.type === 'download_completed') && h.api.webSocketClients === 1);
      assert.ok(messages.some((m) => m.type === 'model_status_changed' && m.model_id === 'model-0'));
      assert.equal(reader.readyState, WebSocket.OPEN);
      // Still alive and still not reading: the server cut it off, it did not leave.
      assert.equal(stalled.exitCode, null);
    } finally {
      stalled.kill();
      reader.close();
    }
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
    await until(() => h.api.webSocketClients === 1);
    assert.equal(answering.readyState, WebSocket.OPEN);
    answering.close();
  });
});
