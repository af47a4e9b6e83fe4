import * as assert from 'node:assert/strict';
import { ConnectionPace } from '../../../src/engine/transfer/connectionPace';

/** A pace judged from these readings, with what it logged. */
function pace(readings: { elapsedMs: number; busy: number }[]): { pace: ConnectionPace; lines: string[] } {
  const lines: string[] = [];
  let i = 0;
  return { pace: new ConnectionPace((m) => lines.push(m), () => readings[Math.min(i++, readings.length - 1)]), lines };
}

describe('ConnectionPace: extra connections stop when this machine, not the network, is the limit', () => {
  it('says so for a busy event loop at a speed no remote link gives, once, with the figures', () => {
    const { pace: p, lines } = pace([{ elapsedMs: 150, busy: 0.97 }]);
    assert.equal(p.machineBound(480e6), true);
    assert.equal(p.machineBound(10e6), true, 'the verdict is kept');
    assert.deepEqual(lines, ['one connection from here on: this machine, not the network, sets the pace (event loop 97% busy at 480 MB/s)']);
  });

  it('keeps every connection when each is held back by the network: a capped server, a busy extension host at a slow speed', () => {
    assert.equal(pace([{ elapsedMs: 2000, busy: 0.2 }]).pace.machineBound(98e6), false);
    assert.equal(pace([{ elapsedMs: 2000, busy: 0.95 }]).pace.machineBound(80e6), false);
    const quietButFast = pace([{ elapsedMs: 2000, busy: 0.3 }]);
    assert.equal(quietButFast.pace.machineBound(400e6), false);
    assert.deepEqual(quietButFast.lines, []);
  });

  it('does not judge before the connections have run for a moment, nor without a speed', () => {
    const { pace: p } = pace([{ elapsedMs: 20, busy: 1 }, { elapsedMs: 150, busy: 0.9 }, { elapsedMs: 300, busy: 0.9 }]);
    assert.equal(p.machineBound(500e6), false, 'too early to judge');
    assert.equal(p.machineBound(0), false, 'no speed measured yet');
    assert.equal(p.machineBound(500e6), true, 'judged once both are known');
  });

  it('can say so early, from the first connection alone; "not yet" leaves the judgement for later', () => {
    const { pace: p, lines } = pace([{ elapsedMs: 30, busy: 0.3 }, { elapsedMs: 30, busy: 0.99 }, { elapsedMs: 200, busy: 0.9 }]);
    assert.equal(p.boundEarly(600e6), false, 'a quiet event loop: the network may still be the limit');
    assert.equal(p.boundEarly(40e6), false, 'a slow first connection: the others help');
    assert.equal(p.machineBound(500e6), true, 'judged later all the same');
    const early = pace([{ elapsedMs: 30, busy: 0.98 }]);
    assert.equal(early.pace.boundEarly(650e6), true);
    assert.equal(early.pace.machineBound(1e6), true, 'the verdict is kept');
    assert.deepEqual(early.lines, ['one connection: this machine, not the network, sets the pace (event loop 98% busy at 650 MB/s on the first connection alone)']);
    assert.deepEqual(lines, ['one connection from here on: this machine, not the network, sets the pace (event loop 90% busy at 500 MB/s)']);
  });
});
