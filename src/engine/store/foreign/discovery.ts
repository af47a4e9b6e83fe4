import type { ForeignLocation, FoundModel } from './foundFile';
import { scanHfCache } from './hfCache';
import { scanModelFolder } from './modelFolder';
import { scanOllama } from './ollama';

/** Every model found in these locations (read only; absent locations find nothing). */
export async function discoverModels(locations: readonly ForeignLocation[]): Promise<FoundModel[]> {
  const found: FoundModel[] = [];
  for (const loc of locations) {
    if (loc.kind === 'hf') found.push(...await scanHfCache(loc.root));
    else if (loc.kind === 'ollama') found.push(...await scanOllama(loc.root));
    else found.push(...await scanModelFolder(loc.root, loc.kind));
  }
  return found;
}
