import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FaultServer, generateData } from '../support/faultServer';
import { freePort, REPO } from './codeServer';
import { catalogWorkspace, WorkbenchSession } from './session';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const MiB = 1024 * 1024;
const run = promisify(execFile);

describe('The local API in a real VS Code: a curl from outside starts a download the Models view shows', function () {
  this.timeout(180_000);
  let files: FaultServer;
  let session: WorkbenchSession;
  let port: number;

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is built (run the tests through npm test)`);
    files = await FaultServer.start();
    files.bytesPerSecondPerConnection = 2 * MiB;
    const weights = files.addFile('api.gguf', generateData(8 * MiB, 21));
    const workspace = await catalogWorkspace('ma-api-', [
      { id: 'api-model', name: 'API Model', version: '1.0.0', task: 'text-generation', format: 'gguf', files: [{ path: 'api.gguf', url: files.url('api.gguf'), sha256: weights.sha256, size: weights.data.length }] },
    ], { 'modelAvailability.builtinCatalog': false });
    port = await freePort();
    // Machine-scoped settings: user settings, not the workspace's.
    session = await WorkbenchSession.start({
      vsixes: [VSIX], folder: workspace,
      userSettings: { 'modelAvailability.api.enabled': true, 'modelAvailability.api.port': port },
      env: { MODEL_AVAILABILITY_API_TOKEN: '' },
    });
  });

  after(async () => {
    await session?.close();
    await files?.close();
  });

  afterEach(async function () {
    await session?.screenshotIfFailed(this.currentTest, 'local-api');
  });

  it('serves the API with the token from global storage; a form POST by curl starts the download', async () => {
    const wb = session.wb;
    const pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, /API Model.*not downloaded/, 60_000);
    const tokenFile = path.join(session.server.userDataDir, 'User', 'globalStorage', 'model-availability.model-availability', 'api-token');
    for (let i = 0; i < 300 && !existsSync(tokenFile); i++) await wb.page.waitForTimeout(100);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const url = `http://127.0.0.1:${port}`;
    const unauthorized = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}/api/v1/models/status/detailed`]);
    assert.equal(unauthorized.stdout, '401');
    const started = await run('curl', ['-s', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`,
      '--data', 'model_id=api-model&action=start&max_retries=3', `${url}/api/v1/models/download/manage`]);
    assert.match(started.stdout, /\n202$/);
    await wb.waitForTreeRow(pane, /API Model.*\d+%/, 20_000);
    await wb.screenshot('40-api-download-progress');
    await wb.waitForTreeRow(pane, /API Model.*ready/, 60_000);
    const status = await run('curl', ['-s', '-H', `Authorization: Bearer ${token}`, `${url}/api/v1/models/api-model/status`]);
    assert.equal((JSON.parse(status.stdout) as { state: string }).state, 'ready');
    await wb.screenshot('41-api-download-ready');
  });
});
