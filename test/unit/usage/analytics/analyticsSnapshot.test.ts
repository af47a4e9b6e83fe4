import * as assert from 'node:assert/strict';
import type { Database } from 'sql.js';
import { availabilityOf, buildAnalyticsSnapshot, type ModelFacts, type SnapshotInputs } from '../../../../src/engine/usage/analytics/analyticsSnapshot';
import { planCleanup, type StoragePolicy } from '../../../../src/engine/usage/analytics/cleanupPolicy';
import { mergeEvents } from '../../../../src/engine/usage/analytics/eventMerge';
import type { AnalyticsEvent } from '../../../../src/engine/usage/analytics/eventTypes';
import { localDay } from '../../../../src/engine/usage/analytics/period';
import { migrate } from '../../../../src/engine/usage/analytics/schema';
import { usageSummary } from '../../../../src/engine/usage/analytics/usageQueries';
import { isHostToWebview } from '../../../../src/protocol/analyticsProtocol';
import { DAY, localNoon, sql } from './analyticsFixtures';

const NOW = localNoon();
const MB = 1024 * 1024;
const VERIFIED = [{ path: 'm.gguf', localPath: '/store/m.gguf', state: 'ready' as const, bytesOnDisk: 0, verifiedAt: new Date(NOW - 100 * DAY).toISOString() }];

async function seeded(events: (AnalyticsEvent & { ts: number })[]): Promise<Database> {
  const db = new (await sql()).Database();
  migrate(db);
  mergeEvents(db, 'test', events.map((e, i) => ({ ...e, seq: i + 1 })));
  return db;
}

function times<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

function model(id: string, state: ModelFacts['state'], bytesOnDisk: number, files: ModelFacts['files'] = VERIFIED): ModelFacts {
  return { id, name: `${id} name`, state, bytesOnDisk, files };
}

const POLICY: StoragePolicy = { keepRecentDays: 30, keepFrequentUses: 20, pinned: [] };

const MODELS = [
  model('chat', 'ready', 400 * MB),
  model('old', 'ready', 900 * MB),
  model('pinned-old', 'ready', 50 * MB),
  model('wanted', 'missing', 0, []),
  model('fetching', 'downloading', 10 * MB, []),
];

/** The plan as the host makes it: ready models, their use ever, the policy. */
function plan(db: Database | undefined, policy: StoragePolicy = POLICY) {
  const usage = db ? usageSummary(db, NOW, 'all') : new Map();
  const installed = MODELS.filter((m) => m.state === 'ready').map((m) => ({
    modelId: m.id, sizeBytes: m.bytesOnDisk, lastUsed: usage.get(m.id)?.lastUsed, useCount: usage.get(m.id)?.useCount ?? 0, installedAt: NOW - 100 * DAY,
  }));
  return planCleanup(installed, policy, NOW);
}

function inputs(db: Database | undefined, overrides: Partial<SnapshotInputs> = {}): SnapshotInputs {
  return { db, recordingEnabled: true, now: NOW, period: 30, freeBytes: 10_000 * MB, models: MODELS, cleanup: plan(db), ...overrides };
}

/** `chat` is used daily and got slower this week; `old` was used once, 60 days ago; `wanted` is used but not downloaded. */
async function realisticDb(): Promise<Database> {
  return seeded([
    ...times(30, (i) => ({ kind: 'generation' as const, modelId: 'chat', ok: true, durationMs: 1000 + (i % 3) * 10, units: 100, ts: NOW - (8 + i) * DAY })),
    ...times(10, (i) => ({ kind: 'generation' as const, modelId: 'chat', ok: true, durationMs: 2000 + i, units: 100, ts: NOW - (i % 7) * DAY })),
    ...times(5, () => ({ kind: 'request' as const, modelId: 'chat', ts: NOW - DAY })),
    { kind: 'grant', modelId: 'old', ts: NOW - 60 * DAY },
    ...times(4, () => ({ kind: 'grant' as const, modelId: 'wanted', ts: NOW - 2 * DAY })),
    { kind: 'fallback', modelId: 'wanted', otherModelId: 'chat', ts: NOW - 2 * DAY },
    { kind: 'download', modelId: 'chat', ok: true, bytes: 400 * MB, ts: NOW - 3 * DAY },
    { kind: 'download', modelId: 'wanted', ok: false, ts: NOW - 2 * DAY },
    { kind: 'download', modelId: 'fetching', ok: true, ts: NOW - DAY },
  ]);
}

describe('analytics snapshot', () => {
  it('shows usage (not downloads), success rates and performance of the chosen period, with catalog names', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb()));
    assert.equal(snap.recording, 'on');
    assert.deepEqual(snap.usage.map((u) => [u.modelId, u.name, u.uses, u.requests, u.fallbacks]), [
      ['chat', 'chat name', 32, 5, 0],
      ['wanted', 'wanted name', 4, 0, 1],
    ]);
    assert.deepEqual(snap.rates.downloads, { succeeded: 2, failed: 1, rate: 2 / 3 });
    assert.deepEqual(snap.rates.generations, { succeeded: 32, failed: 0, rate: 1 });
    const chat = snap.performance.find((p) => p.modelId === 'chat');
    assert.equal(chat?.generations, 32);
    // 3200 units in 22 generations of ~1 s and 10 of ~2 s.
    assert.equal(Math.round(chat?.unitsPerSecond ?? 0), 76);
    // 7 days: only this week's slow generations.
    const week = buildAnalyticsSnapshot(inputs(await realisticDb(), { period: 7 }));
    assert.equal(week.performance[0]?.medianMs, 2004.5);
    assert.equal(week.usage.find((u) => u.modelId === 'old'), undefined);
    assert.ok(buildAnalyticsSnapshot(inputs(await realisticDb(), { period: 'all' })).usage.some((u) => u.modelId === 'old'));
  });

  it('charts mean duration per day for used models, oldest day first', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb(), { period: 7 }));
    assert.deepEqual(snap.durations.map((s) => s.modelId), ['chat']);
    const days = snap.durations[0].points.map((p) => p.day);
    assert.deepEqual(days, [...days].sort((a, b) => a - b));
    assert.equal(days.at(-1), localDay(NOW));
    assert.ok(snap.durations[0].points.every((p) => p.meanMs >= 2000));
  });

  it('measures storage per model from the store, largest first, with free space', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb()));
    assert.deepEqual(snap.storage.models.map((m) => [m.modelId, m.bytes, m.state]), [
      ['old', 900 * MB, 'ready'], ['chat', 400 * MB, 'ready'], ['pinned-old', 50 * MB, 'ready'], ['fetching', 10 * MB, 'downloading'],
    ]);
    assert.equal(snap.storage.totalBytes, 1360 * MB);
    assert.equal(snap.storage.freeBytes, 10_000 * MB);
    assert.equal(buildAnalyticsSnapshot(inputs(await realisticDb(), { freeBytes: undefined })).storage.freeBytes, null);
  });

  it('shows the cleanup plan with names and reasons, the same whatever the chart period', async () => {
    const db = await realisticDb();
    const cleanup = plan(db, { ...POLICY, pinned: ['pinned-old'] });
    const snap = buildAnalyticsSnapshot(inputs(db, { cleanup, period: 7 }));
    assert.deepEqual(snap.cleanup.proposals, [{ modelId: 'old', name: 'old name', bytes: 900 * MB, lastUsed: NOW - 60 * DAY, uses: 1, overLimit: false, version: null }]);
    assert.equal(snap.cleanup.freedBytes, 900 * MB);
    assert.deepEqual(buildAnalyticsSnapshot(inputs(db, { cleanup, period: 'all' })).cleanup, snap.cleanup);
  });

  it('tells "nothing to clean up because nothing was used" from "everything was used": usageRecorded', async () => {
    const empty = buildAnalyticsSnapshot(inputs(await seeded([])));
    assert.equal(empty.cleanup.usageRecorded, false);
    // Downloads are not usage.
    const downloadedOnly = await seeded([{ kind: 'download', modelId: 'chat', ok: true, bytes: 1, ts: NOW - DAY }]);
    assert.equal(buildAnalyticsSnapshot(inputs(downloadedOnly)).cleanup.usageRecorded, false);
    assert.equal(buildAnalyticsSnapshot(inputs(undefined)).cleanup.usageRecorded, false);
    const used = buildAnalyticsSnapshot(inputs(await realisticDb()));
    assert.equal(used.cleanup.usageRecorded, true);
    assert.ok(isHostToWebview({ type: 'snapshot', snapshot: used }), 'the message guard accepts it');
  });

  it('marks models proposed only to get under the storage limit', async () => {
    const db = await realisticDb();
    const snap = buildAnalyticsSnapshot(inputs(db, { cleanup: plan(db, { ...POLICY, pinned: ['pinned-old'], maxStorageGB: 0.2 }) }));
    assert.deepEqual(snap.cleanup.proposals.map((p) => [p.modelId, p.overLimit]), [['old', false], ['chat', true]]);
  });

  it('suggests downloading frequently used missing models, not ones already downloading', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb()));
    assert.deepEqual(snap.preload, [{ modelId: 'wanted', name: 'wanted name', state: 'missing', action: 'download', uses: 4, lastUsed: NOW - 2 * DAY }]);
    assert.equal(availabilityOf({ state: 'downloading', files: [] }), undefined);
    assert.equal(availabilityOf({ state: 'paused', files: [] }), 'missing');
    assert.equal(availabilityOf({ state: 'ready', files: [{ ...VERIFIED[0], verifiedAt: undefined }] }), 'unverified');
  });

  it('raises an alert for a model more than 25% slower this week', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb()));
    assert.equal(snap.alerts.length, 1);
    assert.equal(snap.alerts[0].modelId, 'chat');
    assert.equal(snap.alerts[0].kind, 'slower');
    assert.equal(snap.alerts[0].name, 'chat name');
    assert.ok(snap.alerts[0].change > 0.9);
  });

  it('without a database still shows storage and cleanup by install date, and says why usage is empty', () => {
    const snap = buildAnalyticsSnapshot(inputs(undefined));
    assert.equal(snap.recording, 'unavailable');
    assert.deepEqual([snap.usage, snap.performance, snap.preload, snap.alerts], [[], [], [], []]);
    assert.equal(snap.storage.models.length, 4);
    assert.deepEqual(snap.cleanup.proposals.map((p) => [p.modelId, p.lastUsed]), [['chat', null], ['old', null], ['pinned-old', null]]);
    assert.equal(buildAnalyticsSnapshot(inputs(undefined, { recordingEnabled: false })).recording, 'unavailable');
  });

  it('with recording off, says so and still shows what was recorded', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb(), { recordingEnabled: false }));
    assert.equal(snap.recording, 'off');
    assert.ok(snap.usage.length > 0);
  });

  it('is a valid protocol message, as the webview checks it on arrival', async () => {
    const snap = buildAnalyticsSnapshot(inputs(await realisticDb()));
    // postMessage sends JSON: what arrives is what survives a round trip.
    const arrived: unknown = JSON.parse(JSON.stringify({ type: 'snapshot', snapshot: snap }));
    assert.ok(isHostToWebview(arrived));
    assert.ok(isHostToWebview(JSON.parse(JSON.stringify({ type: 'snapshot', snapshot: buildAnalyticsSnapshot(inputs(undefined)) }))));
    const tampered = JSON.parse(JSON.stringify({ type: 'snapshot', snapshot: { ...snap, usage: [{ ...snap.usage[0], uses: 'many' }] } })) as unknown;
    assert.equal(isHostToWebview(tampered), false);
  });

  it('compares the versions of an updated model, and lists the updates available and the rollbacks made with their reasons', async () => {
    const db = await seeded([
      ...times(6, (i) => ({ kind: 'generation' as const, modelId: 'chat', version: '1.0.0', ok: true, durationMs: 1000 + i, ts: NOW - (15 - i) * DAY })),
      ...times(4, (i) => ({ kind: 'generation' as const, modelId: 'chat', version: '1.1.0', ok: i % 2 === 0, durationMs: 2000, ts: NOW - (3 - i) * DAY })),
      ...times(3, () => ({ kind: 'generation' as const, modelId: 'old', version: '1.0.0', ok: true, durationMs: 500, ts: NOW - DAY })),
    ]);
    const models = MODELS.map((m) => (m.id === 'chat' ? { ...m, installedVersion: '1.1.0' } : m));
    const at = new Date(NOW - DAY).toISOString();
    const snap = buildAnalyticsSnapshot(inputs(db, {
      models,
      updates: [{ id: 'old', from: '1.0.0', to: '1.0.0+9a67fe2', bytesToDownload: 5 * MB, source: 'hub' }],
      rollbacks: [{ id: 'chat', from: '1.2.0', to: '1.1.0', reason: '3 of 5 generations failed with 1.2.0', automatic: true, at }],
    }));
    assert.deepEqual(snap.versions, [{
      modelId: 'chat', name: 'chat name', versions: [
        { version: '1.0.0', generations: 6, successRate: 1, medianMs: 1002.5, installed: false },
        { version: '1.1.0', generations: 4, successRate: 0.5, medianMs: 2000, installed: true },
      ],
    }], 'only a model that ran on more than one version, oldest version first');
    assert.deepEqual(snap.updates, [{ modelId: 'old', name: 'old name', from: '1.0.0', to: '1.0.0+9a67fe2', bytesToDownload: 5 * MB, source: 'hub' }]);
    assert.deepEqual(snap.rollbacks, [{ modelId: 'chat', name: 'chat name', from: '1.2.0', to: '1.1.0', reason: '3 of 5 generations failed with 1.2.0', automatic: true, at: Date.parse(at) }]);
    assert.equal(buildAnalyticsSnapshot(inputs(db, { period: 7, models })).versions.length, 0, 'in the last 7 days chat ran on one version only');

    const arrived: unknown = JSON.parse(JSON.stringify({ type: 'snapshot', snapshot: snap }));
    assert.ok(isHostToWebview(arrived));
    const tampered = (change: object): unknown => JSON.parse(JSON.stringify({ type: 'snapshot', snapshot: { ...snap, ...change } }));
    assert.equal(isHostToWebview(tampered({ rollbacks: [{ ...snap.rollbacks[0], reason: 3 }] })), false);
    assert.equal(isHostToWebview(tampered({ updates: [{ ...snap.updates[0], source: 'elsewhere' }] })), false);
    assert.equal(isHostToWebview(tampered({ versions: [{ ...snap.versions[0], versions: [{ version: '1.0.0' }] }] })), false);
    assert.equal(isHostToWebview(tampered({ versions: undefined })), false, 'a snapshot from before updates is refused, not half-shown');
  });
});
