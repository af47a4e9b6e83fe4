import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FaultServer, generateData } from '../support/faultServer';
import { REPO } from './codeServer';
import { catalogWorkspace, WorkbenchSession } from './session';
import type { Workbench } from './workbench';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const MiB = 1024 * 1024;

describe('Model updates in a real VS Code: the tree offers one, Check for Updates → Review… → Update, Roll Back from the menu', function () {
  this.timeout(240_000);
  let files: FaultServer;
  let session: WorkbenchSession;
  let wb: Workbench;
  let catalogFile: string;
  const entry = (version: string, file: string, data: { sha256: string; data: Buffer }, notes?: string) => ({
    id: 'chat-u', name: 'Chat U', version, task: 'text-generation', format: 'gguf', ...(notes ? { notes } : {}),
    files: [{ path: 'model.gguf', url: files.url(file), sha256: data.sha256, size: data.data.length }],
  });

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is built (run the tests through npm test)`);
    files = await FaultServer.start();
    const v1 = files.addFile('u-1.0.0.gguf', generateData(MiB + 4321, 41));
    files.addFile('u-1.1.0.gguf', generateData(MiB + MiB / 2 + 77, 42));
    const workspace = await catalogWorkspace('ma-updates-', [entry('1.0.0', 'u-1.0.0.gguf', v1)], {
      'modelAvailability.builtinCatalog': false,
      'modelAvailability.autoDownload': false,
      'modelAvailability.download.connections': 1,
    });
    catalogFile = path.join(workspace, '.vscode', 'models.json');
    session = await WorkbenchSession.start({ vsixes: [VSIX], folder: workspace, env: { HF_TOKEN: '' } });
    wb = session.wb;
  });

  after(async () => {
    await session?.close();
    await files?.close();
  });

  afterEach(async function () {
    await session?.screenshotIfFailed(this.currentTest, 'updates');
  });

  it('shows an update on the model once the catalog names a new version, and keeps the installed one ready', async () => {
    const pane = await wb.expandView('Models');
    await wb.clickInlineAction(await wb.waitForTreeRow(pane, 'Chat U', 60_000), 'Download Model…');
    await wb.waitForTreeRow(pane, /^Chat U\s*ready · 1\.1 MB$/, 60_000);
    await wb.runCommand('Notifications: Clear All Notifications');
    const v2 = files.files.get('u-1.1.0.gguf');
    assert.ok(v2);
    await writeFile(catalogFile, JSON.stringify({ models: [entry('1.1.0', 'u-1.1.0.gguf', v2, 'https://example.com/chat-u/1.1.0')] }, null, 2));
    // Still ready on what is installed; the row says what the catalog offers and what it costs.
    const row = await wb.waitForTreeRow(pane, /^Chat U\s*ready · 1\.1 MB · v1\.0\.0 · update available: 1\.1\.0 \(1\.6 MB\)$/, 30_000);
    await row.hover();
    assert.ok(await row.locator('.action-label[aria-label="Update Model"]').isVisible(), 'an inline Update action');
    await wb.page.mouse.move(700, 300);
    await wb.screenshot('40-update-available');
  });

  it('Check for Updates → Review… → Update: downloads only the new version and switches when it is verified', async () => {
    const before = files.requests.filter((r) => r.path.endsWith('/u-1.1.0.gguf')).length;
    await wb.runCommand('Model Availability: Check for Updates');
    const toast = wb.notification(/Model update: Chat U 1\.1\.0 is available/);
    await toast.waitFor({ timeout: 30_000 });
    const text = await toast.innerText();
    for (const action of ['Update All', 'Review…', 'Later']) assert.match(text, new RegExp(action), text);
    await wb.screenshot('41-update-notification');
    await toast.locator('.monaco-button', { hasText: /^Review…$/ }).click();
    const pick = wb.page.locator('.quick-input-widget');
    await pick.getByText('Model Updates').waitFor({ timeout: 10_000 });
    const item = pick.locator('.monaco-list-row', { hasText: 'Chat U' }).first();
    await item.waitFor();
    const itemText = (await item.innerText()).replace(/\s+/g, ' ');
    assert.match(itemText, /1\.0\.0 → 1\.1\.0/);
    assert.match(itemText, /1\.6 MB to download/);
    assert.match(itemText, /release notes: https:\/\/example\.com\/chat-u\/1\.1\.0/);
    await wb.screenshot('42-update-review');
    await wb.page.keyboard.press('Enter');
    const pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, /^Chat U\s*ready · 1\.6 MB$/, 60_000);
    await wb.statusItem(/Updated Chat U to 1\.1\.0/).waitFor({ timeout: 5000 });
    assert.ok(files.requests.filter((r) => r.path.endsWith('/u-1.1.0.gguf')).length > before, 'the new version was downloaded');
    // The previous version stays on disk, listed under the model.
    await (await wb.waitForTreeRow(pane, 'Chat U')).click();
    await wb.waitForTreeRow(pane, /^Version 1\.0\.0\s*1\.1 MB · previous version$/, 15_000);
    await wb.page.mouse.move(700, 300);
    await wb.screenshot('43-updated');
  });

  it('Roll Back Model… from the context menu switches to the kept version without a download', async () => {
    const pane = await wb.expandView('Models');
    const requests = files.requests.length;
    await wb.clickContextMenuItem(await wb.waitForTreeRow(pane, /^Chat U\s*ready/), 'Roll Back Model…');
    await wb.pickQuickItem('1.0.0');
    await wb.waitForTreeRow(pane, /^Chat U\s*ready · 1\.1 MB · v1\.0\.0/, 30_000);
    await wb.waitForTreeRow(pane, /^Version 1\.1\.0\s*1\.6 MB · the catalog's version$/, 15_000);
    assert.equal(files.requests.length, requests, 'no request to the server');
    await wb.page.mouse.move(700, 300);
    await wb.screenshot('44-rolled-back');
  });

  it('the analytics Recommendations list the update on offer and the rollback made', async () => {
    await wb.runCommand('Model Availability: Open Analytics');
    const panel = wb.webview();
    await panel.locator('main[aria-busy="false"]').waitFor({ timeout: 30_000 });
    await panel.getByRole('tab', { name: /^Recommendations/ }).click();
    const recs = panel.locator('#view-recommendations:not([hidden])');
    const update = recs.locator('ul[aria-label="Model updates available"] li[data-model-id="chat-u"]');
    await update.waitFor({ timeout: 15_000 });
    // 1.1.0 is still on disk after the rollback: nothing to download.
    assert.match(await update.innerText(), /Chat U\s+1\.0\.0 → 1\.1\.0 · nothing to download/);
    assert.ok(await update.getByRole('button', { name: 'Update Chat U to 1.1.0' }).isVisible());
    const rollback = recs.locator('ul[aria-label="Rollbacks made"] li[data-model-id="chat-u"]');
    assert.match(await rollback.innerText(), /Chat U\s+1\.1\.0 → 1\.0\.0/);
    await wb.screenshot('45-update-recommendations');
  });
});
