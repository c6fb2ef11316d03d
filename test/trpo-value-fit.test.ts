/** The value-function fit (minibatch Adam on mean (V − R)²) against a float64 reference. */
import { afterAll, describe, expect, it } from 'vitest';
import { runOps } from '../src/gpu/index.js';
import { MlpKernels, mlpLayout, type MlpKernelsOptions } from '../src/nn/mlp.js';
import { resolveConfig } from '../src/algos/trpo/config.js';
import { stat, statCount } from '../src/rl/stats.js';
import { ADAM, ValueFitStage } from '../src/rl/value-fit.js';
import { valueGradStationaryWgsl } from '../src/nn/backends/subgroup8/value-step.js';
import { refBackward, refForward } from './reference/mlp.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

/** Adam's state in float64: θ and the moments m, v. */
interface RefState {
  theta: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** `steps` Adam steps on minibatches perm[c·B .. c·B + B), from step count t0, in float64 (updates `s`). */
function refFit(
  sizes: number[],
  s: RefState,
  obs: Float32Array,
  returns: Float32Array,
  perm: Uint32Array,
  B: number,
  steps: number,
  lr: number,
  t0: number,
): void {
  const layout = mlpLayout(sizes);
  const obsDim = sizes[0]!;
  const P = layout.paramCount;
  const { theta, m, v } = s;
  for (let c = 0; c < steps; c++) {
    const idx = perm.subarray(c * B, (c + 1) * B);
    const x = new Float64Array(B * obsDim);
    idx.forEach((n, i) => x.set(obs.subarray(n * obsDim, (n + 1) * obsDim), i * obsDim));
    const f = refForward(layout, theta, x, B);
    const gOut = Float64Array.from({ length: B }, (_, i) => (2 * (f.output[i]! - returns[idx[i]!]!)) / B);
    const g = refBackward(layout, theta, x, gOut, B).gradParams;
    const t = t0 + c + 1;
    for (let k = 0; k < P; k++) {
      m[k] = ADAM.beta1 * m[k]! + (1 - ADAM.beta1) * g[k]!;
      v[k] = ADAM.beta2 * v[k]! + (1 - ADAM.beta2) * g[k]! * g[k]!;
      const mHat = m[k]! / (1 - ADAM.beta1 ** t);
      const vHat = v[k]! / (1 - ADAM.beta2 ** t);
      theta[k] = theta[k]! - (lr * mHat) / (Math.sqrt(vHat) + ADAM.eps);
    }
  }
}

/** The minibatch order ValueFitStage.prepare draws from `random`: a fresh permutation per epoch. */
function permutations(random: TestRandom, N: number, epochs: number): number[] {
  const perm: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const p = Array.from({ length: N }, (_, i) => i);
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    perm.push(...p);
  }
  return perm;
}

describe.skipIf(!gpu)('value fit', () => {
  const cases = [
    // Minibatches smaller than, equal to and not a multiple of a 64-sample chunk; 1 to 3 hidden
    // layers, narrow and wide (wider than a chunk, so a layer needs two column passes).
    { sizes: [3, 8, 1], B: 5, minibatches: 3, epochs: 1 },
    { sizes: [4, 64, 64, 1], B: 64, minibatches: 2, epochs: 2 },
    { sizes: [3, 65, 1], B: 65, minibatches: 3, epochs: 1 },
    { sizes: [17, 20, 130, 7, 1], B: 200, minibatches: 2, epochs: 1 },
    // Returns within ~1e-4 of V: gradients near Adam's ε, where a step's size depends on the
    // gradient's magnitude and not only on its sign (Adam is otherwise blind to a scale error).
    // Small weights keep V small, so V − R is not lost to float32 rounding of V; one step only,
    // since after it V has moved by far more than 1e-4.
    { sizes: [4, 64, 64, 1], B: 128, minibatches: 1, epochs: 1, residual: 1e-4, weights: 0.05 },
    // Shapes of the weight-stationary kernel: an observation padded to 4 (3) or 8 (5), layers
    // of 4 and 8 rows per lane, a layer of two row blocks (128); minibatches in 1 chunk (256),
    // 2 chunks with a ragged one (100: 56 + 44), 3 (64: 24 + 24 + 16) and 5 (40 in 8s).
    { sizes: [3, 32, 64, 1], B: 100, minibatches: 2, epochs: 1, workgroups: 2 },
    { sizes: [5, 128, 32, 1], B: 40, minibatches: 2, epochs: 2, workgroups: 8 },
    { sizes: [4, 64, 1], B: 256, minibatches: 1, epochs: 1, workgroups: 1 },
    { sizes: [4, 64, 64, 1], B: 64, minibatches: 3, epochs: 1, workgroups: 3 },
    // The default of one workgroup: the fit's six minibatches (a ragged 100 in 104) one after the
    // other in one dispatch of the weight-stationary kernel, as in the case of [4, 64, 64, 1] above.
    { sizes: [3, 32, 64, 1], B: 100, minibatches: 3, epochs: 2 },
  ];
  // The weight-stationary kernel where the device allows it (the default), the row-broadcast
  // subgroup kernel, and the per-invocation one.
  const paths = [{}, { backend: 'generic' as const }, { backend: 'generic-no-subgroups' as const }];
  const grid = paths.flatMap((options) => cases.map((c) => ({ ...c, options, path: JSON.stringify(options) })));
  it.each(grid)('matches float64 minibatch Adam: $sizes, minibatch $B, kernels $path', async ({ sizes, B, minibatches, epochs, residual, weights, workgroups, options }) => {
    const g = gpu!;
    const N = B * minibatches;
    const obsDim = sizes[0]!;
    const rnd = new TestRandom(N + sizes.length);
    const layout = mlpLayout(sizes);
    const P = layout.paramCount;
    // A fixed step count t0 before this fit exercises the bias correction from a restored state.
    const t0 = 3;
    const lr = 1e-3;
    const theta0 = rnd.normals(P, weights ?? 0.3);
    const obs = rnd.f32(N * obsDim, -2, 2);
    const returns = rnd.f32(N, -5, 5);
    if (residual !== undefined) {
      const v0 = refForward(layout, theta0, obs, N).output;
      for (let n = 0; n < N; n++) returns[n] = v0[n]! + residual * rnd.uniform(-1, 1);
    }
    const cfg = resolveConfig({ nEnvs: 1, nSteps: N, vfBatchSize: B, vfEpochs: epochs, vfLr: lr, valueHidden: sizes.slice(1, -1) });

    const mlp = new MlpKernels(g, layout, options);
    const value = g.upload('test/value', theta0);
    const obsBuf = g.upload('test/obs', obs);
    const retBuf = g.upload('test/returns', returns);
    const stats = g.storage('test/stats', statCount(1) * 4);
    const stage = new ValueFitStage(g, mlp, value, { obs: obsBuf, returns: retBuf, stats }, obsDim, cfg, { workgroups });
    g.device.queue.writeBuffer(stage.counter, 4, new Uint32Array([t0]));
    // Two fits in a row, as two training iterations run them: the second starts from the first's
    // θ, Adam moments and step count. Permutations from a known source, so the reference sees
    // the same minibatches.
    const order = new TestRandom(7);
    const again = new TestRandom(7);
    const steps = epochs * minibatches;
    const want: RefState = { theta: Float64Array.from(theta0), m: new Float64Array(P), v: new Float64Array(P) };
    let firstTheta = new Float64Array(0);
    for (let fit = 0; fit < 2; fit++) {
      stage.prepare(() => order.next());
      runOps(g, 'test/value-fit', stage.ops);
      refFit(sizes, want, obs, returns, Uint32Array.from(permutations(again, N, epochs)), B, steps, lr, t0 + fit * steps);
      if (fit === 0) firstTheta = Float64Array.from(want.theta);
    }
    const got = await g.readF32(value);
    const counter = await g.readU32(stage.counter);
    const moments = await g.readF32(stage.moments);
    const statsOut = await g.readF32(stats);

    // Compared with the largest step of the reference's second fit: in float32 a gradient
    // differs from the float64 one in its last bits, which moves a step by a small fraction of it
    // (more where a gradient component is near zero, where m/√v is ill-conditioned).
    let moved = 0;
    for (let k = 0; k < P; k++) moved = Math.max(moved, Math.abs(want.theta[k]! - firstTheta[k]!));
    // The parameters did move (a fit that did nothing would fail here) ...
    expect(moved).toBeGreaterThan(0.05 * lr);
    // ... and as the reference did (worst seen: 3e-4 of the largest step).
    let worst = 0;
    for (let k = 0; k < P; k++) worst = Math.max(worst, Math.abs(got[k]! - want.theta[k]!));
    expect(worst).toBeLessThan(2e-3 * moved);
    // The moments carried to the next iteration (checkpoints save them too), relative to the
    // largest. With residuals of 1e-4 the gradients are differences V − R ~1e-4 of values ~0.1–1,
    // so float32's rounding of V alone is ~1e-3 of a gradient (seen: 1.9e-3 of v = Σ g²).
    const momentTol = residual === undefined ? 1e-3 : 1e-2;
    for (const [half, ref] of [want.m, want.v].entries()) {
      const scale = Math.max(...ref.map(Math.abs));
      let err = 0;
      for (let k = 0; k < P; k++) err = Math.max(err, Math.abs(moments[half * P + k]! - ref[k]!));
      expect(err).toBeLessThan(momentTol * scale);
    }
    expect([...counter.subarray(0, 2)]).toEqual([steps, t0 + 2 * steps]);

    // Logged loss: mean (V(s) − R)² of the fitted V over the whole batch.
    const f = refForward(layout, want.theta, obs, N);
    let loss = 0;
    for (let n = 0; n < N; n++) loss += (f.output[n]! - returns[n]!) ** 2 / N;
    expect(Math.abs(statsOut[stat('VALUE_LOSS')]! - loss)).toBeLessThan(1e-3 * (1 + loss));
    stage.destroy();
    mlp.destroy();
    for (const b of [value, obsBuf, retBuf, stats]) b.destroy();
  });

  it("shares one stationary kernel between observations of 3 and 4 (one compile for CartPole's and Pendulum's value fits)", () => {
    const code = (sizes: number[]) => valueGradStationaryWgsl({ sizes });
    expect(code([3, 64, 64, 1])).toBe(code([4, 64, 64, 1]));
    expect(code([5, 64, 64, 1])).not.toBe(code([4, 64, 64, 1]));
  });

  it('rejects a workgroup count that is not a positive integer, naming it', () => {
    const g = gpu!;
    const layout = mlpLayout([4, 64, 64, 1]);
    const cfg = resolveConfig({ nEnvs: 1, nSteps: 256, vfBatchSize: 128, vfEpochs: 1 });
    const mlp = new MlpKernels(g, layout);
    const b = g.storage('test/any', 256 * 4 * 4);
    for (const workgroups of [0, 1.5, -2]) {
      expect(() => new ValueFitStage(g, mlp, b, { obs: b, returns: b, stats: b }, 4, cfg, { workgroups })).toThrow(
        `value fit: workgroups must be a positive integer, got ${workgroups}`,
      );
    }
    mlp.destroy();
    b.destroy();
  });

  it('computes the gradient with the weight-stationary kernel exactly where it fits', () => {
    const g = gpu!;
    const kernelFor = (sizes: number[], options: MlpKernelsOptions = {}) => {
      const layout = mlpLayout(sizes);
      const cfg = resolveConfig({ nEnvs: 1, nSteps: 256, vfBatchSize: 128, vfEpochs: 1, valueHidden: sizes.slice(1, -1) });
      const mlp = new MlpKernels(g, layout, options);
      const buffers = [g.storage('test/value', layout.paramCount * 4), g.storage('test/obs', 256 * sizes[0]! * 4), g.storage('test/returns', 256 * 4), g.storage('test/stats', statCount(1) * 4)];
      const [value, obs, returns, stats] = buffers as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
      const stage = new ValueFitStage(g, mlp, value, { obs, returns, stats }, sizes[0]!, cfg);
      const kernel = stage.gradKernel;
      // Its two minibatches: in one dispatch (one workgroup takes both), else one or two each.
      const grads = stage.ops.filter((op) => op.label === 'value-grad').length;
      expect(grads).toBe(kernel === 'stationary' ? 1 : 2);
      stage.destroy();
      mlp.destroy();
      for (const b of buffers) b.destroy();
      return kernel;
    };
    const sg = g.subgroups !== null && g.subgroups.max <= 16 ? 'subgroups' : 'per-invocation';
    const stationary = g.subgroups?.min === 8 && g.subgroups.max === 8 ? 'stationary' : sg;
    expect(kernelFor([4, 64, 64, 1])).toBe(stationary);
    expect(kernelFor([3, 32, 1])).toBe(stationary);
    // A hidden width that is not a multiple of 32; W₁ᵀ's rows too long for a lane (64 × 256).
    expect(kernelFor([3, 65, 1])).toBe(sg);
    expect(kernelFor([4, 64, 256, 1])).toBe(sg);
    expect(kernelFor([4, 64, 64, 1], { backend: 'generic' })).toBe(sg);
    expect(kernelFor([4, 64, 64, 1], { backend: 'generic-no-subgroups' })).toBe('per-invocation');
  });
});
