import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { AvailabilityEngine } from '../../../src/engine/availability/engine';
import { ModelRequests, type FallbackChooser, type RequestSettings } from '../../../src/engine/usage/requests/modelRequests';
import type { UsageEvent } from '../../../src/engine/usage/requests/usageEvents';
import { urlModel, waitFor } from '../../support/engineFixtures';
import { FaultServer, generateData } from '../../support/faultServer';

const KiB = 1024;

describe('ModelRequests: leases and fallback strategies', () => {
  let server: FaultServer;
  let store: string;
  let engine: AvailabilityEngine;
  let events: UsageEvent[];
  let settings: RequestSettings;
  let chooser: FallbackChooser;
  let requests: ModelRequests;

  function chat(id: string, file: string, extra: Partial<ModelEntry>): ModelEntry {
    return { ...urlModel(server, id, [file]), task: 'text-generation', family: 'llama', format: 'gguf', ...extra };
  }

  beforeEach(async () => {
    server = await FaultServer.start();
    server.addFile('big.gguf', generateData(512 * KiB, 1));
    server.addFile('small.gguf', generateData(64 * KiB, 2));
    server.addFile('other.bin', generateData(16 * KiB, 3));
    store = await mkdtemp(path.join(os.tmpdir(), 'ma-req-'));
    const models = [
      chat('big', 'big.gguf', { quality: 0.7, alternatives: ['small'], quantization: 'Q4_K_M' }),
      chat('small', 'small.gguf', { quality: 0.5, quantization: 'Q4_K_M' }),
      { ...urlModel(server, 'embed', ['other.bin']), task: 'feature-extraction' },
    ];
    engine = await AvailabilityEngine.create({ storeRoot: store, models, settings: { pieceSizeBytes: 64 * KiB, retryBaseDelayMs: 10 }, persistQueue: false });
    events = [];
    settings = { strategy: 'alternative', minCompatibility: 60, autoDownload: true };
    chooser = async () => undefined;
    requests = new ModelRequests(engine, () => settings, (c) => chooser(c), { record: (e) => events.push(e) });
  });

  afterEach(async () => {
    requests.dispose();
    // Stop background downloads that fallbacks started before their files are deleted.
    engine.downloads.pauseAll();
    await engine.whenIdle();
    engine.dispose();
    await server.close();
    await rm(store, { recursive: true, force: true });
  });

  async function download(id: string): Promise<void> {
    engine.download([id]);
    await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState(id)?.state === 'ready');
  }

  it('grants a ready model with its local paths', async () => {
    await download('small');
    const lease = await requests.requestModel('small');
    assert.equal(lease.mode, 'ready');
    assert.equal(lease.modelId, 'small');
    assert.equal(lease.requestedId, 'small');
    assert.equal(lease.paths.length, 1);
    assert.ok(lease.paths[0].endsWith(path.join('weights', 'small.gguf')));
    assert.deepEqual(events.map((e) => e.kind), ['request', 'grant']);
  });

  it('grants a compatible ready alternative with its score and quality difference, and upgrades when the model arrives', async () => {
    await download('small');
    server.bytesPerSecondPerConnection = 256 * KiB;
    const lease = await requests.requestModel('big', { fallback: 'alternative' });
    assert.equal(lease.mode, 'alternative');
    assert.equal(lease.modelId, 'small');
    // explicit alternative 35 + family 20 + format 15 + quantization 10 + size 10 × 64/512.
    assert.equal(lease.compatibility, 81);
    assert.equal(lease.qualityDelta, -0.2);
    assert.equal(lease.upgrade?.modelId, 'big');
    const upgraded = new Promise((resolve) => lease.onDidUpgrade(resolve));
    await upgraded;
    assert.equal(lease.modelId, 'big');
    assert.equal(lease.mode, 'ready');
    assert.ok(events.some((e) => e.kind === 'fallback' && e.mode === 'alternative' && e.compatibility === 81));
  });

  it('refuses an alternative below the minimum compatibility with a clear next step', async () => {
    await download('embed');
    await assert.rejects(requests.requestModel('big', { fallback: 'alternative' }), /no ready model is compatible enough \(minimum 60\)/);
  });

  it('queues: resolves when the download is verified, reporting wait estimates', async () => {
    // About 4 s: the speed, and so an estimate, is known 2 s after the bytes begin.
    server.bytesPerSecondPerConnection = 128 * KiB;
    const estimates: number[] = [];
    const lease = await requests.requestModel('big', { fallback: 'queue', onWaitEstimate: (s) => estimates.push(s) });
    assert.equal(lease.mode, 'ready');
    assert.equal(engine.getModelState('big')?.state, 'ready');
    assert.ok(estimates.length > 0, 'at least one wait estimate was reported');
  });

  it('cancels a queued request through its AbortSignal', async () => {
    server.bytesPerSecondPerConnection = 64 * KiB;
    const ac = new AbortController();
    const pending = requests.requestModel('big', { fallback: 'queue', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(pending, { name: 'AbortError' });
  });

  it('mocks with an upgrade path and fires when the real model is ready', async () => {
    server.bytesPerSecondPerConnection = 512 * KiB;
    const lease = await requests.requestModel('big', { fallback: 'mock' });
    assert.equal(lease.mode, 'mock');
    assert.deepEqual(lease.paths, []);
    assert.equal(lease.upgrade?.modelId, 'big');
    const grant = await new Promise<{ modelId: string; paths: readonly string[] }>((resolve) => lease.onDidUpgrade(resolve));
    assert.equal(grant.modelId, 'big');
    assert.equal(grant.paths.length, 1);
    assert.equal(lease.mode, 'ready');
  });

  it('asks the chooser under "ask" and follows its choice', async () => {
    await download('small');
    let offered: string[] = [];
    chooser = async (c) => { offered = c.alternatives.map((a) => a.model.id); return { strategy: 'alternative', alternativeId: 'small' }; };
    settings = { ...settings, strategy: 'ask' };
    const lease = await requests.requestModel('big');
    assert.deepEqual(offered, ['small']);
    assert.equal(lease.modelId, 'small');
    chooser = async () => undefined;
    await assert.rejects(requests.requestModel('big'), /was cancelled/);
  });

  it('tracks leases and generations: in use until released; downloads pause during a generation', async () => {
    await download('small');
    const lease = await requests.requestModel('small');
    assert.equal(engine.uses.reasonAgainst('small'), 'in use by 1 lease');
    server.bytesPerSecondPerConnection = 128 * KiB;
    engine.download(['big']);
    await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('big')?.state === 'downloading');
    const gen = lease.beginGeneration();
    await waitFor((l) => engine.onDidChangeModel(l), () => engine.getModelState('big')?.state === 'paused');
    assert.equal(engine.uses.reasonAgainst('small'), 'a generation is running');
    gen.end({ ok: true, durationMs: 1234, units: 50 });
    await waitFor((l) => engine.onDidChangeModel(l), () => ['downloading', 'ready'].includes(engine.getModelState('big')?.state ?? ''));
    lease.release();
    assert.equal(engine.uses.reasonAgainst('small'), undefined);
    assert.throws(() => lease.beginGeneration(), /was released/);
    const gen1 = events.find((e) => e.kind === 'generation');
    // With the version it ran on, so an update's results can be compared with the previous version's.
    assert.deepEqual(gen1, { kind: 'generation', modelId: 'small', version: '1.0.0', ok: true, durationMs: 1234, units: 50 });
    assert.ok(events.some((e) => e.kind === 'release' && e.modelId === 'small'));
  });

  it('rejects an unknown id with a clear message', async () => {
    await assert.rejects(requests.requestModel('nope'), /no catalog lists a model with id 'nope'/);
  });
});
