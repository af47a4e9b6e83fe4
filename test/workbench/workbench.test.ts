import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { CodeServer, REPO } from './codeServer';
import { launchBrowser, Workbench } from './workbench';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const RUNNER_VSIX = path.join(REPO, 'out', 'model-availability-test-runner.vsix');
const SUITE = path.join(REPO, 'out', 'suite', 'index.js');

interface SuiteResult { passes: number; failures: number; tests: { title: string; state: string; error?: string }[]; notes?: string[] }

describe('Model Availability in a real VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let server: CodeServer;
  let browser: Browser;
  let wb: Workbench;
  let workspace: string;
  let resultsFile: string;
  let catalogServer: http.Server;
  let remoteCatalog = { models: [{ id: 'remote-one', name: 'Remote One', files: [{ path: 'r.bin', url: 'http://127.0.0.1:9/r.bin', size: 1000 }] }] };

  before(async () => {
    for (const f of [VSIX, RUNNER_VSIX, SUITE]) assert.ok(existsSync(f), `${f} is built (run the tests through npm test)`);
    catalogServer = http.createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(remoteCatalog)); });
    await new Promise<void>((r) => catalogServer.listen(0, '127.0.0.1', r));
    const remoteUrl = `http://127.0.0.1:${(catalogServer.address() as AddressInfo).port}/remote.models.json`;

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ma-wb-'));
    workspace = path.join(tmp, 'workspace');
    await cp(path.join(__dirname, 'fixtures', 'workspace'), workspace, { recursive: true });
    await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'modelAvailability.catalogs': ['broken.models.json', remoteUrl] }, null, 2));
    resultsFile = path.join(tmp, 'extension-host-results.json');

    server = new CodeServer({
      vsixes: [VSIX, RUNNER_VSIX],
      folder: workspace,
      env: { MA_EXTENSION_TESTS: SUITE, MA_EXTENSION_TEST_RESULTS: resultsFile },
    });
    await server.start();
    browser = await launchBrowser();
    wb = await Workbench.open(browser, server.url);
  });

  after(async () => {
    await wb?.page.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await new Promise<void>((r) => (catalogServer ? catalogServer.close(() => r()) : r()));
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      await wb.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
    }
  });

  it('lists the catalogs\' models in the Explorer\'s Models view', async () => {
    // Give the Models view the Explorer's height, as a person focused on it would.
    await wb.collapseView('workspace');
    const pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, 'Demo Tiny Chat', 60_000);
    await wb.waitForTreeRow(pane, 'Remote One');
    const rows = await wb.treeRows(pane);
    assert.ok(rows.some((r) => /^Demo Tiny Chat not downloaded · 2\.1 MB/.test(r)), rows.join('\n'));
    assert.ok(rows.some((r) => r.startsWith('Demo Small Chat not downloaded')), rows.join('\n'));
    // Four catalogs here (the broken one lists what it could): grouped, the built-in one last.
    assert.ok(rows.includes('Workspace catalog 2 models') && rows.at(-6) === 'Built-in catalog 5 models', rows.join('\n'));
    assert.ok(rows.some((r) => r.startsWith('Qwen2.5 0.5B')), 'the built-in catalog is merged in');
    assert.ok(!rows.some((r) => r.includes('escapes-its-folder')), 'the unsafe model is not listed');
    await wb.screenshot('01-models-view');
  });

  it('runs "Model Availability: Refresh" from the Command Palette and shows what changed', async () => {
    remoteCatalog = { models: [...remoteCatalog.models, { id: 'remote-two', name: 'Remote Two Added', files: [{ path: 'r2.bin', url: 'http://127.0.0.1:9/r2.bin', size: 5 }] }] };
    const pane = await wb.expandView('Models');
    assert.equal(await pane.locator('.monaco-list-row', { hasText: 'Remote Two Added' }).count(), 0, 'not there before Refresh');
    await wb.runCommand('Model Availability: Refresh');
    await wb.waitForTreeRow(pane, 'Remote Two Added');
    await wb.screenshot('02-after-refresh');
  });

  it('shows a broken catalog\'s error in the Problems panel with file, JSON path and reason', async () => {
    const problems = await wb.problems();
    await wb.screenshot('03-problems');
    assert.ok(problems.some((p) => p.includes('broken.models.json')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes("models[0].files[0].path: has a '..' segment, which would leave the model's folder")), problems.join('\n'));
  });

  it('opens the analytics panel under its strict CSP and runs its script', async () => {
    await wb.runCommand('Model Availability: Open Analytics');
    const frame = wb.page.frameLocator('iframe.webview').frameLocator('#active-frame');
    // The tabs are drawn by the panel's script: they exist only if it ran under the CSP.
    await frame.getByRole('tab', { name: /^Usage/ }).waitFor({ timeout: 30_000 });
    assert.equal(await frame.getByRole('tab').count(), 4);
    await wb.screenshot('04-analytics-panel');
  });

  it('passes the extension-host suite (the @vscode/test-electron suite) inside this VS Code', async () => {
    const deadline = Date.now() + 120_000;
    while (!existsSync(resultsFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(existsSync(resultsFile), 'the test-runner extension wrote its results');
    const result = JSON.parse(await readFile(resultsFile, 'utf8')) as SuiteResult;
    for (const t of result.tests) console.log(`      ${t.state === 'passed' ? '✔' : '✘'} [extension host] ${t.title}${t.error ? `\n${t.error}` : ''}`);
    for (const n of result.notes ?? []) console.log(`        · ${n}`);
    if (process.env.MA_TEST_SUMMARY) {
      await appendFile(process.env.MA_TEST_SUMMARY, JSON.stringify({ suite: 'extension-host', passes: result.passes, failures: result.failures, pending: 0 }) + '\n');
    }
    assert.equal(result.failures, 0, 'extension-host tests failed');
    assert.ok(result.passes >= 11, `all extension-host tests ran (${result.passes})`);
  });

  it('welcomes a person with no catalog configured, with links to the setting and a sample', async () => {
    // Last, because it takes every catalog away (the extension-host suite above has finished).
    await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'modelAvailability.catalogs': [], 'modelAvailability.builtinCatalog': false }));
    await rm(path.join(workspace, '.vscode', 'models.json'));
    const pane = await wb.expandView('Models');
    const welcome = pane.locator('.welcome-view-content');
    await welcome.filter({ hasText: 'No model catalog is configured.' }).waitFor({ timeout: 30_000 });
    const links = await welcome.locator('a, .monaco-button').allTextContents();
    assert.ok(links.some((l) => /Create a Catalog/.test(l)), links.join(' | '));
    assert.ok(links.some((l) => /Add a Catalog in Settings/.test(l)), links.join(' | '));
    await wb.screenshot('05-welcome-no-catalog');
  });
});
