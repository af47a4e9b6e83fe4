// Runs the extension-host suite in a desktop VS Code downloaded by @vscode/test-electron (on machines
// that can reach its download site; these CI machines run the same suite inside code-server instead).
import { runTests } from '@vscode/test-electron';
import { cp, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSuite } from '../support/buildSuite.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const suite = await buildSuite();
const workspace = await mkdtemp(path.join(os.tmpdir(), 'ma-electron-'));
await cp(path.join(repo, 'test', 'workbench', 'fixtures', 'workspace'), workspace, { recursive: true });
try {
  await runTests({
    // An installed VS Code, where the download site cannot be reached.
    ...(process.env.VSCODE_EXECUTABLE_PATH && { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH }),
    extensionDevelopmentPath: repo,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (err) {
  console.error('Extension-host tests failed:', err);
  if (/ENOTFOUND|ECONNREFUSED|EAI_AGAIN/.test(String(err))) {
    console.error('VS Code could not be downloaded. Set VSCODE_EXECUTABLE_PATH to an installed VS Code, or run npm test, which runs the same suite inside code-server.');
  }
  process.exit(1);
}
