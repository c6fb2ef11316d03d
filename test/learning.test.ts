/**
 * End-to-end learning, kept short for CI: seeded runs with the env presets must reach clear
 * return thresholds. (The full results, 100k+ steps over 5 seeds, are in the README.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Trainer } from '../src/train/trainer.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe.skipIf(!gpu)('learning', () => {
  it('CartPole-v1 (preset, seed 0) balances the pole within 40k steps', async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 0, preset: 'CartPole-v1', gpu: gpu! });
    const before = await t.evaluate({ episodes: 20 });
    const history = await t.train({ totalTimesteps: 40_000 });
    const after = await t.evaluate({ episodes: 20 });
    // A random-ish initial policy lasts ~10–40 steps; 40k steps of TRPO reach a few hundred.
    expect(before.meanReturn).toBeLessThan(100);
    expect(after.meanReturn).toBeGreaterThanOrEqual(195);
    expect(history.at(-1)!.rollingReturnMean!).toBeGreaterThanOrEqual(150);
    // Every accepted step respected the trust region.
    for (const m of history) expect(m.kl).toBeLessThanOrEqual(t.config.maxKl * (1 + 1e-6));
    t.destroy();
  });

  it('PointMass-v0 (preset, seed 0) improves substantially within 30k steps', async () => {
    const t = await Trainer.create('trpo', { env: 'PointMass-v0', seed: 0, preset: 'PointMass-v0', gpu: gpu! });
    const before = await t.evaluate({ episodes: 50 });
    await t.train({ totalTimesteps: 30_000 });
    const after = await t.evaluate({ episodes: 50 });
    expect(after.meanReturn).toBeGreaterThan(before.meanReturn + 0.5 * Math.abs(before.meanReturn));
    t.destroy();
  });
});
