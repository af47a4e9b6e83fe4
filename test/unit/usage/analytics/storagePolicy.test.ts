import * as assert from 'node:assert/strict';
import { planCleanup, storageImpact, type InstalledModel, type StoragePolicy } from '../../../../src/engine/usage/analytics/cleanupPolicy';
import { preloadSuggestions, type ModelAvailabilityState } from '../../../../src/engine/usage/analytics/preloadSuggestions';
import { DAY, localNoon } from './analyticsFixtures';

const NOW = localNoon();
const GB = 1024 ** 3;
const policy: StoragePolicy = { keepRecentDays: 30, keepFrequentUses: 10, pinned: [] };

function model(modelId: string, sizeGB: number, lastUsedDaysAgo: number | undefined, useCount: number, installedDaysAgo?: number): InstalledModel {
  return {
    modelId, sizeBytes: sizeGB * GB, useCount,
    lastUsed: lastUsedDaysAgo === undefined ? undefined : NOW - lastUsedDaysAgo * DAY,
    ...(installedDaysAgo === undefined ? {} : { installedAt: NOW - installedDaysAgo * DAY }),
  };
}

describe('storage policy', () => {
  it('proposes models neither used recently nor often, with both reasons', () => {
    const plan = planCleanup([
      model('recent', 1, 5, 1),
      model('frequent', 1, 100, 11),
      model('stale', 2, 45, 10),
      model('never', 3, undefined, 0),
      model('newlyInstalled', 1, undefined, 0, 2),
    ], policy, NOW);
    assert.deepEqual(plan.proposals.map((p) => [p.modelId, p.reasons]), [
      ['stale', [{ kind: 'unused', days: 45 }, { kind: 'rarelyUsed', uses: 10 }]],
      ['never', [{ kind: 'unused', days: undefined }, { kind: 'rarelyUsed', uses: 0 }]],
    ]);
    assert.equal(plan.freedBytes, 5 * GB);
    assert.equal(plan.totalBytes, 8 * GB);
  });

  it('proposes previous versions first (with an unused model, and first over the limit), never the installed one, never of a pinned model', () => {
    const old = (m: InstalledModel, version: string): InstalledModel => ({ ...m, version });
    const recent = model('recent', 2, 1, 3);
    const stale = model('stale', 1, 45, 1);
    const pinned = model('pinned', 1, 1, 1);
    const plan = planCleanup([recent, old(model('recent', 1, 1, 3), '0.9'), stale, old(model('stale', 1, 45, 1), '0.1'), pinned, old(model('pinned', 3, 1, 1), '0.5')],
      { ...policy, maxStorageGB: 4, pinned: ['pinned'] }, NOW);
    assert.deepEqual(plan.proposals.map((p) => [p.modelId, p.version ?? 'installed', p.reasons[0].kind]), [
      ['stale', '0.1', 'previousVersion'],
      ['stale', 'installed', 'unused'],
      // Over the 4 GB limit (9 GB, 4 of them pinned): the recent model's old version goes before the model.
      ['recent', '0.9', 'previousVersion'],
      ['recent', 'installed', 'overLimit'],
    ]);
    assert.equal(plan.stillOverBytes, 0);
  });

  it('keeps a model used exactly keepRecentDays ago, proposes one a day older', () => {
    const plan = planCleanup([model('edge', 1, 30, 0), model('older', 1, 31, 0)], policy, NOW);
    assert.deepEqual(plan.proposals.map((p) => p.modelId), ['older']);
  });

  it('above maxStorageGB removes least recently used first, largest first among equals, until under', () => {
    const plan = planCleanup([
      model('a', 4, 1, 50),
      model('b', 2, 3, 50),
      model('c', 5, 3, 50),
      model('d', 1, 10, 50),
      model('e', 3, 0, 50),
    ], { ...policy, maxStorageGB: 8 }, NOW);
    // 15 GB: d (10 days) → 14, then c (3 days, larger than b) → 9, then b → 7 ≤ 8.
    assert.deepEqual(plan.proposals.map((p) => [p.modelId, p.reasons]), [['d', [{ kind: 'overLimit' }]], ['c', [{ kind: 'overLimit' }]], ['b', [{ kind: 'overLimit' }]]]);
    assert.equal(plan.freedBytes, 8 * GB);
    assert.equal(plan.stillOverBytes, 0);
  });

  it('counts policy removals before applying the limit', () => {
    const plan = planCleanup([model('old', 6, 90, 0), model('a', 3, 1, 50), model('b', 3, 2, 50)], { ...policy, maxStorageGB: 6 }, NOW);
    assert.deepEqual(plan.proposals.map((p) => p.modelId), ['old']);
  });

  it('never proposes a pinned model or one in use, and says when the limit cannot be met', () => {
    const plan = planCleanup([
      model('pinned', 10, undefined, 0),
      model('busy', 10, 400, 0),
      model('other', 1, 1, 50),
    ], { ...policy, maxStorageGB: 5, pinned: ['pinned'] }, NOW, new Set(['busy']));
    assert.deepEqual(plan.proposals.map((p) => p.modelId), ['other']);
    assert.equal(plan.stillOverBytes, 15 * GB);
  });

  it('storage impact: bytes per model, largest first, with shares and free space', () => {
    const impact = storageImpact(new Map([['a', 100], ['b', 300], ['c', 0]]), 600);
    assert.deepEqual(impact, {
      models: [{ modelId: 'b', bytes: 300, share: 0.75 }, { modelId: 'a', bytes: 100, share: 0.25 }, { modelId: 'c', bytes: 0, share: 0 }],
      totalBytes: 400, freeBytes: 600, usedShare: 0.4,
    });
  });

  it('preload: frequently used models that are missing, outdated or unverified, most used first', () => {
    const usage = new Map([
      ['missing', { useCount: 20, lastUsed: NOW }],
      ['outdated', { useCount: 30, lastUsed: NOW }],
      ['unverified', { useCount: 6, lastUsed: NOW }],
      ['ready', { useCount: 99, lastUsed: NOW }],
      ['rare', { useCount: 5, lastUsed: NOW }],
      ['uncatalogued', { useCount: 50, lastUsed: NOW }],
    ]);
    const states = new Map<string, ModelAvailabilityState>([['missing', 'missing'], ['outdated', 'outdated'], ['unverified', 'unverified'], ['ready', 'ready'], ['rare', 'missing']]);
    assert.deepEqual(preloadSuggestions(usage, states, 5).map((s) => [s.modelId, s.state, s.action]), [
      ['outdated', 'outdated', 'download'], ['missing', 'missing', 'download'], ['unverified', 'unverified', 'verify'],
    ]);
  });
});
