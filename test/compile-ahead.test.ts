/** Compiling the value fit's kernels ahead on a second device (src/trpo/compile-ahead.ts). */
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterSummary } from '../src/gpu/index.js';
import { compileValueFitAhead, compilesOnFirstDispatch } from '../src/train/compile-ahead.js';
import { presetConfig } from '../src/algos/trpo/presets.js';
import type { IterationMetrics } from '../src/algos/trpo/metrics.js';
import { Trainer } from '../src/train/trainer.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const adapter = (description: string, device = ''): AdapterSummary => ({ vendor: '', architecture: '', device, description, backend: 'dawn-node' });

describe('compilesOnFirstDispatch', () => {
  it('is true for Mesa’s CPU driver with its shader cache on, false otherwise', () => {
    const lavapipe = adapter('llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)');
    expect(compilesOnFirstDispatch(lavapipe)).toBe(true);
    expect(compilesOnFirstDispatch(adapter('', 'llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe(true);
    for (const off of ['1', 'true', 'TRUE', 'yes']) {
      expect(compilesOnFirstDispatch(lavapipe, { MESA_SHADER_CACHE_DISABLE: off })).toBe(false);
    }
    for (const on of ['', '0', 'false']) {
      expect(compilesOnFirstDispatch(lavapipe, { MESA_SHADER_CACHE_DISABLE: on })).toBe(true);
    }
    expect(compilesOnFirstDispatch(adapter('NVIDIA GeForce RTX 4090'))).toBe(false);
    expect(compilesOnFirstDispatch(adapter('SwiftShader Device (Subzero)'))).toBe(false);
  });
});

describe.skipIf(!gpu)('compileValueFitAhead', () => {
  const g = gpu!;
  // The CartPole preset's networks (the value fit's weight-stationary kernel where the device
  // has one), at a small batch.
  const config = { ...presetConfig('CartPole-v1'), nEnvs: 4, nSteps: 64, vfBatchSize: 64, vfEpochs: 2, lineSearchSteps: 4 };
  const strip = (ms: IterationMetrics[]) => ms.map(({ time: _t, stepsPerSecond: _s, ...rest }) => rest);
  const train = async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 3, gpu: g, config });
    try {
      const m = await t.train({ totalTimesteps: 2 * 256 });
      return { m: strip(m), state: await t.state() };
    } finally {
      t.destroy();
    }
  };

  it('runs on a device of its own, beside training that it leaves bit for bit as it was', async () => {
    const alone = await train();
    const [beside] = await Promise.all([train(), compileValueFitAhead({ env: 'CartPole-v1', config })]);
    expect(beside.m).toEqual(alone.m);
    expect(beside.state.value).toEqual(alone.state.value);
    expect(beside.state.policy).toEqual(alone.state.policy);
    // The shared device saw no error from it (the Gpu throws the first one at its next flush).
    await expect(g.flush()).resolves.toBeUndefined();
  });
});
