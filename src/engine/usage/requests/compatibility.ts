import { totalSize, type ModelEntry } from '../../catalog/catalogTypes';

/**
 * How well `candidate` can stand in for `requested`, from 0 to 100, from catalog metadata only.
 *
 * A candidate must do the same `task` (otherwise it scores 0). Then points add up to at most 100:
 *   explicit alternative  35  (`requested.alternatives` names the candidate; 20 if only the candidate names `requested`)
 *   same family           20
 *   same format           15
 *   size                  10 × smaller/larger (parameters, else total file size)
 *   quantization          10 same quantization; 5 same bit width (Q4_K_M vs Q4_0)
 *   context length        10 × min(1, candidate/requested)
 * A factor that either side leaves out adds nothing: unknown is not evidence of compatibility.
 */
export interface CompatibilityScore {
  readonly score: number;
  /** Why, for people: "explicit alternative", "same family (llama)", … */
  readonly reasons: readonly string[];
}

export const COMPATIBILITY_WEIGHTS = {
  explicitAlternative: 35,
  reverseAlternative: 20,
  family: 20,
  format: 15,
  size: 10,
  quantization: 10,
  quantizationBits: 5,
  contextLength: 10,
} as const;

function same(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

function quantBits(q: string | undefined): number | undefined {
  if (!q) return undefined;
  const m = /(?:^|[^a-z])(?:i?q|int)(\d{1,2})/i.exec(q) ?? /^(?:f|fp|bf)(\d{2})$/i.exec(q);
  return m ? Number(m[1]) : undefined;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || a <= 0 || b <= 0) return undefined;
  return Math.min(a, b) / Math.max(a, b);
}

export function compatibility(requested: ModelEntry, candidate: ModelEntry): CompatibilityScore {
  if (requested.id === candidate.id || !same(requested.task, candidate.task)) return { score: 0, reasons: [] };
  const w = COMPATIBILITY_WEIGHTS;
  let score = 0;
  const reasons: string[] = [];
  const add = (points: number, reason: string) => {
    if (points <= 0) return;
    score += points;
    reasons.push(reason);
  };
  if (requested.alternatives.includes(candidate.id)) add(w.explicitAlternative, 'listed as an alternative');
  else if (candidate.alternatives.includes(requested.id)) add(w.reverseAlternative, 'lists the requested model as its alternative');
  if (same(requested.family, candidate.family)) add(w.family, `same family (${candidate.family})`);
  if (same(requested.format, candidate.format)) add(w.format, `same format (${candidate.format})`);
  const size = ratio(requested.parameters, candidate.parameters) ?? ratio(totalSize(requested), totalSize(candidate));
  if (size !== undefined) add(w.size * size, `${Math.round(size * 100)}% size match`);
  if (same(requested.quantization, candidate.quantization)) add(w.quantization, `same quantization (${candidate.quantization})`);
  else {
    const bits = quantBits(requested.quantization);
    if (bits !== undefined && bits === quantBits(candidate.quantization)) add(w.quantizationBits, `same ${bits}-bit quantization`);
  }
  if (requested.contextLength && candidate.contextLength) {
    add(w.contextLength * Math.min(1, candidate.contextLength / requested.contextLength), `context ${candidate.contextLength} of ${requested.contextLength} tokens`);
  }
  return { score: Math.round(Math.min(100, score)), reasons };
}

/** Granted quality minus requested quality (e.g. -0.12), when the catalog gives both. */
export function qualityDelta(requested: ModelEntry, granted: ModelEntry): number | undefined {
  if (requested.quality === undefined || granted.quality === undefined) return undefined;
  return Math.round((granted.quality - requested.quality) * 1000) / 1000;
}

export interface RankedAlternative {
  readonly model: ModelEntry;
  readonly compatibility: CompatibilityScore;
  readonly qualityDelta: number | undefined;
}

/** Candidates at or above `minScore`, best first (score, then quality, then id for a stable order). */
export function rankAlternatives(requested: ModelEntry, candidates: readonly ModelEntry[], minScore: number): RankedAlternative[] {
  return candidates
    .map((model) => ({ model, compatibility: compatibility(requested, model), qualityDelta: qualityDelta(requested, model) }))
    .filter((a) => a.compatibility.score > 0 && a.compatibility.score >= minScore)
    .sort((a, b) => b.compatibility.score - a.compatibility.score || (b.model.quality ?? 0) - (a.model.quality ?? 0) || a.model.id.localeCompare(b.model.id));
}
