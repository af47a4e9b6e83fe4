import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { snapshotDownload } from '@huggingface/hub';
import { FaultServer, sha256Of } from './faultServer';
import { startRepoHub } from './mockHub';

/** Writes a Hugging Face cache the way huggingface_hub does, with the real `@huggingface/hub` library against `hubUrl`. */
export async function writeHfCache(cacheDir: string, hubUrl: string): Promise<void> {
  const debug = console.debug;
  console.debug = () => undefined; // the library narrates each download
  try {
    await snapshotDownload({ repo: 'org/tiny-GGUF', cacheDir, hubUrl });
  } finally {
    console.debug = debug;
  }
}

/** An Ollama store as `ollama pull` leaves it: the OCI manifest under manifests/registry.ollama.ai/library/<name>/<tag>, blobs by digest. */
export async function writeOllamaStore(root: string, name: string, tag: string, gguf: Buffer): Promise<string> {
  const blobs = path.join(root, 'blobs');
  await mkdir(blobs, { recursive: true });
  const layer = async (mediaType: string, data: Buffer): Promise<object> => {
    const digest = `sha256:${sha256Of(data)}`;
    await writeFile(path.join(blobs, digest.replace(':', '-')), data);
    return { mediaType, digest, size: data.length };
  };
  const config = await layer('application/vnd.docker.container.image.v1+json', Buffer.from('{"model_format":"gguf","model_family":"llama"}'));
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config,
    layers: [
      await layer('application/vnd.ollama.image.model', gguf),
      await layer('application/vnd.ollama.image.template', Buffer.from('{{ .Prompt }}')),
      await layer('application/vnd.ollama.image.params', Buffer.from('{"stop":["</s>"]}')),
    ],
  };
  const dir = path.join(root, 'manifests', 'registry.ollama.ai', 'library', name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, tag), JSON.stringify(manifest));
  return path.join(blobs, `sha256-${sha256Of(gguf)}`);
}

export interface FileFacts { readonly size: number; readonly mtimeMs: number; readonly ino: number; readonly sha256: string }

/** What must stay the same in another tool's file after we read, link or copy it. */
export async function factsOf(file: string): Promise<FileFacts> {
  const s = await stat(file);
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, sha256: createHash('sha256').update(await readFile(file)).digest('hex') };
}

/** A Hugging Face cache holding `org/tiny-GGUF` with these files (a GGUF as LFS, the rest as small git files), written by the real library from a mock hub that is gone afterwards. */
export async function hfCacheWith(cacheDir: string, files: Record<string, Buffer>): Promise<void> {
  const cdn = await FaultServer.start();
  for (const [name, data] of Object.entries(files)) cdn.addFile(name, data);
  const hub = await startRepoHub(cdn, Object.keys(files).map((name) => ({ name, lfs: name.endsWith('.gguf') })));
  try {
    await writeHfCache(cacheDir, hub.endpoint);
  } finally {
    await hub.close();
    await cdn.close();
  }
}
