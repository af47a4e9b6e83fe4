import type { ModelUseSummary } from './usageQueries';

/** What the store says about a model the person uses; `ready` models need nothing. */
export type ModelAvailabilityState = 'ready' | 'missing' | 'outdated' | 'unverified';

export interface PreloadSuggestion {
  readonly modelId: string;
  readonly state: Exclude<ModelAvailabilityState, 'ready'>;
  /** `download` for missing or outdated models, `verify` for unverified ones. */
  readonly action: 'download' | 'verify';
  readonly useCount: number;
  readonly lastUsed: number | undefined;
}

/**
 * Frequently used models (more than `minUses` uses) that are not ready: missing, outdated or unverified.
 * Most used first, so that a one-click "download all" starts with what matters most.
 */
export function preloadSuggestions(usage: ReadonlyMap<string, ModelUseSummary>, states: ReadonlyMap<string, ModelAvailabilityState>, minUses: number): PreloadSuggestion[] {
  const suggestions: PreloadSuggestion[] = [];
  for (const [modelId, u] of usage) {
    // A model without a state is no longer in any catalog: there is nothing to download it from.
    const state = states.get(modelId);
    if (state === undefined || state === 'ready' || u.useCount <= minUses) continue;
    suggestions.push({ modelId, state, action: state === 'unverified' ? 'verify' : 'download', useCount: u.useCount, lastUsed: u.lastUsed });
  }
  return suggestions.sort((a, b) => b.useCount - a.useCount || a.modelId.localeCompare(b.modelId));
}
