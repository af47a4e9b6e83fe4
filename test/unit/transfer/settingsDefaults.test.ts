import * as assert from 'node:assert/strict';
import { contributes } from '../../../package.json';
import { DEFAULT_DOWNLOAD_SETTINGS } from '../../../src/engine/transfer/settings';
import { DEFAULT_HEALTH_SETTINGS } from '../../../src/engine/availability/health';
import { DEFAULT_STORAGE_POLICY } from '../../../src/engine/usage/analytics/cleanupPolicy';

/** The CLI and tests run on the engine's defaults, VS Code on package.json's: they must be the same. */
describe('engine defaults match package.json', () => {
  const props: Record<string, { default?: unknown }> = contributes.configuration.properties;
  const contributed = (prefix: string): Record<string, unknown> => Object.fromEntries(Object.entries(props)
    .filter(([key]) => key.startsWith(`modelAvailability.${prefix}`))
    .map(([key, p]) => [key.slice(`modelAvailability.${prefix}`.length), p.default]));
  const pick = (o: object, keys: readonly string[]): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));

  it('download.*', () => {
    const expected = contributed('download.');
    assert.deepEqual(pick(DEFAULT_DOWNLOAD_SETTINGS, Object.keys(expected)), expected);
    assert.equal(Object.keys(expected).length, 7, 'every download setting has an engine counterpart');
  });

  it('health.*', () => {
    assert.deepEqual({ ...DEFAULT_HEALTH_SETTINGS }, contributed('health.'));
  });

  it('cleanup.* and pinnedModels', () => {
    const expected = pick(contributed('cleanup.'), ['keepRecentDays', 'keepFrequentUses', 'maxStorageGB']);
    assert.deepEqual(pick(DEFAULT_STORAGE_POLICY, Object.keys(expected)), expected);
    assert.deepEqual(DEFAULT_STORAGE_POLICY.pinned, props['modelAvailability.pinnedModels'].default);
  });
});
