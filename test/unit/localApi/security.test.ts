import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { assertMatchesSpec, startApi, TOKEN, type ApiHarness } from './apiFixtures';

const run = promisify(execFile);

/** curl with raw headers (Host and Origin as an attacker's page or a rebinding DNS would send them). */
async function curl(h: ApiHarness, args: string[]): Promise<{ status: number; body: unknown }> {
  const { stdout } = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args]);
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  const body: unknown = text ? JSON.parse(text) : undefined;
  const pathname = new URL(args.find((a) => a.startsWith('http')) ?? h.api.url).pathname;
  if (body !== undefined) assertMatchesSpec(args.includes('POST') ? 'POST' : 'GET', pathname, status, body);
  return { status, body };
}

const auth = ['-H', `Authorization: Bearer ${TOKEN}`];

/** The upgrade's answer: 101 (a WebSocket) or the refusal's status. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

describe('Local API security', function () {
  this.timeout(30_000);
  let h: ApiHarness;
  let status: string;
  beforeEach(async () => {
    h = await startApi();
    status = `${h.api.url}/api/v1/models/status/detailed`;
  });
  afterEach(async () => { await h.close(); });

  it('listens on 127.0.0.1 only', async () => {
    const address = (h.api as unknown as { server: net.Server }).server.address() as net.AddressInfo;
    assert.equal(address.address, '127.0.0.1');
  });

  it('requires the token: none or a wrong one is 401, the right one 200', async () => {
    assert.equal((await curl(h, [status])).status, 401);
    assert.equal((await curl(h, ['-H', 'Authorization: Bearer wrong', status])).status, 401);
    assert.equal((await curl(h, ['-H', `Authorization: Bearer ${TOKEN}x`, status])).status, 401);
    assert.equal((await curl(h, [...auth, status])).status, 200);
  });

  it('a Host that is not 127.0.0.1, localhost or [::1] with the port is 403 (DNS rebinding), even with the token', async () => {
    assert.equal((await curl(h, [...auth, '-H', 'Host: evil.example', status])).status, 403);
    assert.equal((await curl(h, [...auth, '-H', 'Host: 127.0.0.1:1', status])).status, 403);
    assert.equal((await curl(h, [...auth, '-H', `Host: localhost:${h.api.port}`, status])).status, 200);
    assert.equal((await curl(h, [...auth, '-H', `Host: [::1]:${h.api.port}`, status])).status, 200);
  });

  it('a disallowed Origin is 403; the server\'s own origin is allowed', async () => {
    assert.equal((await curl(h, [...auth, '-H', 'Origin: https://evil.example', status])).status, 403);
    assert.equal((await curl(h, [...auth, '-H', 'Origin: null', status])).status, 403);
    assert.equal((await curl(h, [...auth, '-H', `Origin: http://localhost:${h.api.port}`, status])).status, 200);
  });

  it('a web page\'s form POST (a CORS simple request) does not start a download, even without requireToken', async () => {
    await h.close();
    h = await startApi({ server: { token: undefined } });
    const r = await curl(h, ['-X', 'POST', '-H', 'Origin: https://evil.example', '-H', 'Content-Type: application/x-www-form-urlencoded',
      '--data', 'model_id=small-model&action=start', `${h.api.url}/api/v1/models/download/manage`]);
    assert.equal(r.status, 403);
    assert.equal(h.engine.getModelState('small-model')?.state, 'missing');
  });

  it('the WebSocket upgrade is refused (403/401) for a bad Origin, Host or token; ?token= works for browsers', async () => {
    const ws = `ws://127.0.0.1:${h.api.port}/ws`;
    assert.equal(await upgradeStatus(ws, { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` }), 403);
    assert.equal(await upgradeStatus(ws, { host: 'evil.example', authorization: `Bearer ${TOKEN}` }), 403);
    assert.equal(await upgradeStatus(ws, {}), 401);
    assert.equal(await upgradeStatus(`${ws}?token=nope`, {}), 401);
    assert.equal(await upgradeStatus(`${ws}?token=${TOKEN}`, { origin: `http://127.0.0.1:${h.api.port}` }), 101);
    assert.equal(h.api.webSocketClients <= 1, true);
  });

  it('bodies over 64 KiB are 413, malformed JSON or form 400, unknown routes 404, wrong methods 405', async () => {
    const manage = `${h.api.url}/api/v1/models/download/manage`;
    const big = JSON.stringify({ model_id: 'small-model', action: 'start', pad: 'x'.repeat(70 * 1024) });
    assert.equal((await curl(h, [...auth, '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', big, manage])).status, 413);
    assert.equal((await curl(h, [...auth, '-X', 'POST', '-H', 'Content-Type: application/json', '--data', '{"model_id":', manage])).status, 400);
    assert.equal((await curl(h, [...auth, '-X', 'POST', '-H', 'Content-Type: application/x-www-form-urlencoded', '--data', 'model_id=%E0%A4%A&action=start', manage])).status, 400);
    assert.equal((await curl(h, [...auth, `${h.api.url}/api/v1/nothing`])).status, 404);
    assert.equal((await curl(h, [...auth, manage])).status, 405);
    assert.equal(h.engine.getModelState('small-model')?.state, 'missing');
  });

  it('logs method, path, status and duration, never the token', async () => {
    await curl(h, [...auth, status]);
    await upgradeStatus(`ws://127.0.0.1:${h.api.port}/ws?token=${TOKEN}`, {});
    assert.ok(h.logLines.some((l) => /^GET \/api\/v1\/models\/status\/detailed 200 [\d.]+ ms$/.test(l)), h.logLines.join('\n'));
    assert.ok(h.logLines.some((l) => /^GET \/ws \(WebSocket\) 101/.test(l)), h.logLines.join('\n'));
    assert.ok(h.logLines.every((l) => !l.includes(TOKEN)));
  });

  it('slow and junk connections time out or are refused, and never take the server down', async () => {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect(h.api.port, '127.0.0.1');
      s.on('error', () => undefined);
      // Half a request line, then silence: headersTimeout closes it.
      s.write(i % 2 ? 'GET /api/v1/models/status/detailed HTTP/1.1\r\nHost: 127' : '\x16\x03\x01\x00\xa5junk\r\n\r\n');
      sockets.push(s);
    }
    const junkAnswer = await new Promise<string>((resolve) => {
      let text = '';
      sockets[0].on('data', (d: Buffer) => { text += d.toString(); });
      sockets[0].on('close', () => resolve(text));
    });
    assert.match(junkAnswer, /^HTTP\/1\.1 400/);
    assert.equal((await curl(h, [...auth, status])).status, 200);
    for (const s of sockets) s.destroy();
  });
});
