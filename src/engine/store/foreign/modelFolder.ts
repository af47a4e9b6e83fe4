import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FoundFile, FoundModel } from './foundFile';
import { walkFiles } from './walk';

const WEIGHT_EXTENSIONS = new Set(['.gguf', '.safetensors', '.onnx', '.ggml']);

/**
 * Model files in a plain folder, or in LM Studio's (`<publisher>/<repo>/*.gguf`): one found model per
 * folder that holds weights. Nothing tells their sha256: matching hashes them.
 */
export async function scanModelFolder(root: string, source: 'lmstudio' | 'folder'): Promise<FoundModel[]> {
  const byDir = new Map<string, FoundFile[]>();
  await walkFiles(root, 4, async (full, rel) => {
    if (!WEIGHT_EXTENSIONS.has(path.extname(rel).toLowerCase())) return;
    const stat = await fs.stat(full).catch(() => undefined);
    if (!stat?.isFile()) return;
    const dir = path.posix.dirname(rel);
    byDir.set(dir, [...(byDir.get(dir) ?? []), { source, root, path: await fs.realpath(full), name: rel, size: stat.size }]);
  });
  return [...byDir].map(([dir, files]) => ({ source, root, name: dir === '.' ? path.basename(root) : dir, files }));
}
