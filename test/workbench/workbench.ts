import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { REPO } from './codeServer';

export const SCREENSHOTS = path.join(REPO, 'test-results', 'workbench');
const CHROMIUM = process.env.MA_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Drives one VS Code workbench page the way a person would: keyboard, clicks, and what is on screen. */
export class Workbench {
  /** The page's console errors and warnings, for a failed test's report. */
  readonly consoleProblems: string[] = [];

  constructor(readonly page: Page) {}

  static async open(browser: Browser, url: string, colorScheme: 'dark' | 'light' = 'dark'): Promise<Workbench> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme });
    const wb = new Workbench(page);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') wb.consoleProblems.push(`${m.type()}: ${m.text().slice(0, 300)}`); });
    page.on('pageerror', (e) => wb.consoleProblems.push(`page error: ${e.message.slice(0, 300)}`));
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // The Explorer is ready once the folder's tree shows.
    await page.waitForSelector('.explorer-folders-view', { timeout: 60_000 });
    return wb;
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The header of an Explorer view, found by its title. */
  viewHeader(title: string): Locator {
    return this.page.locator('.pane-header', { has: this.page.locator('h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) });
  }

  async expandView(title: string): Promise<Locator> {
    const header = this.viewHeader(title);
    await header.waitFor({ timeout: 60_000 });
    // The extension may expand the view itself at the same moment (its first look): click until it is open.
    for (let i = 0; i < 3 && (await header.getAttribute('aria-expanded')) !== 'true'; i++) {
      // On the twistie, away from the title's actions, whose hovers would then cover the rows.
      await header.click({ position: { x: 8, y: 8 } });
      await this.page.mouse.move(700, 450);
      await this.page.waitForTimeout(300);
    }
    const pane = this.page.locator('.pane', { has: header });
    await pane.locator('.pane-body').waitFor();
    return pane;
  }

  async collapseView(title: string): Promise<void> {
    const header = this.viewHeader(title);
    if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
  }

  /** The labels of the rows a tree view shows now. */
  async treeRows(pane: Locator): Promise<string[]> {
    return pane.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => {
      // Label and description are separate elements that innerText runs together.
      const parts = [...r.querySelectorAll('.label-name, .label-description')].map((e) => (e.textContent ?? '').trim());
      return parts.join(' ').replace(/\s+/g, ' ').trim();
    }));
  }

  /** Toasts, dialog, quick input and the Models rows on screen, one per line, for a failed test's report. */
  async describeScreen(): Promise<string> {
    const texts = (selector: string) => this.page.locator(selector).evaluateAll((els) => els
      .map((e) => e as unknown as { offsetParent: unknown; innerText: string })
      .filter((e) => e.offsetParent !== null)
      .map((e) => e.innerText.replace(/\s+/g, ' ').trim()));
    const lines = [
      ...(await texts('.notification-toast')).map((t) => `toast: ${t}`),
      ...(await texts('.monaco-dialog-box')).map((t) => `dialog: ${t}`),
      ...(await texts('.quick-input-widget .quick-input-title, .quick-input-widget .monaco-list-row')).map((t) => `quick input: ${t}`),
      ...(await this.treeRows(this.page.locator('.pane', { has: this.viewHeader('Models') })).catch(() => [])).map((t) => `Models: ${t}`),
      `focus: ${await this.page.evaluate('document.activeElement?.className ?? ""')}`,
      ...this.consoleProblems.slice(-15).map((p) => `console ${p}`),
    ];
    return lines.map((l) => `        ${l}`).join('\n');
  }

  async waitForTreeRow(pane: Locator, text: string | RegExp, timeout = 30_000): Promise<Locator> {
    const row = pane.locator('.monaco-list-row', { hasText: text }).first();
    await row.waitFor({ timeout });
    return row;
  }

  /** Runs a command from the Command Palette by its title, as a person types it. */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    await this.clickQuickItem(title);
  }

  /** Clicks the quick pick entry whose label is exactly `label` (Enter would take whichever ranks first). */
  private async clickQuickItem(label: string): Promise<void> {
    const item = this.page.locator('.quick-input-list .monaco-list-row .label-name').getByText(label, { exact: true }).first();
    await item.waitFor({ timeout: 15_000 });
    await item.click();
  }

  /** Picks an item in the open quick pick by typing its label, as a person would. */
  async pickQuickItem(label: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(label);
    await this.clickQuickItem(label);
  }

  /** Clicks one of a tree row's inline actions (they appear on hover). */
  async clickInlineAction(row: Locator, title: string): Promise<void> {
    await row.hover();
    await row.locator(`.action-label[aria-label="${title}"]`).click();
  }

  /** Right-clicks a tree row and picks this entry of its context menu. */
  async clickContextMenuItem(row: Locator, title: string): Promise<void> {
    await row.click({ button: 'right' });
    const item = this.page.locator('.context-view .monaco-menu .action-menu-item', { hasText: title }).first();
    await item.waitFor({ timeout: 10_000 });
    // The menu acts on mouse-up over an item it has highlighted: hover first, as a hand would.
    await item.hover();
    await item.click();
  }

  /** Answers a modal dialog by pressing the button with this label. */
  async confirmDialog(button: string): Promise<void> {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.locator('.monaco-button', { hasText: new RegExp(`^${button}$`) }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  statusItem(text: string | RegExp): Locator {
    return this.page.locator('.statusbar-item', { hasText: text });
  }

  notification(text: string | RegExp): Locator {
    return this.page.locator('.notification-toast', { hasText: text });
  }

  /** Every notification of this session, also those VS Code has already hidden, from the notification center. */
  async notificationHistory(): Promise<string[]> {
    await this.runCommand('Notifications: Show Notifications');
    const center = this.page.locator('.notifications-center');
    await center.waitFor();
    const items = await center.locator('.notification-list-item').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
    await this.page.keyboard.press('Escape');
    return items;
  }

  async problems(): Promise<string[]> {
    await this.runCommand('Problems: Focus on Problems View');
    const panel = this.page.locator('.markers-panel');
    await panel.waitFor();
    return panel.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => (r.textContent ?? '').replace(/\s+/g, ' ').trim()));
  }

  async notifications(): Promise<string[]> {
    return this.page.locator('.notification-toast').evaluateAll((ts) => ts.map((t) => (t.textContent ?? '').replace(/\s+/g, ' ').trim()));
  }

  /**
   * The page inside a webview's two iframes. Webviews are overlaid on the workbench, not nested in their
   * editor group: this takes the first loaded one (tests open one at a time).
   */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
  }

  /** The workbench's colour theme kind, from the classes VS Code puts on the workbench. */
  async themeKind(): Promise<'light' | 'dark' | 'hc'> {
    const classes = (await this.page.locator('.monaco-workbench').getAttribute('class')) ?? '';
    if (/\bhc-(black|light)\b/.test(classes)) return 'hc';
    return /\bvs-dark\b/.test(classes) ? 'dark' : 'light';
  }
}
