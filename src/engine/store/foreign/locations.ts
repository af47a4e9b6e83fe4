import * as os from 'node:os';
import * as path from 'node:path';
import type { ForeignLocation } from './foundFile';
import { entriesOf } from './walk';

/**
 * Where the other tools keep their models, as they themselves decide it: huggingface_hub's
 * `HF_HUB_CACHE` (or the older `HUGGINGFACE_HUB_CACHE`), else
 * `$HF_HOME/hub`, else `${XDG_CACHE_HOME:-~/.cache}/huggingface/hub`; Ollama's `OLLAMA_MODELS`, else
 * `~/.ollama/models`; LM Studio's `~/.lmstudio/models` (older versions: `~/.cache/lm-studio/models`).
 */
export function defaultLocations(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): ForeignLocation[] {
  const hfHome = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'huggingface');
  const hf = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(hfHome, 'hub');
  return [
    { kind: 'hf', root: hf },
    { kind: 'ollama', root: env.OLLAMA_MODELS || path.join(home, '.ollama', 'models') },
    { kind: 'lmstudio', root: path.join(home, '.lmstudio', 'models') },
    { kind: 'lmstudio', root: path.join(home, '.cache', 'lm-studio', 'models') },
  ];
}

/** A folder someone named: read as the store it is (a Hugging Face cache, an Ollama store) or else as a plain folder of models. */
export async function locationOfFolder(dir: string): Promise<ForeignLocation> {
  const root = path.resolve(dir);
  const names = (await entriesOf(root)).map((e) => e.name);
  if (names.some((n) => n.startsWith('models--'))) return { kind: 'hf', root };
  if (names.includes('manifests') && names.includes('blobs')) return { kind: 'ollama', root };
  return { kind: 'folder', root };
}

/** `hf`, `ollama` and `lmstudio` name those tools' usual places; anything else is a folder. None given: every usual place. */
export async function selectLocations(names: readonly string[], env: NodeJS.ProcessEnv = process.env, home = os.homedir()): Promise<ForeignLocation[]> {
  const defaults = defaultLocations(env, home);
  if (names.length === 0) return defaults;
  const out: ForeignLocation[] = [];
  for (const name of names) {
    if (name === 'hf' || name === 'ollama' || name === 'lmstudio') out.push(...defaults.filter((l) => l.kind === name));
    else out.push(await locationOfFolder(name));
  }
  return out;
}
