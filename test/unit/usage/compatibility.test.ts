import assert from 'node:assert/strict';
import type { ModelEntry } from '../../../src/engine/catalog/catalogTypes';
import { compatibility, qualityDelta, rankAlternatives } from '../../../src/engine/usage/requests/compatibility';

function model(id: string, extra: Partial<ModelEntry> = {}): ModelEntry {
  return { id, name: id, version: '1', alternatives: [], files: [{ path: 'f', source: { kind: 'url', url: 'https://x.test/f' } }], origin: 't', ...extra };
}

const requested = model('want', {
  task: 'text-generation', family: 'llama', format: 'gguf', quantization: 'Q4_K_M', parameters: 1e9, contextLength: 4096, quality: 0.6,
  alternatives: ['twin'],
});

describe('compatibility score', () => {
  it('is 0 for a different task, a missing task, or the model itself', () => {
    assert.equal(compatibility(requested, model('x', { task: 'feature-extraction', family: 'llama' })).score, 0);
    assert.equal(compatibility(requested, model('x', { family: 'llama' })).score, 0);
    assert.equal(compatibility(requested, requested).score, 0);
  });

  it('gives 100 to an explicit alternative that matches on every factor', () => {
    const twin = model('twin', { task: 'text-generation', family: 'llama', format: 'gguf', quantization: 'Q4_K_M', parameters: 1e9, contextLength: 4096 });
    const s = compatibility(requested, twin);
    assert.equal(s.score, 100);
    assert.ok(s.reasons.includes('listed as an alternative'));
  });

  it('adds each factor by its documented weight', () => {
    const base = { task: 'text-generation' };
    assert.equal(compatibility(requested, model('a', base)).score, 0, 'same task alone adds nothing');
    assert.equal(compatibility(requested, model('a', { ...base, family: 'LLAMA' })).score, 20, 'family, case-insensitive');
    assert.equal(compatibility(requested, model('a', { ...base, format: 'gguf' })).score, 15);
    assert.equal(compatibility(requested, model('a', { ...base, parameters: 5e8 })).score, 5, 'half the size: 10 × 0.5');
    assert.equal(compatibility(requested, model('a', { ...base, quantization: 'Q4_K_M' })).score, 10);
    assert.equal(compatibility(requested, model('a', { ...base, quantization: 'Q4_0' })).score, 5, 'same bit width');
    assert.equal(compatibility(requested, model('a', { ...base, quantization: 'Q8_0' })).score, 0);
    assert.equal(compatibility(requested, model('a', { ...base, contextLength: 2048 })).score, 5);
    assert.equal(compatibility(requested, model('a', { ...base, contextLength: 8192 })).score, 10, 'a longer context is not better than enough');
    assert.equal(compatibility(requested, model('a', { ...base, alternatives: ['want'] })).score, 20, 'named by the candidate only');
  });

  it('falls back to total file size when parameters are unknown', () => {
    const r = model('r', { task: 't', files: [{ path: 'f', source: { kind: 'url', url: 'https://x.test/f' }, size: 4000 }] });
    const c = model('c', { task: 't', files: [{ path: 'f', source: { kind: 'url', url: 'https://x.test/f' }, size: 1000 }] });
    assert.equal(compatibility(r, c).score, 3);
  });

  it('reports the quality difference', () => {
    assert.equal(qualityDelta(requested, model('x', { quality: 0.48 })), -0.12);
    assert.equal(qualityDelta(requested, model('x')), undefined);
  });

  it('ranks candidates above the minimum, best first', () => {
    const twin = model('twin', { task: 'text-generation', family: 'llama', format: 'gguf', quality: 0.5 });
    const cousin = model('cousin', { task: 'text-generation', family: 'llama', format: 'gguf', quantization: 'Q4_K_M', parameters: 1e9, contextLength: 4096, quality: 0.7 });
    const stranger = model('stranger', { task: 'text-generation', format: 'gguf' });
    const ranked = rankAlternatives(requested, [stranger, cousin, twin], 60);
    assert.deepEqual(ranked.map((r) => [r.model.id, r.compatibility.score]), [['twin', 70], ['cousin', 65]]);
    assert.equal(ranked[1].qualityDelta, 0.1);
  });
});
