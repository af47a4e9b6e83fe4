import * as os from 'node:os';
import * as path from 'node:path';
import type { ForeignLocation } from './foundFile';

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
