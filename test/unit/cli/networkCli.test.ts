import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PIECE, tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData, sha256Of } from '../../support/faultServer';
import { TestProxy } from '../../support/testProxy';
import { cli } from './cliRunner';

/** The CLI's networking, as real child processes: proxies, credentials, offline errors. */
describe('CLI networking', function () {
  this.timeout(60_000);
  let server: FaultServer;
  let proxy: TestProxy;
  let dir: string;
  let store: string;
  let catalog: string;
  const plain = generateData(3 * PIECE, 41);

  beforeEach(async () => {
    server = await FaultServer.start();
    proxy = await TestProxy.start();
    dir = await tempDir('ma-net-');
    store = path.join(dir, 'store');
    catalog = path.join(dir, 'models.json');
    server.addFile('plain.bin', plain);
  });
  afterEach(async () => {
    await proxy.close();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  const writeCatalog = (models: unknown[]): Promise<void> => fs.writeFile(catalog, JSON.stringify({ models }));
  const plainModel = (url = server.url('plain.bin')) => ({ id: 'plain', name: 'Plain', files: [{ path: 'plain.bin', url, sha256: sha256Of(plain) }] });

  describe('proxies', () => {
    let tlsDir: string;
    let tls: https.Server;
    let tlsBase: string;
    const secure = generateData(2 * PIECE, 42);

    before(async function () {
      this.timeout(10_000);
      tlsDir = await tempDir('ma-tls-');
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
        '-days', '2', '-keyout', path.join(tlsDir, 'key.pem'), '-out', path.join(tlsDir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const [key, cert] = await Promise.all([fs.readFile(path.join(tlsDir, 'key.pem')), fs.readFile(path.join(tlsDir, 'cert.pem'))]);
      tls = https.createServer({ key, cert }, (req, res) => {
        if (req.url === '/models.json') {
          res.end(JSON.stringify({ models: [{ id: 'secure', name: 'Secure', files: [{ path: 'secure.bin', url: `${tlsBase}/secure.bin`, sha256: sha256Of(secure) }] }] }));
        } else if (req.url === '/secure.bin') {
          res.writeHead(200, { 'content-length': secure.length }).end(secure);
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
      tlsBase = `https://localhost:${(tls.address() as AddressInfo).port}`;
    });
    after(async () => {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
      await fs.rm(tlsDir, { recursive: true, force: true });
    });

    it('send https through a CONNECT tunnel and http through the forwarding proxy, and NO_PROXY hosts directly', async () => {
      await writeCatalog([plainModel()]);
      const env = { HTTPS_PROXY: proxy.url, http_proxy: proxy.url, NODE_EXTRA_CA_CERTS: path.join(tlsDir, 'cert.pem') };
      const args = ['--store', store, '--no-builtin', '--catalog', catalog, '--catalog', `${tlsBase}/models.json`, 'download', 'secure', 'plain'];
      const r = await cli(args, env);
      assert.equal(r.code, 0, r.stderr);
      const tunnels = proxy.requests.filter((q) => q.method === 'CONNECT').map((q) => q.target);
      const host = new URL(tlsBase).host;
      // The catalog (got) and the file (the direct client) each went through a tunnel.
      assert.ok(tunnels.length >= 2 && tunnels.every((t) => t === host), tunnels.join(', '));
      const forwarded = proxy.requests.filter((q) => q.method === 'GET').map((q) => q.target);
      assert.ok(forwarded.length > 0 && forwarded.every((t) => t === server.url('plain.bin')), forwarded.join(', '));
      assert.equal(server.requestsFor('plain.bin').length, forwarded.length, 'every request for the http file came through the proxy');

      const seen = proxy.requests.length;
      const direct = await cli(['--store', path.join(dir, 'store2'), ...args.slice(2)], { ...env, NO_PROXY: 'example.com, localhost,127.0.0.1' });
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(proxy.requests.length, seen, 'NO_PROXY hosts bypass the proxy');
    });

    it('names the proxy that refuses the tunnel, and sends the proxy URL\'s credentials', async () => {
      const strict = await TestProxy.start({ requireAuth: 'Basic dTpw' });
      try {
        await writeCatalog([{ id: 'secure', name: 'Secure', files: [{ path: 'secure.bin', url: `${tlsBase}/secure.bin`, sha256: sha256Of(secure) }] }]);
        const args = ['--store', store, '--no-builtin', '--catalog', catalog, 'download', 'secure'];
        const ca = path.join(tlsDir, 'cert.pem');
        const denied = await cli(args, { HTTPS_PROXY: strict.url, NODE_EXTRA_CA_CERTS: ca });
        assert.equal(denied.code, 1, denied.stderr);
        assert.match(denied.stdout, /proxy 127\.0\.0\.1:\d+ refused the tunnel to localhost:\d+: HTTP\/1\.1 407 .*user:password@host:port/);
        const authorized = await cli(args, { HTTPS_PROXY: strict.url.replace('http://', 'http://u:p@'), NODE_EXTRA_CA_CERTS: ca });
        assert.equal(authorized.code, 0, authorized.stderr);
        assert.ok(strict.requests.some((q) => q.method === 'CONNECT' && q.proxyAuthorization === 'Basic dTpw'));
      } finally {
        await strict.close();
      }
    });
  });

  it('offline: names the host, the likely causes and the fixes, after retrying like other transient failures', async () => {
    await writeCatalog([{ id: 'hub-model', name: 'Hub', files: [{ path: 'm.gguf', hf: { repo: 'org/m', file: 'm.gguf' } }] }]);
    const r = await cli(['--store', store, '--no-builtin', '--catalog', catalog, 'download', 'hub-model', '--max-retries', '2'], { HF_ENDPOINT: 'http://hub.invalid' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /m\.gguf: cannot resolve hub\.invalid .*; retry 1\/2 in \d+ ms/);
    assert.match(r.stderr, /retry 2\/2/);
    assert.match(r.stdout, /^error {2}hub-model {2}failed: cannot resolve hub\.invalid \(offline, DNS failing, or only reachable through a proxy\) \(gave up after 2 retries\); check your connection; behind a proxy, set HTTPS_PROXY .*; to use a mirror of the hub, set HF_ENDPOINT$/m);
    assert.doesNotMatch(r.stdout, /getaddrinfo/);
  });

  it('reads credentials from ~/.netrc (NETRC), sends them only to their origin, and says where to put them', async () => {
    const secret = server.addFile('secret.bin', generateData(PIECE, 43), { requireToken: 'tok-123' });
    await writeCatalog([{ id: 'secret', name: 'Secret', files: [{ path: 'secret.bin', url: server.url('secret.bin'), sha256: secret.sha256 }] }]);
    const netrc = path.join(dir, 'netrc');
    const args = ['--store', store, '--no-builtin', '--catalog', catalog, 'download', 'secret'];
    const denied = await cli(args, { NETRC: netrc });
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /127\.0\.0\.1:\d+ refused access \(HTTP 401 .*\): it needs a token; add a "machine 127\.0\.0\.1 login USER password TOKEN" line in ~\/\.netrc/);

    await fs.writeFile(netrc, '# tokens\nmachine other.example login a password b\n\nmachine 127.0.0.1\n  password tok-123\ndefault login anonymous password nothing\n');
    const ok = await cli(args, { NETRC: netrc });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(server.requestsFor('secret.bin').at(-1)?.authorization, 'Bearer tok-123');

    // A redirect to another origin (localhost is not 127.0.0.1) gets no credential.
    server.resetCounters();
    await writeCatalog([{ id: 'moved', name: 'Moved', files: [{ path: 'plain.bin', url: server.url('moved.bin'), sha256: sha256Of(plain) }] }]);
    server.addFile('moved.bin', plain);
    server.inject('moved.bin', { redirectTo: server.url('plain.bin', 'localhost'), times: 10 });
    const moved = await cli(['--store', store, '--no-builtin', '--catalog', catalog, 'download', 'moved'], { NETRC: netrc });
    assert.equal(moved.code, 0, moved.stderr);
    assert.ok(server.requestsFor('moved.bin').every((q) => q.authorization === 'Bearer tok-123'));
    const redirected = server.requestsFor('plain.bin');
    assert.ok(redirected.length > 0 && redirected.every((q) => q.authorization === undefined), 'nothing sent after the redirect to another origin');
  });
});
