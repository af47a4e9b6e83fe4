import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../support/downloadFixtures';
import { FaultServer, generateData } from '../../support/faultServer';
import { cli, startCli } from './cliRunner';

const MiB = 1024 * 1024;

describe('CLI serve: the local API as a process', function () {
  this.timeout(60_000);
  let cdn: FaultServer;
  let dir: string;
  let store: string;
  let catalog: string;

  beforeEach(async () => {
    cdn = await FaultServer.start();
    const big = cdn.addFile('big.bin', generateData(4 * MiB, 7));
    dir = await tempDir('ma-serve-');
    store = path.join(dir, 'store');
    catalog = path.join(dir, 'models.json');
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'big-model', name: 'Big', files: [{ path: 'big.bin', url: cdn.url('big.bin'), sha256: big.sha256, size: big.data.length }] }] }));
  });
  afterEach(async () => {
    await cdn.close();
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('prints its URL and token file (0600), serves the API, and on SIGTERM stops cleanly with the download resumable', async () => {
    cdn.bytesPerSecondPerConnection = 512 * 1024;
    const serve = startCli(['--store', store, '--catalog', catalog, '--analytics', path.join(dir, 'globalStorage'), 'serve', '--port', '0'], { MODEL_AVAILABILITY_API_TOKEN: '' });
    let stdout = '';
    const url = await new Promise<string>((resolve) => serve.child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) resolve(m[1]);
    }));
    const tokenFile = path.join(store, 'api-token');
    assert.match(stdout, new RegExp(`token: in ${tokenFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal((await fs.stat(tokenFile)).mode & 0o777, 0o600);
    const token = (await fs.readFile(tokenFile, 'utf8')).trim();
    assert.equal(Buffer.from(token, 'hex').length, 32);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    assert.equal((await fetch(`${url}/api/v1/models/status/detailed`)).status, 401);
    const started = await fetch(`${url}/api/v1/models/download/manage`, { method: 'POST', headers, body: JSON.stringify({ model_id: 'big-model', action: 'start' }) });
    assert.equal(started.status, 202);
    // Wait until part of it is on disk.
    for (;;) {
      const s = await (await fetch(`${url}/api/v1/models/big-model/status`, { headers })).json() as { bytes_done: number };
      if (s.bytes_done >= MiB) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    serve.child.kill('SIGTERM');
    const ended = await serve.done;
    // 0, not the forced exit (1) a stop past its 4.5 s deadline takes.
    assert.equal(ended.code, 0, ended.stderr);
    const queue = JSON.parse(await fs.readFile(path.join(store, 'queue.json'), 'utf8')) as { items: { id: string; state: string }[] };
    assert.deepEqual(queue.items.map((i) => [i.id, i.state]), [['big-model', 'paused']]);
    // The next run fetches only the rest.
    cdn.bytesPerSecondPerConnection = 0;
    cdn.resetCounters();
    const resumed = await cli(['--store', store, '--catalog', catalog, 'download', 'big-model']);
    assert.equal(resumed.code, 0, resumed.stderr);
    // At least 1 MiB was on disk at the stop: well under the whole file is fetched again.
    assert.ok(cdn.bytesSent <= 3.5 * MiB, `sent ${cdn.bytesSent} bytes again`);
  });

  it('says which process has the port and exits 2', async () => {
    const other = await FaultServer.start();
    try {
      const r = await cli(['--store', store, '--catalog', catalog, 'serve', '--port', String(other.port)]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`port ${other.port} on 127.0.0.1 is in use by pid ${process.pid}`));
    } finally {
      await other.close();
    }
  });
});
