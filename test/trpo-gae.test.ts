/** The advantage stage (V(s), V(s'), GAE, normalization) against a float64 reference. */
import { afterAll, describe, expect, it } from 'vitest';
import { runOps } from '../src/gpu/index.js';
import { MlpKernels, mlpLayout } from '../src/nn/mlp.js';
import { AdvantageStage } from '../src/rl/gae.js';
import { resolveConfig } from '../src/algos/trpo/config.js';
import { stat, statCount } from '../src/rl/stats.js';
import { refForward } from './reference/mlp.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

/** GAE in float64, straight from the definition (sample n = t·nEnvs + e). */
function refGae(nEnvs: number, nSteps: number, steps: Float32Array, v: Float64Array, vNext: Float64Array, gamma: number, lambda: number) {
  const N = nEnvs * nSteps;
  const adv = new Float64Array(N);
  for (let e = 0; e < nEnvs; e++) {
    let next = 0;
    for (let t = nSteps - 1; t >= 0; t--) {
      const n = t * nEnvs + e;
      const [r, term, trunc] = [steps[4 * n]!, steps[4 * n + 1]!, steps[4 * n + 2]!];
      const delta = r + (term ? 0 : gamma * vNext[n]!) - v[n]!;
      next = delta + (term || trunc ? 0 : gamma * lambda * next);
      adv[n] = next;
    }
  }
  return adv;
}

describe.skipIf(!gpu)('advantage stage', () => {
  it.each([
    { nEnvs: 1, nSteps: 1, normalize: true },
    { nEnvs: 3, nSteps: 21, normalize: false },
    { nEnvs: 64, nSteps: 65, normalize: true },
    { nEnvs: 7, nSteps: 1000, normalize: true },
  ])('matches the reference: $nEnvs envs × $nSteps steps, normalize $normalize', async ({ nEnvs, nSteps, normalize }) => {
    const g = gpu!;
    const obsDim = 3;
    const cfg = resolveConfig({ nEnvs, nSteps, gamma: 0.97, gaeLambda: 0.9, normalizeAdvantage: normalize, vfBatchSize: 1 });
    const N = nEnvs * nSteps;
    const rnd = new TestRandom(N);
    const layout = mlpLayout([obsDim, 8, 1]);
    const phi = rnd.normals(layout.paramCount, 0.5);
    const obs = rnd.f32(2 * N * obsDim, -1, 1);
    const steps = new Float32Array(4 * N);
    for (let n = 0; n < N; n++) {
      steps[4 * n] = rnd.uniform(-1, 2);
      const u = rnd.next();
      // Terminations, truncations and (rarely) both, as Gymnasium's TimeLimit allows.
      steps[4 * n + 1] = u < 0.05 || u > 0.99 ? 1 : 0;
      steps[4 * n + 2] = u > 0.9 ? 1 : 0;
    }
    const stats = g.upload('t/stats', new Float32Array(statCount(1)).fill(Number.NaN));
    const valueBuf = g.upload('t/phi', phi);
    const rollout = { obs: g.upload('t/obs', obs), steps: g.upload('t/steps', steps) };
    const stage = new AdvantageStage(g, new MlpKernels(g, layout), valueBuf, rollout, stats, cfg);
    g.device.queue.writeBuffer(stage.advantages, 0, new Float32Array(N).fill(Number.NaN));
    runOps(g, 'gae-test', stage.ops);
    const [adv, ret, st] = await g.readRanges([{ buffer: stage.advantages }, { buffer: stage.returns }, { buffer: stats }]);
    const advGpu = new Float32Array(adv!);
    const retGpu = new Float32Array(ret!);
    const statsGpu = new Float32Array(st!);

    const values = refForward(layout, phi, obs, 2 * N).output;
    const v = values.subarray(0, N);
    const refAdv = refGae(nEnvs, nSteps, steps, v, values.subarray(N), cfg.gamma, cfg.gaeLambda);
    // Returns are the raw advantages plus V(s): f32 recursion error grows with the horizon
    // 1/(1 − γλ) ≈ 7.6; 2e-5 relative to the largest magnitude is ~100 ulp.
    const scale = Math.max(1, ...refAdv.map(Math.abs));
    for (let n = 0; n < N; n++) expect(Math.abs(retGpu[n]! - (refAdv[n]! + v[n]!))).toBeLessThan(2e-5 * scale);
    const mean = refAdv.reduce((a, b) => a + b, 0) / N;
    const std = Math.sqrt(refAdv.reduce((a, b) => a + (b - mean) ** 2, 0) / N);
    expect(Math.abs(statsGpu[stat('ADV_MEAN_RAW')]! - mean)).toBeLessThan(2e-5 * scale);
    expect(Math.abs(statsGpu[stat('ADV_STD_RAW')]! - std)).toBeLessThan(2e-5 * scale);
    for (let n = 0; n < N; n++) {
      const want = normalize ? (refAdv[n]! - mean) / (std + 1e-8) : refAdv[n]!;
      // Normalized: error of A and of the mean, over std (a batch of one has std 0 and A = 0).
      const tol = normalize ? (N === 1 ? 1e-6 : (4e-5 * scale) / std) : 2e-5 * scale;
      expect(Number.isFinite(advGpu[n]!)).toBe(true);
      expect(Math.abs(advGpu[n]! - want)).toBeLessThan(tol);
    }
    stage.destroy();
    for (const b of [stats, valueBuf, rollout.obs, rollout.steps]) b.destroy();
  });
});
