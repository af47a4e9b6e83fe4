import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_TOKEN, ensureDemoFiles, startDemoServer } from '../../scripts/demoModelServer.mjs';
import { FaultServer, generateData } from '../support/faultServer';
import { startHub, TOKEN } from '../support/mockHub';
import { REPO, type CodeServer } from './codeServer';
import { catalogWorkspace, WorkbenchSession } from './session';
import type { Workbench } from './workbench';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const MiB = 1024 * 1024;

describe('Downloads in a real VS Code: tree, status bar, commands, notifications', function () {
  this.timeout(180_000);
  let files: FaultServer;
  let session: WorkbenchSession;
  let server: CodeServer;
  let wb: Workbench;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let demo: Server;
  let demoHost: string;
  let moveTarget: string;

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is built (run the tests through npm test)`);
    files = await FaultServer.start();
    // A capped server, so a download lasts long enough to be seen and paused.
    files.bytesPerSecondPerConnection = 1 * MiB;
    const quick = files.addFile('quick.gguf', generateData(3 * MiB, 11));
    const slow = files.addFile('slow.gguf', generateData(24 * MiB, 12));
    // A gated Hugging Face repository: the mock hub wants the token and redirects downloads to another host.
    const gated = files.addFile('gated.gguf', generateData(MiB / 2, 13));
    hub = await startHub(files, { name: 'gated.gguf', sha256: gated.sha256, size: gated.data.length }, true);
    // The demo's gated model (npm start): a plain URL on 127.0.0.1 that answers 401 without the README's token.
    const demoDir = await mkdtemp(path.join(os.tmpdir(), 'ma-demo-'));
    const demoGated = (await ensureDemoFiles(demoDir)).find((f) => f.name === 'demo-gated.gguf');
    assert.ok(demoGated);
    demo = await startDemoServer(demoDir);
    demoHost = `127.0.0.1:${(demo.address() as AddressInfo).port}`;
    const model = (id: string, name: string, file: string, f?: { sha256: string; data: Buffer }) => ({
      id, name, version: '1.0.0', task: 'text-generation', format: 'gguf',
      files: [{ path: file, url: files.url(file), ...(f ? { sha256: f.sha256, size: f.data.length } : {}) }],
    });
    const workspace = await catalogWorkspace('ma-dl-', [
      model('quick-model', 'Quick Model', 'quick.gguf', quick),
      model('slow-model', 'Slow Model', 'slow.gguf', slow),
      model('gone-model', 'Gone Model', 'gone.gguf'),
      { id: 'gated-model', name: 'Gated Model', version: '1.0.0', task: 'text-generation', format: 'gguf', files: [{ path: 'gated.gguf', hf: { repo: 'org/tiny-GGUF', file: 'gated.gguf' } }] },
      {
        id: 'demo-gated', name: 'Demo Gated Model', version: '1.0.0', task: 'text-generation', format: 'gguf',
        files: [{ path: 'demo-gated.gguf', url: `http://${demoHost}/gated/demo-gated.gguf`, sha256: demoGated.sha256, size: demoGated.size }],
      },
    ], {
      'modelAvailability.builtinCatalog': false,
      'modelAvailability.download.connections': 2,
    });
    // HF_TOKEN empty: the token must come from the prompt, not from the machine running the tests.
    // Move Model Storage takes its folder from a keybinding's argument here: code-server's folder picker
    // (VS Code's simple dialog) cannot be driven reliably from a test.
    moveTarget = await mkdtemp(path.join(os.tmpdir(), 'ma-moved-'));
    session = await WorkbenchSession.start({
      vsixes: [VSIX], folder: workspace, env: { HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
      prepareUserData: async (dir) => {
        await mkdir(path.join(dir, 'User'), { recursive: true });
        await writeFile(path.join(dir, 'User', 'keybindings.json'), JSON.stringify([{ key: 'ctrl+alt+shift+f9', command: 'modelAvailability.moveStorage', args: moveTarget }]));
      },
    });
    server = session.server;
    wb = session.wb;
  });

  after(async () => {
    await session?.close();
    await hub?.close();
    await files?.close();
    await new Promise((resolve) => demo?.close(resolve));
  });

  afterEach(async function () {
    await session?.screenshotIfFailed(this.currentTest, 'downloads');
  });

  it('starts a download from the tree; the status bar shows progress; the item turns ready', async () => {
    const pane = await wb.expandView('Models');
    const row = await wb.waitForTreeRow(pane, 'Quick Model', 60_000);
    assert.match((await wb.treeRows(pane)).find((r) => r.startsWith('Quick Model')) ?? '', /not downloaded/);
    await wb.clickInlineAction(row, 'Download Model…');
    // The percentage shows once the download reports progress (the same figure as the row).
    await wb.statusItem(/1 downloading · \d+%/).waitFor({ timeout: 15_000 });
    await wb.screenshot('10-download-progress');
    const readyToast = wb.notification(/Quick Model is downloaded and verified/).waitFor({ timeout: 60_000 });
    await wb.waitForTreeRow(pane, /Quick Model.*ready/, 60_000);
    const rows = await wb.treeRows(pane);
    assert.ok(rows.some((r) => /^Quick Model ready · 3\.1 MB$/.test(r)), rows.join('\n'));
    await wb.statusItem(/downloading/).waitFor({ state: 'hidden', timeout: 10_000 });
    await readyToast;
    await wb.screenshot('11-download-ready');
  });

  it('pauses and resumes a download from the Command Palette', async () => {
    const pane = await wb.expandView('Models');
    await wb.runCommand('Model Availability: Download Model…');
    await wb.pickQuickItem('Slow Model');
    await wb.waitForTreeRow(pane, /Slow Model.*\d+%/, 20_000);
    await wb.runCommand('Model Availability: Pause Download');
    await wb.pickQuickItem('Slow Model');
    await wb.waitForTreeRow(pane, /Slow Model.*paused/, 15_000);
    // Bytes already in flight (socket buffers) may still land just after the pause; then nothing more.
    await wb.page.waitForTimeout(500);
    const pausedAt = files.bytesSent;
    await wb.screenshot('12-paused');
    await wb.page.waitForTimeout(1500);
    assert.equal(files.bytesSent - pausedAt, 0, 'no transfer while paused');
    assert.ok(pausedAt < 24 * MiB, 'paused before the end');
    await wb.runCommand('Model Availability: Resume Download');
    await wb.pickQuickItem('Slow Model');
    await wb.waitForTreeRow(pane, /Slow Model.*ready/, 90_000);
    const slowBytes = files.requestsFor('slow.gguf').length;
    assert.ok(slowBytes >= 2, 'resumed with new range requests');
    await wb.screenshot('13-resumed-ready');
  });

  it('verify finds a corrupted file, turns the model red, offers Repair; repair fetches about one piece and turns it green', async () => {
    const pane = await wb.expandView('Models');
    const file = path.join(server.userDataDir, 'User', 'globalStorage', 'model-availability.model-availability', 'models', 'quick-model', '1.0.0', 'quick.gguf');
    const fh = await open(file, 'r+');
    try {
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 1_500_000);
      byte[0] ^= 0xff;
      await fh.write(byte, 0, 1, 1_500_000);
    } finally {
      await fh.close();
    }
    files.bytesPerSecondPerConnection = 0;
    // Only this repair may transfer from here on: the other downloads have finished.
    await wb.waitForTreeRow(pane, /Slow Model.*ready/, 60_000);
    const sentBefore = files.bytesSent;
    await wb.runCommand('Model Availability: Verify Model…');
    await wb.pickQuickItem('Quick Model');
    const toast = wb.notification(/Quick Model is damaged/);
    await toast.waitFor({ timeout: 30_000 });
    await wb.waitForTreeRow(pane, /Quick Model.*needs repair/, 10_000);
    await wb.statusItem(/1 model needs repair/).waitFor({ timeout: 5000 });
    await wb.screenshot('15-verify-found-damage');
    await toast.locator('.monaco-button', { hasText: /^Repair$/ }).click();
    await wb.waitForTreeRow(pane, /^Quick Model\s*ready · 3\.1 MB$/, 60_000);
    // VS Code hides an information toast after a few seconds: read the notification center instead.
    await wb.page.waitForTimeout(500);
    const history = await wb.notificationHistory();
    assert.ok(history.some((n) => /Quick Model is repaired and verified \(quick\.gguf\)/.test(n)), history.join('\n'));
    const repaired = files.bytesSent - sentBefore;
    // The default piece is 16 MiB, so this 3 MiB file is one piece: the repair fetches at most that file once.
    assert.ok(repaired > 0 && repaired <= 3 * MiB, `repair transferred ${repaired} bytes`);
    await wb.screenshot('16-repaired');
  });

  it('explains a 404 in a notification with a next step', async () => {
    const pane = await wb.expandView('Models');
    const row = await wb.waitForTreeRow(pane, 'Gone Model');
    await wb.clickInlineAction(row, 'Download Model…');
    const toast = wb.notification(/Gone Model could not be downloaded/);
    await toast.waitFor({ timeout: 30_000 });
    const text = await toast.innerText();
    assert.match(text, /not found at URL http:\/\/127\.0\.0\.1:\d+\/files\/gone\.gguf \(HTTP 404\); check the file's url .* in its catalog, then Retry/i);
    assert.match(text, /Open Catalog/);
    assert.match(text, /Retry/);
    await wb.waitForTreeRow(pane, /Gone Model.*failed/);
    await wb.statusItem(/1 download failed/).waitFor({ timeout: 5000 });
    await wb.screenshot('14-not-found');
  });

  it('a gated Hugging Face model: Set Token asks for the token, keeps it secret, sends it to the hub only, and retries', async () => {
    const pane = await wb.expandView('Models');
    const row = await wb.waitForTreeRow(pane, 'Gated Model');
    await wb.clickInlineAction(row, 'Download Model…');
    const toast = wb.notification(/Gated Model could not be downloaded/);
    await toast.waitFor({ timeout: 30_000 });
    const hubHost = new URL(hub.endpoint).host;
    assert.match(await toast.innerText(), /gated: the Hugging Face hub refused access .*; set a Hugging Face token/i);
    await wb.screenshot('17-gated-needs-token');
    await toast.locator('.monaco-button', { hasText: `Set Token for ${hubHost}…` }).click();
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor();
    assert.equal(await input.getAttribute('type'), 'password', 'the token is typed into a password box');
    await input.fill(TOKEN);
    await wb.screenshot('18-token-prompt');
    await input.press('Enter');
    await wb.waitForTreeRow(pane, /^Gated Model\s*ready · 524 KB · v1\.0\.0\+[0-9a-f]{7}$/, 60_000);
    assert.ok(hub.requests.some((r) => r.authorization === `Bearer ${TOKEN}`), 'the hub got the token');
    const cdn = files.requestsFor('gated.gguf');
    assert.ok(cdn.length > 0 && cdn.every((r) => r.authorization === undefined), 'the download host never saw the token');
    await wb.screenshot('19-gated-ready');
  });

  it('the demo\'s gated model: a 401 from any host offers Set Token for that host, and the README\'s token makes it ready', async () => {
    const pane = await wb.expandView('Models');
    const row = await wb.waitForTreeRow(pane, 'Demo Gated Model');
    await wb.clickInlineAction(row, 'Download Model…');
    const toast = wb.notification(/Demo Gated Model could not be downloaded/);
    await toast.waitFor({ timeout: 30_000 });
    const text = await toast.innerText();
    assert.match(text, new RegExp(`${demoHost.replace(/\./g, '\\.')} refused access \\(HTTP 401 .*\\): it needs a token; Set Token for ${demoHost.replace(/\./g, '\\.')}… adds one`));
    const setToken = toast.locator('.monaco-button', { hasText: `Set Token for ${demoHost}…` });
    await toast.hover();
    await setToken.waitFor({ state: 'visible' });
    await wb.screenshot('19a-demo-gated-401');
    await setToken.click();
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor();
    assert.equal(await input.getAttribute('type'), 'password');
    assert.match(await wb.page.locator('.quick-input-widget').innerText(), new RegExp(`sent only to http://${demoHost.replace(/\./g, '\\.')}, never to another host`));
    await input.fill(DEMO_TOKEN);
    await wb.screenshot('19b-demo-token-prompt');
    await input.press('Enter');
    await wb.waitForTreeRow(pane, /^Demo Gated Model.*ready/, 60_000);
    await wb.screenshot('19c-demo-gated-ready');
    // Clear Token… lists the hosts that have one: the demo's and the hub's.
    await wb.runCommand('Model Availability: Clear Token…');
    const picks = wb.page.locator('.quick-input-widget .monaco-list-row');
    await picks.first().waitFor();
    const labels = await picks.allInnerTexts();
    assert.ok(labels.some((l) => l.includes(demoHost)) && labels.some((l) => l.includes(new URL(hub.endpoint).host)), labels.join(' | '));
    await wb.screenshot('19d-clear-token-hosts');
    await wb.page.keyboard.press('Escape');
  });

  it('Move Model Storage… copies, verifies, switches the setting, deletes the old copy and reloads on the new folder', async () => {
    let pane = await wb.expandView('Models');
    if (!(await wb.treeRows(pane)).some((r) => /^Quick Model ready\b/.test(r))) {
      await wb.clickInlineAction(await wb.waitForTreeRow(pane, 'Quick Model'), 'Download Model…');
      await wb.waitForTreeRow(pane, /Quick Model.*ready/, 60_000);
    }
    const oldRoot = path.join(server.userDataDir, 'User', 'globalStorage', 'model-availability.model-availability');
    const target = moveTarget;
    await wb.page.keyboard.press('Escape');
    await wb.page.keyboard.press('Control+Alt+Shift+F9');
    const confirm = wb.page.locator('.monaco-dialog-box');
    await confirm.waitFor({ timeout: 15_000 });
    assert.match(await confirm.innerText(), new RegExp(`Move all models from .* to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?`));
    await wb.screenshot('20-move-confirm');
    await wb.confirmDialog('Move');
    // The window reloads on the new folder: the Models view comes back with the model ready from there.
    await wb.page.waitForEvent('load', { timeout: 60_000 });
    pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, /^Quick Model\s*ready · 3\.1 MB$/, 60_000);
    await wb.screenshot('21-moved');
    assert.ok(existsSync(path.join(target, 'models', 'quick-model', '1.0.0', 'quick.gguf')), 'the model is in the new folder');
    assert.ok(!existsSync(path.join(oldRoot, 'models', 'quick-model')), 'the old copy is deleted');
    // storagePath is machine-scoped: code-server (a remote VS Code) keeps it in the machine's settings.
    const settings = JSON.parse(await readFile(path.join(server.userDataDir, 'Machine', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['modelAvailability.storagePath'], target);
  });
});
