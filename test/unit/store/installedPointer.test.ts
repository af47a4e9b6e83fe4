import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { writeInstalledPointer } from '../../../src/engine/store/installedPointer';
import { pruneVersions, scanInstalled, switchInstalledVersion } from '../../../src/engine/store/installedVersions';
import { StoreLayout } from '../../../src/engine/store/storeLayout';
import { generateData, sha256Of } from '../../support/faultServer';

/** Writes a version of model `m` as the store keeps it: its file and a manifest naming `files` of it. */
async function writeVersion(layout: StoreLayout, version: string, data: Buffer, verifiedAt: string, complete = true): Promise<ModelEntry> {
  const file = layout.filePath('m', version, 'w.bin');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  const entry = { path: 'w.bin', source: { kind: 'url' as const, url: 'http://127.0.0.1:1/w.bin' }, url: 'http://127.0.0.1:1/w.bin', size: data.length, sha256: sha256Of(data), sha256Expected: true, pieceSize: data.length, pieces: [], verifiedAt };
  const second = { ...entry, path: 'second.bin', verifiedAt };
  // An incomplete version: its manifest names a file that is not there yet (a download killed midway).
  await writeFile(layout.manifestPath('m', version), JSON.stringify({ formatVersion: 1, id: 'm', version, verifiedAt, files: complete ? [entry] : [entry, second] }));
  return { id: 'm', name: 'm', version, alternatives: [], origin: 'test', files: [{ path: 'w.bin', source: entry.source, sha256: entry.sha256, size: data.length }, ...(complete ? [] : [{ path: 'second.bin', source: entry.source, sha256: entry.sha256, size: data.length }])] };
}

describe('installed.json: which version is installed', () => {
  let root: string;
  let layout: StoreLayout;
  beforeEach(async () => { root = await mkdtemp(path.join(os.tmpdir(), 'ma-pointer-')); layout = new StoreLayout(root); });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('keeps the installed version while a newer one is half downloaded (killed midway), and switches only to a complete one', async () => {
    await writeVersion(layout, '1.0.0', generateData(4096, 1), '2026-01-01T00:00:00.000Z');
    const catalog = await writeVersion(layout, '2.0.0', generateData(4096, 2), '2026-02-01T00:00:00.000Z', false);
    await writeInstalledPointer(layout, 'm', '1.0.0', '2.0.0');
    const scanned = await scanInstalled(layout, catalog);
    assert.equal(scanned.version, '1.0.0', 'the half-downloaded catalog version does not replace the installed one');
    assert.equal(scanned.ready, true);
    await assert.rejects(switchInstalledVersion(layout, 'm', '2.0.0'), /not complete on disk/);
    assert.equal(JSON.parse(await readFile(layout.installedPointerPath('m'), 'utf8')).version, '1.0.0');
  });

  it('without installed.json keeps today\'s rule (a store from before it), and with it serves the version it names', async () => {
    await writeVersion(layout, '1.0.0', generateData(4096, 1), '2026-01-01T00:00:00.000Z');
    const catalog = await writeVersion(layout, '2.0.0', generateData(4096, 2), '2026-02-01T00:00:00.000Z');
    assert.equal((await scanInstalled(layout, catalog)).version, '2.0.0');
    await switchInstalledVersion(layout, 'm', '1.0.0');
    const scanned = await scanInstalled(layout, catalog);
    assert.equal(scanned.version, '1.0.0');
    assert.ok(scanned.ready);
  });

  it('prunes versions beyond keepPreviousVersions, never the installed one nor one in use', async () => {
    for (const [i, v] of ['1.0.0', '2.0.0', '3.0.0', '4.0.0'].entries()) await writeVersion(layout, v, generateData(1024, i), `2026-0${i + 1}-01T00:00:00.000Z`);
    const removed = await pruneVersions(layout, 'm', '4.0.0', 1, (v) => v === '1.0.0');
    assert.deepEqual(removed, ['2.0.0'], 'keeps 3.0.0 (the previous) and 1.0.0 (leased)');
  });
});
