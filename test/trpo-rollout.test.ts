/**
 * The rollout's policy: the actions it samples against a float64 forward pass of the policy on
 * the observations it recorded, and the subgroup kernel (rollout-sg.ts) against the
 * per-invocation one on the same seeds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getEnvSpec } from '../src/envs/registry.js';
import type { EnvId } from '../src/envs/registry.js';
import { runOps } from '../src/gpu/index.js';
import { mlpLayout } from '../src/nn/mlp.js';
import { RolloutStage } from '../src/rl/rollout.js';
import { actorFor } from '../src/rl/actor.js';
import { pickBackend } from '../src/nn/backend.js';
import { rolloutSgFits } from '../src/nn/backends/subgroup8/rollout-policy.js';
import { refForward } from './reference/mlp.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const sg8 = !!gpu?.subgroups && gpu.subgroups.min === 8 && gpu.subgroups.max === 8;

/** Runs one rollout of nSteps from reset with the policy [mlp params | log std] and reads the batch. */
async function rollout(env: EnvId, hidden: number[], nEnvs: number, nSteps: number, theta: Float32Array, subgroups: boolean) {
  const g = gpu!;
  const spec = getEnvSpec(env);
  const actor = actorFor(spec, hidden);
  const policy = g.upload('test/policy', theta);
  const backend = pickBackend(g, subgroups ? 'auto' : 'generic');
  const stage = new RolloutStage(g, spec, actor, policy, { nEnvs, nSteps, seed: 11, backend });
  runOps(g, 'test/reset', [stage.resetOp()]);
  runOps(g, 'test/rollout', [stage.rolloutOp(0)]);
  const out = {
    entryPoint: stage.entryPoint,
    obs: await g.readF32(stage.buffers.obs),
    actions: await g.readF32(stage.buffers.actions),
    steps: await g.readF32(stage.buffers.steps),
  };
  stage.destroy();
  policy.destroy();
  return { ...out, sizes: [...actor.net.sizes], head: actor.headDim };
}

function policyParams(sizes: number[], head: number, logStd: number, seed: number): Float32Array {
  const P = mlpLayout(sizes).paramCount;
  const rnd = new TestRandom(seed);
  const theta = new Float32Array(P + head);
  theta.set(rnd.normals(P, 0.3));
  theta.fill(logStd, P);
  return theta;
}

describe.skipIf(!gpu)('rollout', () => {
  // 13 envs: a last subgroup with 3 live lanes. [32, 64]: 4 and 8 rows per lane, an input
  // broadcast from 4-row and 8-row lanes.
  const hidden = [32, 64];

  it.each([
    ['Pendulum-v1', true],
    ['Pendulum-v1', false],
    ['PointMass-v0', true],
  ] as const)('%s: the actions are the float64 policy mean of the recorded observations (subgroups %s)', async (env, subgroups) => {
    // log std −20: the sampled action is the mean to ~2e-9.
    const spec = getEnvSpec(env);
    const sizes = [spec.obsDim, ...hidden, spec.actionDim];
    const theta = policyParams(sizes, spec.actionDim, -20, 5);
    const nEnvs = 13;
    const nSteps = 24;
    const r = await rollout(env, hidden, nEnvs, nSteps, theta, subgroups);
    if (subgroups && sg8) expect(r.entryPoint).toBe('rollout_sg');
    const N = nEnvs * nSteps;
    const want = refForward(mlpLayout(sizes), theta, r.obs.subarray(0, N * spec.obsDim), N).output;
    let worst = 0;
    for (let i = 0; i < N * spec.actionDim; i++) worst = Math.max(worst, Math.abs(r.actions[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
    // float32 sums of 64 terms against float64 (worst seen 3e-7).
    expect(worst).toBeLessThan(1e-5);
  });

  it.each(['CartPole-v1', 'Pendulum-v1', 'PointMass-v0'] as const)('%s: the subgroup kernel steps the envs as the per-invocation one does', async (env) => {
    const spec = getEnvSpec(env);
    const head = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
    const sizes = [spec.obsDim, ...hidden, head];
    const theta = policyParams(sizes, head, -0.5, 9);
    const a = await rollout(env, hidden, 13, 40, theta, true);
    const b = await rollout(env, hidden, 13, 40, theta, false);
    expect(b.entryPoint).toBe('rollout');
    expect(a.entryPoint).toBe(sg8 ? 'rollout_sg' : 'rollout');
    if (spec.actionSpace.type === 'Discrete') {
      // Same logits to rounding, so the same sampled classes and the same trajectories, bit for bit.
      expect([...a.actions]).toEqual([...b.actions]);
      expect([...a.obs]).toEqual([...b.obs]);
      expect([...a.steps]).toEqual([...b.steps]);
    } else {
      // Continuous actions differ in their last bits, and so do the states that follow.
      const close = (x: Float32Array, y: Float32Array, tol: number) => {
        let worst = 0;
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
        expect(worst).toBeLessThan(tol);
      };
      close(a.actions, b.actions, 1e-4);
      close(a.obs, b.obs, 1e-4);
      close(a.steps, b.steps, 1e-4);
    }
  });

  it('uses the subgroup kernel exactly where the policy fits it', () => {
    expect(rolloutSgFits([4, 64, 64, 2])).toBe(true);
    expect(rolloutSgFits([3, 32, 64, 1])).toBe(true);
    // Widths not multiples of 32; a layer of more than 512 weights per lane; no hidden layer.
    expect(rolloutSgFits([4, 48, 2])).toBe(false);
    expect(rolloutSgFits([4, 64, 128, 2])).toBe(false);
    expect(rolloutSgFits([4, 2])).toBe(false);
  });
});
