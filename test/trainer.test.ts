/** The trainer's API: validation before GPU work, determinism, checkpoints, evaluation. */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG } from '../src/algos/trpo/config.js';
import { presetConfig } from '../src/algos/trpo/presets.js';
import { runsOnCpu } from '../src/gpu/index.js';
import { CheckpointError } from '../src/rl/checkpoint.js';
import type { IterationMetrics } from '../src/algos/trpo/metrics.js';
import { Trainer } from '../src/train/trainer.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const SMALL = { nEnvs: 4, nSteps: 32, vfBatchSize: 32, vfEpochs: 2, lineSearchSteps: 4, policyHidden: [16], valueHidden: [16] };

describe('Trainer.create validation (before any GPU work)', () => {
  it.each([
    [{ env: 'CartPole-v2' }, /invalid env: "CartPole-v2" \(allowed: one of CartPole-v1, Pendulum-v1, PointMass-v0\)/],
    [{ env: 'CartPole-v1', seed: -1 }, /invalid seed: -1 \(allowed: an integer from 0 to 4294967295\)/],
    [{ env: 'CartPole-v1', seed: 1.5 }, /invalid seed: 1.5/],
    [{ env: 'CartPole-v1', preset: 'fast' }, /invalid preset: "fast" \(allowed: one of default, /],
    [{ env: 'CartPole-v1', config: { maxKl: 0 } }, /invalid maxKl: 0 \(allowed: a finite number > 0/],
    [{ env: 'CartPole-v1', config: { gamma: Number.NaN } }, /invalid gamma: NaN/],
    [{ env: 'CartPole-v1', config: { nEnvs: 0 } }, /invalid nEnvs: 0/],
    [{ env: 'CartPole-v1', config: { maxKL: 0.1 } }, /invalid config: "maxKL" \(allowed: one of maxKl, /],
    [{ env: 'CartPole-v1', config: { nEnvs: 3, nSteps: 5, vfBatchSize: 4 } }, /invalid vfBatchSize: 4 \(allowed: a divisor of nEnvs·nSteps = 15\)/],
    [{ env: 'CartPole-v1', config: { policyHidden: [64, 0] } }, /invalid policyHidden: \[64, 0\]/],
    [{ env: 'CartPole-v1', kernels: 'yes' }, /invalid kernels: "yes" \(allowed: 'auto', 'generic', 'generic-no-subgroups'\)/],
    [{ env: 'CartPole-v1', outputJacobian: 1 }, /invalid outputJacobian: 1 \(allowed: true or false\)/],
    [{ env: 'CartPole-v1', valueFitGpu: 'second' }, /invalid valueFitGpu: "second" \(allowed: 'auto', 'same' or a Gpu/],
    [{ env: 'CartPole-v1', gpu: {} }, /invalid gpu: \[object Object\] \(allowed: a Gpu from createGpu\(\)\)/],
  ])('rejects %j', async (opts, message) => {
    // No gpu option: a valid call would create a device; an invalid one must throw first.
    await expect(Trainer.create('trpo', opts as never)).rejects.toThrow(message);
    await expect(Trainer.create('trpo', opts as never)).rejects.toBeInstanceOf(ConfigError);
  });
  it.skipIf(!gpu)('rejects a batch whose buffers exceed the device limits, naming what and how much', async () => {
    await expect(
      Trainer.create('trpo', { env: 'CartPole-v1', gpu: gpu!, config: { nEnvs: 4096, nSteps: 1024, vfBatchSize: 4096 } }),
    ).rejects.toThrow(/invalid nEnvs·nSteps: 4194304 \(allowed: a batch whose largest buffer fits this device: the line-search candidates/);
  });
  it.skipIf(!gpu)("gives an env its tuned preset when none is named, and the reference defaults for 'default'", async () => {
    const g = gpu!;
    for (const env of ['CartPole-v1', 'Pendulum-v1', 'PointMass-v0'] as const) {
      const t = await Trainer.create('trpo', { env, gpu: g });
      expect(t.config).toEqual(presetConfig(env));
      t.destroy();
    }
    const d = await Trainer.create('trpo', { env: 'CartPole-v1', gpu: g, preset: 'default' });
    expect(d.config).toEqual({ ...DEFAULT_CONFIG });
    d.destroy();
  });
  it.skipIf(!gpu)('gives the value fit its own device on a CPU driver when it owns its devices, as the CLI does', async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', config: { nEnvs: 2, nSteps: 64, vfBatchSize: 64 } });
    expect(t.fitGpu !== t.gpu).toBe(runsOnCpu(t.gpu.adapter));
    await t.iterate();
    t.destroy();
    const same = await Trainer.create('trpo', { env: 'CartPole-v1', valueFitGpu: 'same', config: { nEnvs: 2, nSteps: 64, vfBatchSize: 64 } });
    expect(same.fitGpu).toBe(same.gpu);
    same.destroy();
    // Handed a device, the trainer uses it alone unless handed a second one too.
    const given = await Trainer.create('trpo', { env: 'CartPole-v1', gpu: gpu!, config: { nEnvs: 2, nSteps: 64, vfBatchSize: 64 } });
    expect(given.fitGpu).toBe(gpu);
    given.destroy();
  });
  it('rejects an unknown algorithm', async () => {
    await expect(Trainer.create('ppo' as 'trpo', { env: 'CartPole-v1' })).rejects.toThrow(/invalid algorithm: "ppo" \(allowed: 'trpo'\)/);
  });
});

/** Metrics without wall-clock fields, which legitimately differ between runs. */
const strip = (ms: IterationMetrics[]) => ms.map(({ time: _t, stepsPerSecond: _s, ...rest }) => rest);

describe.skipIf(!gpu)('Trainer', () => {
  const g = gpu!;

  it('is deterministic: same seed, same metrics and parameters on the same device', async () => {
    const run = async (seed: number) => {
      const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed, gpu: g, config: SMALL });
      const m = await t.train({ totalTimesteps: 3 * 128 });
      const s = await t.state();
      t.destroy();
      return { m: strip(m), policy: s.policy };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(b.m).toEqual(a.m);
    expect(b.policy).toEqual(a.policy);
    expect(c.policy).not.toEqual(a.policy);
  });

  it('uses O(1) submits and readbacks per iteration, whatever nSteps and cgIters', async () => {
    const counts = async (config: object) => {
      const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 1, gpu: g, config: { ...SMALL, ...config } });
      await t.iterate(); // warm-up
      const before = { ...g.counters };
      await t.iterate();
      await t.iterate();
      t.destroy();
      return { submits: (g.counters.submits - before.submits) / 2, readbacks: (g.counters.readbacks - before.readbacks) / 2 };
    };
    const small = await counts({ nSteps: 16, cgIters: 2 });
    const large = await counts({ nSteps: 256, cgIters: 25 });
    expect(large).toEqual(small);
    expect(small.readbacks).toBe(1);
    expect(small.submits).toBeLessThanOrEqual(2); // the iteration, and the accepted step's copy
  });

  it('reports sane metrics for a continuous policy', async () => {
    const t = await Trainer.create('trpo', { env: 'Pendulum-v1', seed: 1, gpu: g, config: { ...SMALL, nSteps: 200, vfBatchSize: 100 } });
    const [m] = await t.train({ totalTimesteps: 1 });
    expect(m!.timesteps).toBe(800);
    expect(m!.episodes).toBe(4); // every Pendulum episode is exactly 200 steps
    expect(m!.episodeLengthMean).toBe(200);
    expect(m!.policyStd).toBeCloseTo(1, 6); // log-std starts at 0
    expect(m!.entropy).toBeCloseTo(0.5 * Math.log(2 * Math.PI * Math.E), 5);
    expect(m!.kl).toBeLessThanOrEqual(t.config.maxKl * (1 + 1e-6));
    expect(Number.isFinite(m!.valueLoss)).toBe(true);
    t.destroy();
  });

  it('saves and loads a checkpoint that continues training identically', async () => {
    const a = await Trainer.create('trpo', { env: 'PointMass-v0', seed: 9, gpu: g, config: SMALL });
    await a.train({ totalTimesteps: 2 * 128 });
    const bytes = await a.save();
    const b = await Trainer.load(bytes, { gpu: g });
    expect(b.timesteps).toBe(a.timesteps);
    expect(b.iteration).toBe(a.iteration);
    const sa = await a.state();
    const sb = await b.state();
    expect(sb.policy).toEqual(sa.policy);
    expect(sb.value).toEqual(sa.value);
    expect(sb.adamMoments).toEqual(sa.adamMoments);
    expect(sb.adamStep).toBe(sa.adamStep);
    // The loaded trainer keeps training (its envs start fresh episodes, so runs differ from here).
    const more = await b.train({ totalTimesteps: 3 * 128 });
    expect(more).toHaveLength(1);
    expect(b.timesteps).toBe(3 * 128);
    a.destroy();
    b.destroy();
  });

  it('rejects malformed checkpoints with a clear error', async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 1, gpu: g, config: SMALL });
    const good = JSON.parse(new TextDecoder().decode(await t.save())) as Record<string, unknown>;
    t.destroy();
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const nanPolicy = (() => {
      const bytes = Uint8Array.from(atob(good.policy as string), (c) => c.charCodeAt(0));
      new Float32Array(bytes.buffer)[3] = Number.NaN;
      return btoa(String.fromCharCode(...bytes));
    })();
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('not json'), /not a webgpu-trpo checkpoint/],
      [enc({ ...good, format: 'x' }), /format must be/],
      [enc({ ...good, version: 99 }), /field version: 99/],
      [enc({ ...good, env: 'Foo-v0' }), /invalid checkpoint field env: "Foo-v0"/],
      [enc({ ...good, config: { ...(good.config as object), gamma: 2 } }), /config: invalid gamma: 2/],
      [enc({ ...good, policy: (good.policy as string).slice(0, 40) }), /field policy: 30 bytes, the config and env need \d+ floats/],
      [enc({ ...good, policy: nanPolicy }), /field policy: element 3 is NaN/],
      [enc({ ...good, iteration: -2 }), /field iteration: -2 is not a non-negative integer/],
    ];
    for (const [bytes, msg] of cases) {
      await expect(Trainer.load(bytes, { gpu: g })).rejects.toThrow(msg);
      await expect(Trainer.load(bytes, { gpu: g })).rejects.toBeInstanceOf(CheckpointError);
    }
    await expect(Trainer.load('/nonexistent/checkpoint.json')).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });

  it('evaluates deterministically and validates its options', async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 2, gpu: g, config: SMALL });
    const a = await t.evaluate({ episodes: 5 });
    const b = await t.evaluate({ episodes: 5 });
    expect(b).toEqual(a);
    expect(a.returns).toHaveLength(5);
    for (const [r, l] of a.returns.map((r, i) => [r, a.lengths[i]!])) expect(r).toBe(l); // reward 1 per step
    await expect(t.evaluate({ episodes: 0 })).rejects.toThrow(/invalid episodes: 0/);
    await expect(t.train({ totalTimesteps: -5 })).rejects.toThrow(/invalid totalTimesteps: -5/);
    t.destroy();
    await expect(t.iterate()).rejects.toThrow(/destroyed/);
  });
});
