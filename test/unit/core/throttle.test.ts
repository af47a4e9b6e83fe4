import * as assert from 'node:assert/strict';
import { KeyedThrottle } from '../../../src/engine/core/throttle';

describe('KeyedThrottle', () => {
  it('sends the first call at once, collapses a burst into one trailing call, and keeps keys apart', async () => {
    const sent: string[] = [];
    const t = new KeyedThrottle<string>(50, (k) => sent.push(k));
    try {
      for (let i = 0; i < 1000; i++) t.push('a');
      t.push('b');
      assert.deepEqual(sent, ['a', 'b'], 'leading: one call per key at once');
      await new Promise((r) => setTimeout(r, 120));
      assert.deepEqual(sent, ['a', 'b', 'a'], 'trailing: the burst on a ends in exactly one more call; b had none pending');
    } finally {
      t.dispose();
    }
  });

  it('flush sends at once and drops the pending trailing call', async () => {
    const sent: string[] = [];
    const t = new KeyedThrottle<string>(50, (k) => sent.push(k));
    try {
      t.push('a');
      t.push('a');
      t.flush('a');
      assert.deepEqual(sent, ['a', 'a']);
      await new Promise((r) => setTimeout(r, 120));
      assert.deepEqual(sent, ['a', 'a']);
    } finally {
      t.dispose();
    }
  });
});
