import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isSha256, type FoundFile, type FoundModel } from './foundFile';
import { walkFiles } from './walk';

/** Layers that are model weights (the GGUF, a vision projector, a LoRA adapter); the rest are small text. */
const WEIGHT_LAYERS: Record<string, string> = {
  'application/vnd.ollama.image.model': 'model',
  'application/vnd.ollama.image.projector': 'projector',
  'application/vnd.ollama.image.adapter': 'adapter',
};

const DEFAULT_REGISTRY = 'registry.ollama.ai';

interface OllamaManifest {
  readonly layers?: readonly { readonly mediaType?: string; readonly digest?: string; readonly size?: number }[];
}

/**
 * Reads Ollama's store (server/manifest.go, types/model): `manifests/<host>/<namespace>/<model>/<tag>`, an
 * OCI manifest whose `layers[].digest` (`sha256:<hex>`) names a file `blobs/sha256-<hex>`.
 */
export async function scanOllama(root: string): Promise<FoundModel[]> {
  const models: FoundModel[] = [];
  await walkFiles(path.join(root, 'manifests'), 3, async (full, rel) => {
    const parts = rel.split('/');
    if (parts.length !== 4) return;
    const [host, namespace, model, tag] = parts;
    const manifest = await fs.readFile(full, 'utf8').then((t) => JSON.parse(t) as OllamaManifest, () => undefined);
    const prefix = host === DEFAULT_REGISTRY ? (namespace === 'library' ? '' : `${namespace}/`) : `${host}/${namespace}/`;
    const name = `${prefix}${model}:${tag}`;
    const files: FoundFile[] = [];
    for (const layer of manifest?.layers ?? []) {
      const role = WEIGHT_LAYERS[layer.mediaType ?? ''];
      const hex = layer.digest?.startsWith('sha256:') ? layer.digest.slice('sha256:'.length) : '';
      if (!role || !isSha256(hex)) continue;
      const blob = path.join(root, 'blobs', `sha256-${hex}`);
      const stat = await fs.stat(blob).catch(() => undefined);
      if (!stat?.isFile()) continue;
      files.push({
        source: 'ollama', root, path: blob, name: `${model}-${tag}${role === 'model' ? '' : `-${role}`}.gguf`, sha256: hex, size: stat.size, ollama: name,
        // The registry serves a blob by its digest (the OCI distribution API Ollama pulls from).
        downloadUrl: `https://${host}/v2/${namespace}/${model}/blobs/sha256:${hex}`,
      });
    }
    if (files.length > 0) models.push({ source: 'ollama', root, name, files });
  });
  return models;
}
