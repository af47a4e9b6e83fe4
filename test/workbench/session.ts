import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { CodeServer, type CodeServerOptions } from './codeServer';
import { launchBrowser, Workbench } from './workbench';

/** A temporary workspace whose `.vscode/models.json` and `.vscode/settings.json` are these. */
export async function catalogWorkspace(prefix: string, models: readonly object[], settings: Record<string, unknown>): Promise<string> {
  const workspace = path.join(await mkdtemp(path.join(os.tmpdir(), prefix)), 'workspace');
  await mkdir(path.join(workspace, '.vscode'), { recursive: true });
  await writeFile(path.join(workspace, '.vscode', 'models.json'), JSON.stringify({ models }, null, 2));
  await writeFile(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings));
  return workspace;
}

/** code-server with the extension installed, a Chromium page on it, and the Models view given the Explorer's height. */
export class WorkbenchSession {
  private constructor(readonly server: CodeServer, private readonly browser: Browser, readonly wb: Workbench) {}

  static async start(options: CodeServerOptions): Promise<WorkbenchSession> {
    const server = new CodeServer(options);
    await server.start();
    const browser = await launchBrowser();
    const wb = await Workbench.open(browser, server.url);
    await wb.collapseView('workspace');
    return new WorkbenchSession(server, browser, wb);
  }

  /** For `afterEach`: a screenshot of what the workbench showed when a test failed. */
  async screenshotIfFailed(test: Mocha.Test | undefined, prefix: string): Promise<void> {
    if (test?.state !== 'failed') return;
    await this.wb.screenshot(`failed-${prefix}-${test.title.replace(/\W+/g, '-')}`);
    // CI keeps only the output: say what was on screen, and what the extension logged last.
    console.log(`      what the workbench showed when "${test.title}" failed:\n${await this.wb.describeScreen()}`);
    console.log(`      the extension's last log lines:\n${await this.server.extensionLogTail(30)}`);
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.stop();
  }
}
