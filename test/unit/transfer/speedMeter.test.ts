import assert from 'node:assert/strict';
import { SpeedMeter } from '../../../src/engine/transfer/speedMeter';

const MiB = 1024 * 1024;

/** A meter on a clock the test moves, fed like a download at `rate` bytes/s with readings every `every` ms. */
function feed(meter: SpeedMeter, clock: { t: number }, from: { bytes: number }, ms: number, rate: number, every = 50): void {
  for (let elapsed = 0; elapsed < ms; elapsed += every) {
    clock.t += every;
    from.bytes += (rate * every) / 1000;
    meter.sample(from.bytes);
  }
}

/** A meter on a test clock at 0, with its first reading (0 bytes) taken. */
function started(): { meter: SpeedMeter; clock: { t: number }; done: { bytes: number } } {
  const clock = { t: 0 };
  const meter = new SpeedMeter(() => clock.t);
  meter.sample(0);
  return { meter, clock, done: { bytes: 0 } };
}

describe('SpeedMeter', () => {
  it('says nothing until it has 1.5 s of readings past the first half second of moving bytes', () => {
    const { meter, clock, done } = started();
    clock.t += 300; // waiting for the first byte: no part of the warm-up
    meter.sample(0);
    feed(meter, clock, done, 1_900, MiB);
    assert.equal(meter.speed, 0);
    feed(meter, clock, done, 200, MiB);
    assert.ok(Math.abs(meter.speed - MiB) < 1, `speed ${meter.speed}`);
  });

  it("leaves the burst of a transfer's first bytes out of its speed", () => {
    // A server whose schedule began before its first send catches up in one burst; the rate stays 1 MiB/s.
    const clock = { t: 0 };
    const meter = new SpeedMeter(() => clock.t);
    // The first reading comes with the first bytes.
    const done = { bytes: 16 * 1024 };
    meter.sample(done.bytes);
    clock.t += 5;
    done.bytes += 184 * 1024;
    meter.sample(done.bytes);
    feed(meter, clock, done, 2_100, MiB);
    assert.ok(Math.abs(meter.speed - MiB) / MiB < 0.01, `speed ${(meter.speed / MiB).toFixed(3)} MiB/s after the burst`);
  });

  it('lets a stall and the burst after it move the speed only by their share of the window', () => {
    const { meter, clock, done } = started();
    feed(meter, clock, done, 3_000, MiB);
    clock.t += 400;
    meter.sample(done.bytes);
    const stalled = meter.speed / MiB;
    assert.ok(stalled > 0.8 && stalled < 0.95, `during the stall: ${stalled.toFixed(3)} MiB/s`);
    clock.t += 5;
    done.bytes += 0.4 * MiB;
    meter.sample(done.bytes);
    feed(meter, clock, done, 500, MiB);
    assert.ok(Math.abs(meter.speed - MiB) / MiB < 0.01, `after the catch-up: ${(meter.speed / MiB).toFixed(3)} MiB/s`);
  });

  it('follows a change of speed within its window, and forgets what came before', () => {
    const { meter, clock, done } = started();
    feed(meter, clock, done, 10_000, 4 * MiB);
    assert.ok(Math.abs(meter.speed - 4 * MiB) / MiB < 0.01);
    feed(meter, clock, done, 2_500, MiB);
    const halfway = meter.speed / MiB;
    assert.ok(halfway > 1.5 && halfway < 3.5, `halfway through the window: ${halfway.toFixed(2)} MiB/s`);
    feed(meter, clock, done, 6_000, MiB);
    assert.ok(Math.abs(meter.speed - MiB) / MiB < 0.06, `after a full window: ${(meter.speed / MiB).toFixed(3)} MiB/s`);
  });

  it('starts over when the bytes done go down (the transfer restarted)', () => {
    const { meter, clock, done } = started();
    feed(meter, clock, done, 2_000, 4 * MiB);
    done.bytes = 0;
    meter.sample(0);
    assert.equal(meter.speed, 0);
    feed(meter, clock, done, 1_500, MiB);
    assert.equal(meter.speed, 0, 'no speed before 1.5 s past the new warm-up');
    feed(meter, clock, done, 600, MiB);
    assert.ok(Math.abs(meter.speed - MiB) / MiB < 0.01, `speed ${(meter.speed / MiB).toFixed(3)} MiB/s`);
  });
});
