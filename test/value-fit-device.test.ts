/**
 * The value fit on a second device (TrainerOptions.valueFitGpu): the same training, bit for bit,
 * as on one device of the same driver, with three readbacks per iteration, and its state saved
 * and restored from the right device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createGpu, type Gpu } from '../src/gpu/index.js';
import { ConfigError, type TRPOConfig } from '../src/algos/trpo/config.js';
import type { IterationMetrics } from '../src/algos/trpo/metrics.js';
import { presetConfig } from '../src/algos/trpo/presets.js';
import { Trainer } from '../src/train/trainer.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
// The second device: made only where the first one could be.
const second: Gpu | null = gpu ? await createGpu({ label: 'value-fit-device-test' }) : null;
afterAll(() => second?.destroy());

const strip = (ms: IterationMetrics[]) => ms.map(({ time: _t, stepsPerSecond: _s, ...rest }) => rest);

describe.skipIf(!gpu)('valueFitGpu', () => {
  const g = gpu!;
  const b = second!;

  async function train(env: 'CartPole-v1' | 'Pendulum-v1', config: Partial<TRPOConfig>, fit: Gpu | undefined, iterations: number) {
    const t = await Trainer.create('trpo', { env, seed: 11, gpu: g, config, ...(fit ? { valueFitGpu: fit } : {}) });
    try {
      const before = g.counters.readbacks + b.counters.readbacks;
      const metrics = await t.train({ totalTimesteps: iterations * config.nEnvs! * config.nSteps! });
      const readbacks = (g.counters.readbacks + b.counters.readbacks - before) / iterations;
      return { metrics: strip(metrics), all: metrics, state: await t.state(), readbacks };
    } finally {
      t.destroy();
    }
  }

  // Awkward sizes: a batch of 7 × 36 = 252, minibatches of 84 (two chunks of 48 and 36 samples), 3 epochs.
  const cases: Array<['CartPole-v1' | 'Pendulum-v1', Partial<TRPOConfig>]> = [
    ['CartPole-v1', { ...presetConfig('CartPole-v1'), nEnvs: 7, nSteps: 36, vfBatchSize: 84, vfEpochs: 3, lineSearchSteps: 5 }],
    ['Pendulum-v1', { ...presetConfig('Pendulum-v1'), nEnvs: 7, nSteps: 36, vfBatchSize: 84, vfEpochs: 3, lineSearchSteps: 5, valueHidden: [24, 40] }],
  ];

  for (const [env, config] of cases) {
    it(`${env}: same metrics, networks and Adam state as on one device, 3 readbacks per iteration`, async () => {
      const one = await train(env, config, undefined, 4);
      const two = await train(env, config, b, 4);
      expect(one.readbacks).toBe(1);
      expect(two.readbacks).toBe(3);
      expect(two.metrics).toEqual(one.metrics);
      // The fit moved V (so the comparison is not of untouched initial values).
      const fresh = await Trainer.create('trpo', { env, seed: 11, gpu: g, config });
      const initial = (await fresh.state()).value;
      fresh.destroy();
      expect(one.state.value).not.toEqual(initial);
      expect(two.state.value).toEqual(one.state.value);
      expect(two.state.policy).toEqual(one.state.policy);
      expect(two.state.adamMoments).toEqual(one.state.adamMoments);
      expect(two.state.adamStep).toBe(one.state.adamStep);
      expect(two.all[0]!.time.valueFit === null).toBe(one.all[0]!.time.valueFit === null);
    });
  }

  it('restores a saved state onto the fit’s device and continues as one device does', async () => {
    const [env, config] = cases[0]!;
    const first = await Trainer.create('trpo', { env, seed: 5, gpu: g, config });
    let bytes: Uint8Array;
    try {
      await first.train({ totalTimesteps: 2 * 252 });
      bytes = await first.save();
    } finally {
      first.destroy();
    }
    const viaBytes = async (fit?: Gpu) => {
      const t = await Trainer.load(bytes, { gpu: g, ...(fit ? { valueFitGpu: fit } : {}) });
      try {
        const m = await t.train({ totalTimesteps: 4 * 252 });
        return { m: strip(m), s: await t.state() };
      } finally {
        t.destroy();
      }
    };
    const one = await viaBytes();
    const two = await viaBytes(b);
    expect(two.m).toEqual(one.m);
    expect(two.s.value).toEqual(one.s.value);
    expect(two.s.adamMoments).toEqual(one.s.adamMoments);
    expect(two.s.adamStep).toBe(one.s.adamStep);
  });

  it('rejects anything but a second Gpu, before any GPU work', async () => {
    for (const bad of [1, 'second', {}, null]) {
      await expect(Trainer.create('trpo', { env: 'CartPole-v1', gpu: g, valueFitGpu: bad as never })).rejects.toThrow(ConfigError);
    }
    await expect(Trainer.create('trpo', { env: 'CartPole-v1', gpu: g, valueFitGpu: g })).rejects.toThrow(/valueFitGpu/);
  });
});
