import type { ModelEntry, ModelFile } from '../../src/engine/catalog/catalogTypes';
import type { FaultServer } from './faultServer';

/** A catalog entry for files the fault server serves, with the server's sha256 and size unless overridden. */
export function urlModel(server: FaultServer, id: string, files: string[], overrides: Partial<ModelFile> = {}): ModelEntry {
  return {
    id, name: `Model ${id}`, version: '1.0.0', alternatives: [], origin: 'test',
    files: files.map((name) => {
      const f = server.files.get(name);
      if (!f) throw new Error(`no file ${name}`);
      return { path: `weights/${name}`, source: { kind: 'url', url: server.url(name) }, sha256: f.sha256, size: f.data.length, ...overrides };
    }),
  };
}

/** Resolves when `predicate` holds, checked on each event of `onEvent`. */
export function waitFor(onEvent: (l: () => void) => { dispose(): void }, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (predicate()) {
      resolve();
      return;
    }
    const sub = onEvent(() => {
      if (predicate()) {
        sub.dispose();
        resolve();
      }
    });
  });
}
