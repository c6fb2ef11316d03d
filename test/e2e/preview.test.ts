/**
 * The demo's live preview kernel (src/trpo/preview.ts) against the float64 TS twins, teacher-forced:
 * every recorded frame must follow from the previous one by the twin's step with the recorded
 * action, the deterministic action must be the policy's argmax / clipped mean (float64 MLP
 * reference), episodes must end, reset and keep their return and length as the rollout does, and
 * chunks must continue one another. `probe` must match the reference forward pass.
 *
 * Tolerances: states |diff| ≤ 2e-5 + 2e-5·|ref| (one f32 step from an f32 state; Pendulum's sin of
 * large angles dominates); actions and probe outputs ≤ 1e-5·(error scale of the reference) + 1e-6.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_IDS, envSpecs, type EnvId, type EnvSpec } from '../../src/envs/index.js';
import { checkEnvId } from '../../src/envs/registry.js';
import { mlpLayout } from '../../src/nn/mlp.js';
import { FRAME_END, PolicyPreview, type PreviewFrames } from '../../src/rl/preview.js';
import { actorFor } from '../../src/rl/actor.js';
import { THETA_THRESHOLD, X_THRESHOLD } from '../reference/envs/cartpole.js';
import { twins } from '../reference/envs/index.js';
import { GOAL_RADIUS } from '../reference/envs/pointmass.js';
import { refForward } from '../reference/mlp.js';
import { TestRandom } from '../reference/random.js';
import { testGpu } from '../gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const SEED = 4242;
const N_ENVS = 5;
const HIDDEN = [16, 16];

function headDim(spec: EnvSpec): number {
  return spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
}

/** Random policy weights (and log-std −0.5 for Gaussian heads) that make episodes end quickly on CartPole. */
function randomPolicy(spec: EnvSpec, seed: number) {
  const layout = mlpLayout([spec.obsDim, ...HIDDEN, headDim(spec)]);
  const actor = actorFor(spec, HIDDEN);
  const r = new TestRandom(seed);
  const discrete = spec.actionSpace.type === 'Discrete';
  const theta = new Float32Array(layout.paramCount + (discrete ? 0 : headDim(spec)));
  theta.set(r.normals(layout.paramCount, 0.6));
  theta.fill(-0.5, layout.paramCount);
  return { layout, actor, theta };
}

function nearThreshold(id: EnvId, s: readonly number[]): boolean {
  if (id === 'CartPole-v1') return Math.abs(Math.abs(s[0]!) - X_THRESHOLD) < 1e-5 || Math.abs(Math.abs(s[2]!) - THETA_THRESHOLD) < 1e-5;
  if (id === 'PointMass-v0') return Math.abs(Math.abs(s[0]!) - GOAL_RADIUS) < 1e-5 || Math.abs(Math.abs(s[1]!) - GOAL_RADIUS) < 1e-5;
  return false;
}

const close = (got: number, ref: number, abs: number, rel: number): boolean => Math.abs(got - ref) <= abs + rel * Math.abs(ref);

interface Checked {
  frames: number;
  ends: number;
  terminations: number;
  truncations: number;
  actionsOffMean: number;
}

/** Walks the frames of consecutive chunks (the first right after a reset) and checks each transition against the twin. */
function checkFrames(spec: EnvSpec, chunks: PreviewFrames[], theta: Float32Array, deterministic: boolean): Checked {
  const twin = twins[checkEnvId(spec.id)];
  const { layout } = randomPolicy(spec, 0);
  const discrete = spec.actionSpace.type === 'Discrete';
  const low = spec.actionSpace.type === 'Box' ? spec.actionSpace.low : [0];
  const high = spec.actionSpace.type === 'Box' ? spec.actionSpace.high : [0];
  const out: Checked = { frames: 0, ends: 0, terminations: 0, truncations: 0, actionsOffMean: 0 };
  const S = spec.stateDim;
  for (let e = 0; e < N_ENVS; e++) {
    const frames: Float32Array[] = [];
    for (const c of chunks) for (let t = 0; t < c.nSteps; t++) frames.push(c.data.subarray((t * c.nEnvs + e) * c.stride, (t * c.nEnvs + e + 1) * c.stride));
    let episode = 0;
    // The first frame is the first episode's reset state.
    const first = twin.reset(SEED, e, 0, 5);
    for (let i = 0; i < S; i++) expect(close(frames[0]![i]!, first[i]!, 1e-6, 1e-6), `env ${e} reset[${i}]`).toBe(true);
    for (let t = 0; t + 1 < frames.length; t++) {
      const f = frames[t]!;
      const next = frames[t + 1]!;
      const s = Array.from(f.subarray(0, S));
      const action = f[S]!;
      const ret = f[S + 1]!;
      const len = f[S + 2]!;
      const end = f[S + 3]!;
      out.frames++;
      // The action: in bounds always; the argmax / clipped mean when deterministic.
      const obs = twin.observe(s);
      const ref = refForward(layout, theta, obs, 1);
      if (discrete) {
        expect([0, 1]).toContain(action);
        const [z0, z1] = [ref.output[0]!, ref.output[1]!];
        const tie = Math.abs(z0 - z1) <= 1e-5 * (ref.outputScale[0]! + ref.outputScale[1]!) + 1e-6;
        if (deterministic && !tie) expect(action, `env ${e} step ${t} argmax`).toBe(z1 > z0 ? 1 : 0);
        if ((z1 > z0 ? 1 : 0) !== action) out.actionsOffMean++;
      } else {
        expect(action).toBeGreaterThanOrEqual(low[0]!);
        expect(action).toBeLessThanOrEqual(high[0]!);
        const mean = Math.min(high[0]!, Math.max(low[0]!, ref.output[0]!));
        const tol = 1e-5 * ref.outputScale[0]! + 1e-6;
        if (deterministic) expect(Math.abs(action - mean), `env ${e} step ${t} mean action`).toBeLessThanOrEqual(tol);
        if (Math.abs(action - mean) > tol) out.actionsOffMean++;
      }
      expect(len).toBe(Math.round(len));
      const step = twin.step(s, action);
      const truncated = len + 1 >= spec.maxEpisodeSteps;
      if (!nearThreshold(checkEnvId(spec.id), step.state)) {
        const want = step.terminated ? FRAME_END.terminated : truncated ? FRAME_END.truncated : FRAME_END.none;
        expect(end, `env ${e} step ${t} end code`).toBe(want);
      }
      if (end !== FRAME_END.none) {
        out.ends++;
        if (end === FRAME_END.terminated) out.terminations++;
        else out.truncations++;
        episode++;
        const r = twin.reset(SEED, e, episode * spec.resetCounters, 5);
        for (let i = 0; i < S; i++) expect(close(next[i]!, r[i]!, 1e-6, 1e-6), `env ${e} reset after step ${t}`).toBe(true);
        expect(next[S + 1]).toBe(0);
        expect(next[S + 2]).toBe(0);
      } else {
        for (let i = 0; i < S; i++) {
          expect(close(next[i]!, step.state[i]!, 2e-5, 2e-5), `env ${e} step ${t} state[${i}]: ${next[i]} vs ${step.state[i]}`).toBe(true);
        }
        expect(close(next[S + 1]!, ret + step.reward, 1e-4, 1e-5), `env ${e} step ${t} return`).toBe(true);
        expect(next[S + 2]).toBe(len + 1);
      }
    }
  }
  return out;
}

describe.skipIf(!gpu)('demo live preview', () => {
  for (const id of ENV_IDS) {
    const spec = envSpecs[id];
    it(`${id}: deterministic frames follow the twin across chunks, episodes end and reset`, async () => {
      const { actor, theta } = randomPolicy(spec, 7);
      const policy = gpu!.upload('test/policy', theta);
      const preview = new PolicyPreview(gpu!, spec, actor, policy, {
        nEnvs: N_ENVS,
        maxSteps: 160,
        seed: SEED,
        deterministic: true,
      });
      try {
        // Three chunks of uneven length cross Pendulum's and PointMass's time limits.
        const before = { ...gpu!.counters };
        const chunks = [await preview.record(160), await preview.record(1), await preview.record(97)];
        // Each chunk is one submit that also carries its readback.
        expect(gpu!.counters.submits - before.submits).toBe(3);
        expect(gpu!.counters.readbacks - before.readbacks).toBe(3);
        const c = checkFrames(spec, chunks, theta, true);
        expect(c.frames).toBe(N_ENVS * 257);
        expect(c.ends).toBeGreaterThan(0);
        if (id === 'CartPole-v1') expect(c.terminations).toBeGreaterThan(0);
        else expect(c.truncations).toBeGreaterThan(0);
        // reset() starts every env on its first episode again.
        preview.reset();
        const again = await preview.record(3);
        for (let e = 0; e < N_ENVS; e++) {
          expect(Array.from(again.data.subarray(e * again.stride, e * again.stride + again.stride))).toEqual(
            Array.from(chunks[0]!.data.subarray(e * again.stride, e * again.stride + again.stride)),
          );
        }
        await gpu!.flush();
      } finally {
        preview.destroy();
        policy.destroy();
      }
    });

    it(`${id}: sampled actions stay in bounds and the dynamics still follow the twin`, async () => {
      const { actor, theta } = randomPolicy(spec, 11);
      const policy = gpu!.upload('test/policy', theta);
      const preview = new PolicyPreview(gpu!, spec, actor, policy, {
        nEnvs: N_ENVS,
        maxSteps: 64,
        seed: SEED,
      });
      try {
        const c = checkFrames(spec, [await preview.record(64), await preview.record(64)], theta, false);
        // A sample differs from the mode some of the time.
        expect(c.actionsOffMean).toBeGreaterThan(0);
      } finally {
        preview.destroy();
        policy.destroy();
      }
    });

    it(`${id}: probe returns the policy head on given observations`, async () => {
      const { layout, actor, theta } = randomPolicy(spec, 13);
      const policy = gpu!.upload('test/policy', theta);
      const preview = new PolicyPreview(gpu!, spec, actor, policy, {
        nEnvs: 1,
        maxSteps: 1,
        seed: SEED,
        maxProbe: 65,
      });
      try {
        for (const count of [1, 64, 65]) {
          const obs = new TestRandom(count).f32(count * spec.obsDim, -2, 2);
          const got = await preview.probe(obs);
          const ref = refForward(layout, theta, obs, count);
          expect(got.length).toBe(count * headDim(spec));
          for (let k = 0; k < got.length; k++) {
            expect(Math.abs(got[k]! - ref.output[k]!)).toBeLessThanOrEqual(1e-5 * ref.outputScale[k]! + 1e-6);
          }
        }
        await expect(preview.probe(new Float32Array(66 * spec.obsDim))).rejects.toThrow(/probe takes 1 to 65/);
        await expect(preview.record(2)).rejects.toThrow(/nSteps must be an integer from 1 to 1/);
      } finally {
        preview.destroy();
        policy.destroy();
      }
    });
  }
});
