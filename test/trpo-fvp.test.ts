/**
 * The GPU Fisher-vector product against finite differences of the gradient of mean
 * KL(π_old ‖ π_θ), computed in float64 from the TS references, for both policy heads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getEnvSpec } from '../src/envs/registry.js';
import type { EnvId } from '../src/envs/registry.js';
import { MlpKernels, mlpLayout, type MlpLayout } from '../src/nn/mlp.js';
import { fisherVectorProductOps, fvpPrepareOps, fvpScratch } from '../src/algos/trpo/fvp.js';
import { PolicyKernels } from '../src/algos/trpo/policy-kernels.js';
import { actorFor } from '../src/rl/actor.js';
import { runOps } from '../src/gpu/index.js';
import { catKlGradNew, gaussKlGradNew } from './reference/heads.js';
import { refBackward, refForward } from './reference/mlp.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

/** ∇_θ mean_n KL(π_old,n ‖ π_θ,n) in float64, θ = [network | log-std]. */
function klGrad(layout: MlpLayout, discrete: boolean, A: number, thetaOld: Float64Array, theta: Float64Array, obs: Float32Array, N: number): Float64Array {
  const P = theta.length;
  const Pmlp = layout.paramCount;
  const zOld = refForward(layout, thetaOld, obs, N).output;
  const z = refForward(layout, theta, obs, N).output;
  const gradZ = new Float64Array(N * A);
  const grad = new Float64Array(P);
  for (let n = 0; n < N; n++) {
    const zo = zOld.subarray(n * A, (n + 1) * A);
    const zn = z.subarray(n * A, (n + 1) * A);
    if (discrete) {
      catKlGradNew(zo, zn).forEach((v, j) => (gradZ[n * A + j] = v / N));
    } else {
      const g = gaussKlGradNew(zo, thetaOld.subarray(Pmlp), zn, theta.subarray(Pmlp));
      g.mean.forEach((v, j) => (gradZ[n * A + j] = v / N));
      g.logStd.forEach((v, j) => (grad[Pmlp + j] = grad[Pmlp + j]! + v / N));
    }
  }
  grad.set(refBackward(layout, theta, obs, gradZ, N).gradParams.subarray(0, Pmlp));
  return grad;
}

// Each case in forward mode and, where the device runs its kernels (the hidden layers of 32 and
// 64 units on lavapipe), through the output Jacobian; the test says which one ran.
const SHAPES: Array<{ env: EnvId; hidden: number[]; N: number }> = [
  { env: 'CartPole-v1', hidden: [7, 5], N: 65 },
  { env: 'CartPole-v1', hidden: [64, 64], N: 1000 },
  { env: 'Pendulum-v1', hidden: [9], N: 63 },
  { env: 'Pendulum-v1', hidden: [64, 64], N: 257 },
  { env: 'PointMass-v0', hidden: [16, 16], N: 1000 },
  { env: 'PointMass-v0', hidden: [32], N: 131 },
];
const CASES = SHAPES.flatMap((c) => [true, false].map((outputJacobian) => ({ ...c, outputJacobian })));

describe.skipIf(!gpu)('Fisher-vector product', () => {
  it.each(CASES)('matches finite differences of ∇KL: $env, hidden $hidden, N $N, output Jacobian $outputJacobian', async ({ env, hidden, N, outputJacobian }) => {
    const g = gpu!;
    const spec = getEnvSpec(env);
    const discrete = spec.actionSpace.type === 'Discrete';
    const A = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
    const layout = mlpLayout([spec.obsDim, ...hidden, A]);
    const Pmlp = layout.paramCount;
    const P = Pmlp + (discrete ? 0 : A);
    const rnd = new TestRandom(1234 + N);
    const theta32 = rnd.normals(P, 0.4);
    if (!discrete) for (let j = 0; j < A; j++) theta32[Pmlp + j] = rnd.uniform(-1, 0.5);
    const obs = rnd.f32(N * spec.obsDim, -2, 2);
    const v32 = rnd.normals(P, 1);
    const damping = 0.1;

    const mlp = new MlpKernels(g, layout, { outputJacobian });
    const kernels = new PolicyKernels(g, spec, actorFor(spec, hidden), {
      n: N, nFvp: N, paramCount: P, logStdOffset: discrete ? P : Pmlp, candidates: 1,
      distOldOffset: 0, logpOldOffset: 0, maxKl: 0.01, shrink: 0.8, entCoef: 0, damping,
    });
    const theta = g.upload('t/theta', theta32);
    const obsBuf = g.upload('t/obs', obs);
    const v = g.upload('t/v', v32);
    const out = g.upload('t/out', new Float32Array(P).fill(Number.NaN));
    const dist = g.storage('t/dist', N * A * 4);
    const acts = g.storage('t/acts', mlp.actsLength(N) * 4);
    const stats = g.storage('t/stats', 64 * 4);
    const ctx = { gpu: g, mlp, kernels, theta, obs: obsBuf, dist, acts, batch: N, headDim: A, stats };
    const scratch = fvpScratch(ctx);
    // The path taken: through G exactly where asked for and the kernels fit.
    expect(scratch.jacobian !== null).toBe(outputJacobian && mlp.jacobianRows !== null);
    if (outputJacobian && mlp.backend.name === 'subgroup8' && hidden.every((h) => h === 32 || h === 64)) expect(scratch.jacobian).not.toBeNull();
    runOps(g, 'fvp-test', [
      mlp.forwardOp({ params: theta, input: obsBuf, output: dist, acts, batch: N }),
      ...fvpPrepareOps(ctx, scratch),
      ...fisherVectorProductOps(ctx, scratch, v, out),
    ]);
    const fv = await g.readF32(out);

    const t0 = Float64Array.from(theta32);
    const eps = 1e-4;
    const plus = klGrad(layout, discrete, A, t0, t0.map((x, i) => x + eps * v32[i]!), obs, N);
    const minus = klGrad(layout, discrete, A, t0, t0.map((x, i) => x - eps * v32[i]!), obs, N);
    const ref = plus.map((p, i) => (p - minus[i]!) / (2 * eps) + damping * v32[i]!);
    const scale = Math.max(...ref.map(Math.abs));
    // f32 forward/JVP/backward over ≤ 64-wide layers and a batch mean: relative 1e-4 of the
    // largest entry covers the rounding (about 1e-6) with margin; the FD error is O(eps²) ≈ 1e-8.
    let worst = 0;
    for (let i = 0; i < P; i++) worst = Math.max(worst, Math.abs(fv[i]! - ref[i]!) / scale);
    expect(worst).toBeLessThan(1e-4);
    // And F is the damped, positive definite matrix it should be: vᵀFv ≥ damping·‖v‖².
    let vfv = 0;
    let vv = 0;
    for (let i = 0; i < P; i++) { vfv += v32[i]! * fv[i]!; vv += v32[i]! ** 2; }
    expect(vfv).toBeGreaterThanOrEqual(damping * vv * (1 - 1e-5));
    for (const b of [theta, obsBuf, v, out, dist, acts, stats, scratch.jv, scratch.mjv, scratch.jacobian]) b?.destroy();
    mlp.destroy();
    kernels.destroy();
  });
});
