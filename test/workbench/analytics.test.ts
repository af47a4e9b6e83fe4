import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { AnalyticsStore } from '../../src/engine/usage/analytics/analyticsStore';
import type { AnalyticsEvent } from '../../src/engine/usage/analytics/eventTypes';
import { FaultServer, generateData } from '../support/faultServer';
import { REPO } from './codeServer';
import { catalogWorkspace, WorkbenchSession } from './session';
import type { Workbench } from './workbench';

const VSIX = process.env.MA_VSIX ?? path.join(REPO, 'dist', 'model-availability.vsix');
const WASM = path.join(REPO, 'dist', 'sql-wasm.wasm');
const MiB = 1024 * 1024;
const TABS = ['Usage', 'Performance', 'Storage', 'Recommendations'] as const;

/**
 * Usage as weeks of real work leave it: Chat Model used daily and slower this week, Old Model used once two
 * months ago, Wanted Model asked for often but never downloaded.
 */
function seededEvents(): AnalyticsEvent[] {
  const events: AnalyticsEvent[] = [];
  for (let day = 1; day <= 36; day++) {
    const ts = noon(day);
    const recent = day < 7;
    events.push({ kind: 'request', modelId: 'chat-model', ts }, { kind: 'grant', modelId: 'chat-model', ts });
    // This week on version 1.1.0 (an update that made it slower), before that on 1.0.0.
    events.push({ kind: 'generation', modelId: 'chat-model', version: recent ? '1.1.0' : '1.0.0', ok: true, durationMs: (recent ? 1400 : 800) + (day % 4) * 20, units: 200, ts: ts + 1000 });
  }
  events.push({ kind: 'request', modelId: 'old-model', ts: noon(60) }, { kind: 'grant', modelId: 'old-model', ts: noon(60) });
  for (let i = 0; i < 5; i++) {
    const ts = noon((i + 1) * 2);
    events.push({ kind: 'request', modelId: 'wanted-model', ts }, { kind: 'grant', modelId: 'wanted-model', ts });
  }
  events.push({ kind: 'fallback', modelId: 'wanted-model', otherModelId: 'chat-model', ts: noon(3) });
  events.push({ kind: 'download', modelId: 'wanted-model', ok: false, ts: noon(4) });
  return events;
}

/** Local noon some days ago: day-based periods then never straddle midnight. */
function noon(daysAgo: number): number {
  const d = new Date();
  d.setHours(12, 0, 0, 0);
  d.setDate(d.getDate() - daysAgo);
  return d.getTime();
}

describe('Analytics panel in a real VS Code: numbers, charts, recommendations, themes', function () {
  this.timeout(180_000);
  let files: FaultServer;
  let session: WorkbenchSession;
  let wb: Workbench;
  let panel: FrameLocator;

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is built (run the tests through npm test)`);
    files = await FaultServer.start();
    const model = (id: string, name: string, file: string, size: number, seed: number) => {
      const f = files.addFile(file, generateData(size, seed));
      return { id, name, version: '1.0.0', task: 'text-generation', format: 'gguf', files: [{ path: file, url: files.url(file), sha256: f.sha256, size }] };
    };
    const workspace = await catalogWorkspace('ma-an-', [
      model('chat-model', 'Chat Model', 'chat.gguf', 2 * MiB, 21),
      model('old-model', 'Old Model', 'old.gguf', 3 * MiB, 22),
      model('wanted-model', 'Wanted Model', 'wanted.gguf', 1 * MiB, 23),
    ], { 'modelAvailability.builtinCatalog': false });
    session = await WorkbenchSession.start({
      vsixes: [VSIX],
      folder: workspace,
      userSettings: {
        'workbench.colorTheme': 'Default Dark Modern',
        // A model downloaded minutes ago counts as recent under the default (30 days); the test downloads it now.
        // (A user setting: cleanup settings are machine-scoped, so a workspace cannot make them delete models.)
        'modelAvailability.cleanup.keepRecentDays': 0,
      },
      prepareUserData: async (userDataDir) => {
        const store = await AnalyticsStore.open({ folder: path.join(userDataDir, 'User', 'globalStorage', 'model-availability.model-availability'), wasmPath: WASM });
        seededEvents().forEach((e) => store.record(e));
        await store.close();
      },
    });
    wb = session.wb;
  });

  after(async () => {
    await session?.close();
    await files?.close();
  });

  afterEach(async function () {
    await session?.screenshotIfFailed(this.currentTest, 'analytics');
  });

  it('downloads two models, then opens the panel from the palette with the recorded usage', async () => {
    const pane = await wb.expandView('Models');
    for (const name of ['Chat Model', 'Old Model']) {
      await wb.runCommand('Model Availability: Download Model…');
      await wb.pickQuickItem(name);
      await wb.waitForTreeRow(pane, new RegExp(`${name}.*ready`), 60_000);
    }
    await wb.runCommand('Model Availability: Open Analytics');
    panel = wb.webview();
    await panel.locator('main[aria-busy="false"]').waitFor({ timeout: 30_000 });
    const usage = panel.locator('#view-usage');
    await usage.getByText('Usage in the last 30 days').waitFor();
    // 30 days (today and the 29 before): Chat Model's 29 grants and 29 generations, Wanted Model's 5 grants.
    assert.equal(await stat(panel, 'Uses'), '63');
    assert.equal(await stat(panel, 'Fallbacks'), '1');
    const chart = await usage.locator('svg.bar-chart').getAttribute('aria-label');
    assert.equal(chart, 'Uses per model: Chat Model 58, Wanted Model 5');
    const rows = await gridRows(usage);
    assert.deepEqual(rows[0], ['Model', 'Uses', 'Requests', 'Fallbacks', 'Generations', 'Last used']);
    assert.deepEqual(rows[1], ['Chat Model', '58', '29', '0', '29', 'yesterday']);
  });

  it('changes the period: 7 days shows less, all time shows the model used two months ago', async () => {
    await choosePeriod('Last 7 days');
    await panel.getByText('Usage in the last 7 days').waitFor();
    await panel.getByRole('status').getByText('Showing the last 7 days.').waitFor();
    assert.equal(await stat(panel, 'Uses'), String(6 * 2 + 3));
    await choosePeriod('All time');
    await panel.getByText('Usage since recording began').waitFor();
    assert.match((await gridRows(panel.locator('#view-usage'))).map((r) => r[0]).join(','), /Old Model/);
    await choosePeriod('Last 30 days');
    await panel.getByText('Usage in the last 30 days').waitFor();
  });

  it('shows performance, storage and recommendations with their numbers', async () => {
    await openTab('Performance');
    const perf = panel.locator('#view-performance');
    await perf.locator('svg.line-chart').waitFor();
    assert.match((await perf.locator('svg.line-chart').getAttribute('aria-label')) ?? '', /^Mean generation duration per day: Chat Model, 29 days, latest 1\.4\d s/);
    assert.deepEqual((await gridRows(perf))[1]?.slice(0, 2), ['Chat Model', '29']);
    // Before and after its update, version by version.
    const versions = perf.locator('.version-comparison[data-model-id="chat-model"]');
    assert.match(await versions.locator('h3').innerText(), /Chat Model: before and after its updates/);
    const byVersion = (await gridRows(versions)).slice(1).map((r) => r.join(' | '));
    assert.equal(byVersion.length, 2, byVersion.join('\n'));
    assert.match(byVersion[0], /^1\.0\.0 \(installed\) \| 23 \| 100\s?% \| 8\d\d ms$/);
    assert.match(byVersion[1], /^1\.1\.0 \| 6 \| 100\s?% \| 1\.4\d s$/);

    await openTab('Storage');
    const storage = panel.locator('#view-storage');
    await storage.locator('svg.bar-chart').waitFor();
    assert.equal(await stat(panel, 'Models on disk'), '5.2 MB');
    assert.deepEqual((await gridRows(storage)).slice(1).map((r) => r[0]), ['Old Model', 'Chat Model']);

    await openTab('Recommendations');
    const recs = panel.locator('#view-recommendations');
    assert.match(await recs.locator('li[data-model-id="old-model"]').innerText(), /Old Model\s+3\.1 MB · rarely used · 1 use, last 60 days ago/);
    assert.match(await recs.locator('li[data-model-id="wanted-model"]').innerText(), /Wanted Model\s+not downloaded · 5 uses in the last 30 days/);
    assert.match(await recs.locator('li[data-model-id="chat-model"]').innerText(), /Chat Model\s+\d+% slower: median 1\.4\d s in the last 7 days, 8\d\d ms in the 30 days before/);
    assert.equal(await panel.locator('vscode-panel-tab#tab-recommendations vscode-badge').innerText(), '3');
  });

  it('looks right in a dark, a light and a high-contrast theme (screenshots of every tab)', async () => {
    for (const theme of ['dark', 'light', 'high-contrast'] as const) {
      if (theme === 'light') await setColorTheme('Light Modern', 'vscode-light');
      if (theme === 'high-contrast') await setColorTheme('Dark High Contrast', 'vscode-high-contrast');
      for (const [i, tab] of TABS.entries()) {
        await openTab(tab);
        await wb.screenshot(`30-analytics-${theme}-${i + 1}-${tab.toLowerCase()}`);
      }
    }
    await setColorTheme('Dark Modern', 'vscode-dark');
  });

  it('comes back after a window reload, on the tab it showed', async () => {
    await openTab('Storage');
    await wb.runCommand('Developer: Reload Window');
    await wb.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    panel = wb.webview();
    await panel.locator('main[aria-busy="false"]').waitFor({ timeout: 60_000 });
    await panel.locator('#view-storage:not([hidden]) .view').waitFor({ timeout: 30_000 });
    assert.equal(await stat(panel, 'Models on disk'), '5.2 MB');
    await wb.screenshot('32-analytics-after-reload');
  });

  it('removes the model a cleanup suggestion names when its Remove button is pressed', async () => {
    await openTab('Recommendations');
    const recs = panel.locator('#view-recommendations');
    await recs.locator('vscode-button[aria-label="Remove Old Model (3.1 MB)"]').click();
    await wb.confirmDialog('Remove');
    await recs.locator('li[data-model-id="old-model"]').waitFor({ state: 'detached', timeout: 30_000 });
    await recs.getByText('Nothing to clean up').waitFor();
    const pane = await wb.expandView('Models');
    await wb.waitForTreeRow(pane, /Old Model.*not downloaded/, 15_000);
    await openTab('Storage');
    assert.deepEqual((await gridRows(panel.locator('#view-storage'))).slice(1).map((r) => r[0]), ['Chat Model']);
    await wb.screenshot('31-analytics-after-remove');
  });

  async function openTab(name: (typeof TABS)[number]): Promise<void> {
    await panel.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
    await panel.locator(`#view-${name.toLowerCase()}:not([hidden]) .view`).waitFor();
  }

  async function choosePeriod(label: string): Promise<void> {
    await panel.locator('vscode-dropdown').click();
    await panel.getByRole('option', { name: label }).click();
  }

  /** Switches the theme from the palette as a person does (the picker's label of "Default Light Modern" is "Light Modern"). */
  async function setColorTheme(theme: string, bodyClass: string): Promise<void> {
    await wb.runCommand('Preferences: Color Theme');
    await wb.pickQuickItem(theme);
    await panel.locator(`body.${bodyClass}`).waitFor({ timeout: 20_000 });
  }
});

/** A labelled number in the panel's summary (a `dt`/`dd` pair) of the visible tab. */
async function stat(panel: FrameLocator, label: string): Promise<string> {
  return panel.locator('vscode-panel-view:not([hidden]) .stat', { has: panel.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd').innerText();
}

/** The text of a data grid's rows, header first. */
async function gridRows(scope: ReturnType<FrameLocator['locator']>): Promise<string[][]> {
  await scope.locator('vscode-data-grid-row').first().waitFor();
  return scope.locator('vscode-data-grid-row').evaluateAll((rows) => rows.map((r) =>
    [...r.querySelectorAll('vscode-data-grid-cell')].map((c) => (c.textContent ?? '').trim())));
}
