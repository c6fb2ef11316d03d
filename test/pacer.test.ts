/** Paced waits: the estimate behind the sleep before a repeated submit's readback. */
import { afterAll, describe, expect, it } from 'vitest';
import { PACE_MIN_SLEEP_MS, PACE_OVERSLEEP_MS, PACE_SLEEP_FRACTION, WaitPacer } from '../src/gpu/pacer.js';
import { testGpu } from './gpu-context.js';

describe('WaitPacer', () => {
  it('does not sleep before it has seen two submits of the kind (the first has one-time costs)', () => {
    const p = new WaitPacer();
    expect(p.sleepBefore('it', 0)).toBe(0);
    p.observe('it', 5000);
    expect(p.sleepBefore('it', 0)).toBe(0);
    expect(p.estimate('it')).toBeUndefined();
    p.observe('it', 100);
    expect(p.estimate('it')).toBe(100);
  });

  it('sleeps for most of the expected time, less what has already passed', () => {
    const p = new WaitPacer();
    p.observe('it', 1);
    p.observe('it', 100);
    expect(p.sleepBefore('it', 0)).toBeCloseTo(PACE_SLEEP_FRACTION * 100, 10);
    expect(p.sleepBefore('it', 30)).toBeCloseTo(PACE_SLEEP_FRACTION * 100 - 30, 10);
    expect(p.sleepBefore('other', 0)).toBe(0);
  });

  it('skips sleeps too short for a timer', () => {
    const p = new WaitPacer();
    p.observe('it', 1);
    p.observe('it', (PACE_MIN_SLEEP_MS * 0.9) / PACE_SLEEP_FRACTION);
    expect(p.sleepBefore('it', 0)).toBe(0);
  });

  it('follows a shorter duration at once and a longer one halfway', () => {
    const p = new WaitPacer();
    p.observe('it', 1);
    p.observe('it', 100);
    p.observe('it', 40);
    expect(p.estimate('it')).toBe(40);
    p.observe('it', 80);
    expect(p.estimate('it')).toBe(60);
    // Non-durations are ignored.
    p.observe('it', Number.NaN);
    p.observe('it', -1);
    expect(p.estimate('it')).toBe(60);
  });

  it('halves the estimate after an oversleep (results already there when the sleep ended)', () => {
    const p = new WaitPacer();
    p.observe('it', 1);
    p.observe('it', 1000);
    // Slept 850 ms, results there at once: the true duration is unknown and shorter.
    p.observe('it', 851, PACE_OVERSLEEP_MS / 2);
    expect(p.estimate('it')).toBe(425.5);
    // A real wait after the sleep: the duration is measured again.
    p.observe('it', 300, 50);
    expect(p.estimate('it')).toBe(300);
  });
});

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe.skipIf(!gpu)('paced submitAndRead', () => {
  it('returns the same data as an unpaced one, before and after the estimate exists', async () => {
    const g = gpu!;
    const src = g.upload('pacer/src', Float32Array.from({ length: 1000 }, (_, i) => i * 0.5));
    const dst = g.storage('pacer/dst', 4000);
    for (let round = 0; round < 3; round++) {
      const [bytes] = await g.submitAndRead('pacer', (enc) => enc.copyBufferToBuffer(src, 0, dst, 0, 4000), [{ buffer: dst, offset: 4 * round, size: 8 }], {
        pace: 'pacer-test',
      });
      expect([...new Float32Array(bytes!)]).toEqual([round * 0.5, (round + 1) * 0.5]);
    }
    src.destroy();
    dst.destroy();
  });
});
