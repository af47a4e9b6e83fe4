import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ModelAvailabilityApi } from '../../src/api';

const EXTENSION_ID = 'model-availability.model-availability';

async function api(): Promise<ModelAvailabilityApi> {
  const ext = vscode.extensions.getExtension<ModelAvailabilityApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.activate();
}

function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return folder.uri;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Model Availability in the extension host', () => {
  it('activates and returns the typed API', async () => {
    const a = await api();
    assert.equal(a.apiVersion, 1);
    assert.equal(typeof a.getModels, 'function');
  });

  it('merges the workspace catalog with the built-in one', async () => {
    const ids = (await api()).getModels().map((m) => m.id);
    assert.ok(ids.includes('demo-tiny'), `workspace model listed: ${ids.join(', ')}`);
    assert.ok(ids.includes('qwen2.5-0.5b-instruct-q4'), 'built-in model listed');
  });

  it('registers every contributed command', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
  });

  it('reports a broken catalog in the Problems panel with its JSON path', async () => {
    const folder = workspaceFolder();
    const broken = vscode.Uri.joinPath(folder, 'broken.models.json');
    const diags = await until('diagnostics on broken.models.json', () => {
      const d = vscode.languages.getDiagnostics(broken).filter((x) => x.source === 'Model Availability');
      return d.length > 0 ? d : undefined;
    });
    assert.ok(diags.some((d) => d.message.startsWith("models[0].files[0].path: has a '..' segment")), diags.map((d) => d.message).join('\n'));
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
    assert.ok(diags[0].range.start.line > 0, 'the diagnostic points at the offending line, not the top of the file');
  });

  it('picks up a new model after the workspace catalog changes', async () => {
    const a = await api();
    const file = vscode.Uri.joinPath(workspaceFolder(), '.vscode', 'models.json');
    const original = await vscode.workspace.fs.readFile(file);
    try {
      const doc = JSON.parse(Buffer.from(original).toString('utf8')) as { models: object[] };
      doc.models.push({ id: 'added-in-test', files: [{ path: 'x.bin', url: 'http://127.0.0.1:9/x.bin' }] });
      const changed = new Promise<void>((resolve) => { const d = a.onDidChangeModels(() => { d.dispose(); resolve(); }); });
      await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(doc)));
      await changed;
      await until('the added model', () => a.getModels().find((m) => m.id === 'added-in-test'));
    } finally {
      await vscode.workspace.fs.writeFile(file, original);
    }
  });

  it('runs Refresh from the command API', async () => {
    await vscode.commands.executeCommand('modelAvailability.refresh');
    assert.ok((await api()).getModels().length > 0);
  });
});
