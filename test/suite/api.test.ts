import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ModelAvailabilityApi, ModelSummary } from '../../src/api';
import { FaultServer, generateData } from '../support/faultServer';
import { suiteNotes } from './notes';

const EXTENSION_ID = 'model-availability.model-availability';
const MiB = 1024 * 1024;

async function api(): Promise<ModelAvailabilityApi> {
  const ext = vscode.extensions.getExtension<ModelAvailabilityApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  return ext.activate();
}

function modelOf(a: ModelAvailabilityApi, id: string): ModelSummary | undefined {
  return a.getModels().find((m) => m.id === id);
}

function whenState(a: ModelAvailabilityApi, id: string, states: readonly string[]): Promise<ModelSummary> {
  return new Promise((resolve) => {
    const check = () => {
      const m = modelOf(a, id);
      if (m && states.includes(m.state)) { sub.dispose(); resolve(m); return true; }
      return false;
    };
    const sub = a.onDidChangeModels(check);
    check();
  });
}

describe('The API other extensions use (requestModel and leases)', function () {
  this.timeout(90_000);
  let files: FaultServer;
  let a: ModelAvailabilityApi;
  let catalogFile: vscode.Uri;
  let original: Uint8Array;

  before(async () => {
    a = await api();
    files = await FaultServer.start();
    const small = files.addFile('api-small.gguf', generateData(256 * 1024, 21));
    // One connection, so the server's per-connection cap is the download's rate (with several, the
    // engine splits even one piece between them).
    await vscode.workspace.getConfiguration('modelAvailability').update('download.connections', 1, vscode.ConfigurationTarget.Global);
    // 12 s at 1 MiB/s: the first estimate (2 s after the bytes begin) is then about 10 s, which whole seconds
    // round by at most 5 %.
    const big = files.addFile('api-big.gguf', generateData(12 * MiB, 22));
    const mock = files.addFile('api-mock.gguf', generateData(2 * MiB, 23));
    const slow = files.addFile('api-slow.gguf', generateData(8 * MiB, 24));
    const entry = (id: string, f: { name: string; sha256: string; data: Buffer }, extra: object) => ({
      id, name: id, version: '1.0.0', task: 'text-generation', family: 'llama', format: 'gguf',
      files: [{ path: f.name, url: files.url(f.name), sha256: f.sha256, size: f.data.length }], ...extra,
    });
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder);
    catalogFile = vscode.Uri.joinPath(folder, '.vscode', 'models.json');
    original = await vscode.workspace.fs.readFile(catalogFile);
    const doc = JSON.parse(Buffer.from(original).toString('utf8')) as { models: object[] };
    doc.models.push(
      entry('api-small', small, { quality: 0.5, quantization: 'Q4_K_M' }),
      entry('api-big', big, { quality: 0.7, quantization: 'Q4_K_M', alternatives: ['api-small'] }),
      entry('api-mock', mock, { task: 'speech' }),
      entry('api-slow', slow, { task: 'vision' }),
    );
    const loaded = new Promise<void>((resolve) => { const d = a.onDidChangeModels(() => { if (modelOf(a, 'api-slow')) { d.dispose(); resolve(); } }); });
    await vscode.workspace.fs.writeFile(catalogFile, Buffer.from(JSON.stringify(doc)));
    await loaded;
  });

  after(async () => {
    await vscode.workspace.getConfiguration('modelAvailability').update('download.connections', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.fs.writeFile(catalogFile, original);
    await files.close();
  });

  it('grants a ready model as "ready" with its paths', async () => {
    await vscode.commands.executeCommand('modelAvailability.download', 'api-small');
    await whenState(a, 'api-small', ['ready']);
    const lease = await a.requestModel('api-small');
    try {
      assert.equal(lease.mode, 'ready');
      assert.equal(lease.modelId, 'api-small');
      assert.equal(lease.paths.length, 1);
      assert.ok(lease.paths[0].endsWith('api-small.gguf'));
      assert.equal(a.getStatus().leases >= 1, true);
    } finally {
      lease.release();
    }
  });

  it('grants a compatible ready model for a missing one, with the expected score and quality difference', async () => {
    // The rate the next test's estimate is checked against; changing it mid-download would skew it.
    files.bytesPerSecondPerConnection = 1 * MiB;
    const lease = await a.requestModel('api-big', { fallback: 'alternative' });
    try {
      assert.equal(lease.mode, 'alternative');
      assert.equal(lease.modelId, 'api-small');
      assert.equal(lease.requestedId, 'api-big');
      // explicit alternative 35 + family 20 + format 15 + quantization 10 + size 10 × 0.25 MiB / 12 MiB.
      assert.equal(lease.compatibility, 80);
      assert.equal(lease.qualityDelta, -0.2);
      assert.equal(lease.upgrade?.modelId, 'api-big');
    } finally {
      lease.release();
    }
  });

  it('queues: resolves when the download finishes, and its first wait estimate is within 15% of the actual wait', async () => {
    // api-big's download was started by the alternative request above, at 1 MiB/s: about 12 s.
    let first: { eta: number; at: number } | undefined;
    const lease = await a.requestModel('api-big', {
      fallback: 'queue',
      onWaitEstimate: (eta) => { if (!first && eta >= 3) first = { eta, at: Date.now() }; },
    });
    try {
      assert.equal(lease.mode, 'ready');
      assert.ok(first, 'a wait estimate was reported');
      const actual = (Date.now() - first.at) / 1000;
      const error = Math.abs(first.eta - actual) / actual;
      suiteNotes.push(`queue wait: first estimate ${first.eta} s, actual ${actual.toFixed(1)} s, off by ${(error * 100).toFixed(1)}%`);
      assert.ok(error <= 0.15, `estimate ${first.eta} s vs actual ${actual.toFixed(1)} s (${(error * 100).toFixed(1)}% off)`);
    } finally {
      lease.release();
    }
  });

  it('grants a mock that upgrades when the real model is ready', async () => {
    files.bytesPerSecondPerConnection = 1 * MiB;
    const lease = await a.requestModel('api-mock', { fallback: 'mock' });
    try {
      assert.equal(lease.mode, 'mock');
      assert.deepEqual(lease.paths, []);
      assert.equal(lease.upgrade?.modelId, 'api-mock');
      const grant = await new Promise<{ modelId: string; paths: readonly string[] }>((resolve) => lease.onDidUpgrade(resolve));
      assert.equal(grant.modelId, 'api-mock');
      assert.equal(lease.mode, 'ready');
      assert.equal(lease.paths.length, 1);
    } finally {
      lease.release();
    }
  });

  it('pauses a running download during a generation and resumes it after', async () => {
    files.bytesPerSecondPerConnection = 256 * 1024;
    const lease = await a.requestModel('api-small');
    try {
      await vscode.commands.executeCommand('modelAvailability.download', 'api-slow');
      await whenState(a, 'api-slow', ['downloading']);
      const gen = lease.beginGeneration();
      await whenState(a, 'api-slow', ['paused']);
      assert.equal(a.getStatus().generationsRunning, 1);
      gen.end({ ok: true, units: 42 });
      await whenState(a, 'api-slow', ['downloading', 'ready']);
      assert.equal(a.getStatus().generationsRunning, 0);
    } finally {
      lease.release();
      files.bytesPerSecondPerConnection = 0;
      await whenState(a, 'api-slow', ['ready']);
    }
  });
});
