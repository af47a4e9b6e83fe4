import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isSha256, type FoundFile, type FoundModel } from './foundFile';
import { entriesOf, walkFiles } from './walk';

/**
 * Reads huggingface_hub's cache (the layout its file_download.py writes, shared by the JS library):
 * `models--{org}--{name}/blobs/<etag>`, `snapshots/<commit>/<path>` — relative links into blobs, or plain
 * copies where links are not allowed —, and `refs/<branch>` holding a commit. An LFS file's etag is its
 * sha256; a small file's is its git blob sha1.
 */
export async function scanHfCache(root: string): Promise<FoundModel[]> {
  const models: FoundModel[] = [];
  for (const entry of await entriesOf(root)) {
    if (!entry.isDirectory() || !entry.name.startsWith('models--')) continue;
    const repo = entry.name.slice('models--'.length).split('--').join('/');
    const repoDir = path.join(root, entry.name);
    const refs = await readRefs(path.join(repoDir, 'refs'));
    const blobs = await fs.realpath(path.join(repoDir, 'blobs')).catch(() => undefined);
    for (const snapshot of await entriesOf(path.join(repoDir, 'snapshots'))) {
      if (!snapshot.isDirectory()) continue;
      const commit = snapshot.name;
      const files: FoundFile[] = [];
      await walkFiles(path.join(repoDir, 'snapshots', commit), 16, async (full, rel) => {
        const real = await fs.realpath(full).catch(() => undefined);
        const stat = real ? await fs.stat(real).catch(() => undefined) : undefined;
        if (!real || !stat?.isFile()) return;
        const etag = blobs && path.dirname(real) === blobs ? path.basename(real) : undefined;
        files.push({
          source: 'hf', root, path: real, name: rel, size: stat.size, sha256: etag && isSha256(etag) ? etag : undefined,
          hub: { repo, commit, path: rel, refs: refs.get(commit) ?? [], gitSha1: etag && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined },
        });
      });
      if (files.length > 0) models.push({ source: 'hf', root, name: `${repo}@${commit.slice(0, 7)}`, files });
    }
  }
  return models;
}

/** commit → the refs (`main`, `refs/pr/1` as `pr/1`) that name it. */
async function readRefs(dir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await walkFiles(dir, 4, async (full, rel) => {
    const commit = (await fs.readFile(full, 'utf8').catch(() => '')).trim();
    if (commit) out.set(commit, [...(out.get(commit) ?? []), rel]);
  });
  return out;
}

/** The git blob id of a file (`sha1("blob <size>\0" + content)`): what the cache names a small file's blob. */
export async function gitBlobSha1(file: string, signal?: AbortSignal): Promise<string> {
  const { size } = await fs.stat(file);
  const hash = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
