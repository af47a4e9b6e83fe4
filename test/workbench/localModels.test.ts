import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FaultServer, generateData, sha256Of } from '../support/faultServer';
import { factsOf, writeHfCache, writeOllamaStore } from '../support/foreignStores';
import { startRepoHub } from '../support/mockHub';
import { REPO } from './codeServer';
import { catalogWorkspace, WorkbenchSession } from './session';
import type { Workbench } from './workbench';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const MiB = 1024 * 1024;

describe('Models already on this machine, in a real VS Code', function () {
  this.timeout(180_000);
  let files: FaultServer;
  let hub: Awaited<ReturnType<typeof startRepoHub>>;
  let session: WorkbenchSession;
  let wb: Workbench;
  let blob: string;
  const gguf = generateData(2 * MiB, 41);
  const unlisted = generateData(MiB, 42);

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is built (run the tests through npm test)`);
    files = await FaultServer.start();
    files.addFile('tiny.Q4_K_M.gguf', gguf);
    hub = await startRepoHub(files, [{ name: 'tiny.Q4_K_M.gguf', lfs: true }]);
    const machine = await mkdtemp(path.join(os.tmpdir(), 'ma-machine-'));
    await writeHfCache(path.join(machine, 'hf'), hub.endpoint);
    await writeOllamaStore(path.join(machine, 'ollama'), 'other', 'latest', unlisted);
    blob = path.join(machine, 'hf', 'models--org--tiny-GGUF', 'blobs', sha256Of(gguf));
    files.bytesSent = 0;
    const workspace = await catalogWorkspace('ma-local-', [
      { id: 'tiny-hf', name: 'Tiny HF', version: '1.0.0', task: 'text-generation', format: 'gguf', files: [{ path: 'tiny.gguf', hf: { repo: 'org/tiny-GGUF', revision: 'main', file: 'tiny.Q4_K_M.gguf' } }] },
    ], { 'modelAvailability.builtinCatalog': false });
    session = await WorkbenchSession.start({
      vsixes: [VSIX], folder: workspace,
      env: { HF_ENDPOINT: hub.endpoint, HF_TOKEN: '', HF_HUB_CACHE: path.join(machine, 'hf'), OLLAMA_MODELS: path.join(machine, 'ollama') },
    });
    wb = session.wb;
  });

  after(async () => {
    await session?.close();
    await Promise.all([hub?.close(), files?.close()]);
  });

  afterEach(async function () {
    await session?.screenshotIfFailed(this.currentTest, 'local-models');
  });

  it('offers the found models once when the Models view opens; Find Models on This Machine… imports the catalog one, linked and verified, and the tree shows it ready', async () => {
    const before = await factsOf(blob);
    const pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, /Tiny HF.*not downloaded/, 60_000);
    await wb.notification(/Found 2 model files in the Hugging Face cache and Ollama \(1 in your catalogs\)\. Use them without downloading again\?/).waitFor({ timeout: 30_000 });
    await wb.screenshot('40-local-models-offered');
    await wb.runCommand('Model Availability: Find Models on This Machine…');
    const list = wb.page.locator('.quick-input-list');
    await list.locator('.monaco-list-row', { hasText: 'tiny.Q4_K_M.gguf' }).waitFor({ timeout: 30_000 });
    const rows = await list.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
    assert.ok(rows.some((r) => /Hugging Face cache/.test(r)) && rows.some((r) => /Ollama/.test(r)), `grouped by source: ${rows.join(' | ')}`);
    assert.ok(rows.some((r) => /tiny\.Q4_K_M\.gguf.*2\.1 MB · Tiny HF/.test(r)), rows.join(' | '));
    assert.ok(rows.some((r) => /other-latest\.gguf.*1\.0 MB · in no catalog/.test(r)), rows.join(' | '));
    await wb.screenshot('41-find-models-on-this-machine');
    // The catalog model is ticked already; accept.
    await wb.page.keyboard.press('Enter');
    await wb.notification(/Imported 1 file from the Hugging Face cache, verified: linked \(no extra disk\), 0 bytes downloaded/).waitFor({ timeout: 30_000 });
    await wb.waitForTreeRow(pane, /Tiny HF.*ready/, 30_000);
    await wb.screenshot('42-imported-ready');
    assert.equal(files.bytesSent, 0, 'nothing was downloaded');
    const stored = path.join(session.server.userDataDir, 'User', 'globalStorage', 'model-availability.model-availability', 'models', 'tiny-hf', '1.0.0', 'tiny.gguf');
    assert.equal((await stat(stored)).ino, before.ino, 'a hard link to the cached blob');
    assert.deepEqual(await factsOf(blob), before, 'the cache is untouched');
  });

  it('adds a model no catalog lists to a catalog of its own and imports it', async () => {
    const pane = await wb.expandView('Models');
    await wb.runCommand('Model Availability: Find Models on This Machine…');
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'other-latest.gguf' });
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await wb.page.keyboard.press('Enter');
    await wb.pickQuickItem('found-models.json');
    await wb.waitForTreeRow(pane, /other:latest.*ready/, 30_000);
    await wb.screenshot('43-added-to-catalog-ready');
    const catalog = path.join(session.server.userDataDir, 'User', 'globalStorage', 'model-availability.model-availability', 'found-models.json');
    const doc = JSON.parse(await readFile(catalog, 'utf8')) as { models: { id: string; files: { sha256: string }[] }[] };
    assert.deepEqual(doc.models.map((m) => [m.id, m.files[0].sha256]), [['other-latest', sha256Of(unlisted)]]);
  });
});
