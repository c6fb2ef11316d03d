/** Conjugate gradient and the line search of the policy step. */
import { afterAll, describe, expect, it } from 'vitest';
import { getEnvSpec } from '../src/envs/registry.js';
import { runOps } from '../src/gpu/index.js';
import { MlpKernels, mlpLayout } from '../src/nn/mlp.js';
import { resolveConfig } from '../src/algos/trpo/config.js';
import { fisherVectorProductOps, fvpPrepareOps, fvpScratch } from '../src/algos/trpo/fvp.js';
import { lineSearch } from '../src/algos/trpo/line-search.js';
import { actorFor } from '../src/rl/actor.js';
import { PolicyKernels } from '../src/algos/trpo/policy-kernels.js';
import { PolicyStep } from '../src/algos/trpo/update.js';
import { CAND_BASE, stat, statCount } from '../src/rl/stats.js';
import { Trainer } from '../src/train/trainer.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe('line search decision', () => {
  const cfg = resolveConfig({ lineSearchSteps: 4, maxKl: 0.01 });
  const stats = (sur: number[], kl: number[], bad = 0) => {
    const s = new Float32Array(statCount(4));
    s[stat('BAD_STEP')] = bad;
    sur.forEach((v, k) => (s[CAND_BASE + k] = v));
    kl.forEach((v, k) => (s[CAND_BASE + 4 + k] = v));
    return s;
  };
  it('accepts the first candidate inside the trust region that improves L', () => {
    expect(lineSearch(stats([0.3, 0.2, 0.1, 0.05], [0.05, 0.009, 0.004, 0.001]), cfg, 0)).toEqual({ accepted: 1, reason: null });
  });
  it('rejects candidates that do not improve, and reports why none was accepted', () => {
    expect(lineSearch(stats([-0.1, -0.1, 0, -0.2], [0.001, 0.001, 0.001, 0.001]), cfg, 0)).toEqual({ accepted: null, reason: 'no-improvement' });
    expect(lineSearch(stats([1, 1, 1, 1], [1, 1, 1, 0.02]), cfg, 0)).toEqual({ accepted: null, reason: 'kl' });
  });
  it('never accepts a non-finite candidate', () => {
    expect(lineSearch(stats([Number.NaN, Infinity, 0.1, 0.1], [0.001, 0.001, Number.NaN, 0.001]), cfg, 0)).toEqual({ accepted: 3, reason: null });
    expect(lineSearch(stats([Number.NaN, Number.NaN, Number.NaN, Number.NaN], [0, 0, 0, 0]), cfg, 0).accepted).toBeNull();
  });
  it('rejects the whole step when xᵀFx was not finite and positive', () => {
    expect(lineSearch(stats([1, 1, 1, 1], [0, 0, 0, 0], 1), cfg, 0)).toEqual({ accepted: null, reason: 'non-finite-step' });
  });
  it('compares against the surrogate before the step, not against 0', () => {
    expect(lineSearch(stats([0.5, 0.5, 0.5, 0.5], [0, 0, 0, 0]), cfg, 0.5).accepted).toBeNull();
  });
});

describe.skipIf(!gpu)('conjugate gradient on the GPU', () => {
  it.each(['CartPole-v1', 'Pendulum-v1'] as const)('solves F x = g: residual ‖Fx − g‖/‖g‖ after cgIters (%s)', async (env) => {
    const g = gpu!;
    const spec = getEnvSpec(env);
    const discrete = spec.actionSpace.type === 'Discrete';
    const A = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
    const layout = mlpLayout([spec.obsDim, 6, A]);
    const Pmlp = layout.paramCount;
    const P = Pmlp + (discrete ? 0 : A);
    const N = 257;
    const rnd = new TestRandom(99);
    const residual = async (cgIters: number) => {
      const cfg = resolveConfig({ cgIters, nEnvs: 1, nSteps: N, vfBatchSize: 1, damping: 0.01 });
      const theta = g.upload('cg/theta', rnd.normals(P, 0.5));
      const obs = g.upload('cg/obs', rnd.f32(N * spec.obsDim, -2, 2));
      const actions = g.upload('cg/actions', discrete ? Float32Array.from({ length: N }, () => rnd.int(A)) : rnd.normals(N * A));
      const adv = g.upload('cg/adv', rnd.normals(N));
      const stats = g.storage('cg/stats', statCount(cfg.lineSearchSteps) * 4);
      const mlp = new MlpKernels(g, layout);
      const step = new PolicyStep(g, spec, actorFor(spec, [6]), mlp, { theta, obs, actions, advantages: adv, stats }, cfg);
      step.run();
      // F x at the same θ_old with a separate FVP.
      const kernels = new PolicyKernels(g, spec, actorFor(spec, [6]), {
        n: N, nFvp: N, paramCount: P, logStdOffset: discrete ? P : Pmlp, candidates: 1,
        distOldOffset: 0, logpOldOffset: 0, maxKl: 0.01, shrink: 0.8, entCoef: 0, damping: cfg.damping,
      });
      const dist = g.storage('cg/dist', N * A * 4);
      const acts = g.storage('cg/acts', mlp.actsLength(N) * 4);
      const fx = g.storage('cg/fx', P * 4);
      const ctx = { gpu: g, mlp, kernels, theta, obs, dist, acts, batch: N, headDim: A, stats: g.storage('cg/s2', 256) };
      const scratch = fvpScratch(ctx);
      runOps(g, 'cg-check', [
        mlp.forwardOp({ params: theta, input: obs, output: dist, acts, batch: N }),
        ...fvpPrepareOps(ctx, scratch),
        ...fisherVectorProductOps(ctx, scratch, step.vectors.x, fx),
      ]);
      const [gv, xv, fxv, st] = (await g.readRanges([{ buffer: step.vectors.g }, { buffer: step.vectors.x }, { buffer: fx }, { buffer: stats }])).map(
        (b) => new Float32Array(b),
      );
      let num = 0;
      let den = 0;
      let xFx = 0;
      for (let i = 0; i < P; i++) {
        num += (fxv![i]! - gv![i]!) ** 2;
        den += gv![i]! ** 2;
        xFx += xv![i]! * fxv![i]!;
      }
      const recurrence = Math.sqrt(st![stat('CG_RR')]! / st![stat('CG_RR0')]!);
      step.destroy();
      kernels.destroy();
      return { trueResidual: Math.sqrt(num / den), recurrence, xFx, shs: st![stat('SHS')]! };
    };
    const few = await residual(3);
    const many = await residual(Math.min(100, 2 * P));
    // The step length's xᵀFx comes from CG's residual (gᵀx − xᵀr), not from another product: it
    // must match xᵀ(F x) with F x from a separate FVP, summed in float64 (seen: 1–3e-7 relative).
    for (const r of [few, many]) expect(Math.abs(r.shs - r.xFx)).toBeLessThan(1e-5 * r.xFx);
    // With P unknowns, CG converges in ≤ P steps in exact arithmetic; 2P iterations in f32 must
    // bring the true residual far below the 3-iteration one, and the recurrence must track it.
    expect(many.trueResidual).toBeLessThan(1e-3);
    expect(few.trueResidual).toBeGreaterThan(10 * many.trueResidual);
    expect(Math.abs(few.recurrence - few.trueResidual)).toBeLessThan(0.05 * few.trueResidual + 1e-5);
  });
});

describe.skipIf(!gpu)('failed line search', () => {
  it('keeps θ_old when every candidate leaves the trust region', async () => {
    const t = await Trainer.create('trpo', { env: 'CartPole-v1', seed: 3, gpu: gpu!, config: { nEnvs: 4, nSteps: 64, vfBatchSize: 64, maxKl: 1e-9, lineSearchSteps: 3 } });
    const before = (await t.state()).policy;
    const m = await t.iterate();
    const after = (await t.state()).policy;
    expect(m.accepted).toBe(false);
    expect(m.rejectReason).toBe('kl');
    expect(m.kl).toBe(0);
    expect(after).toEqual(before);
    t.destroy();
  });
});
