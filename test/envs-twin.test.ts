/**
 * Each WGSL env vs its float64 TS twin on seeded random states and actions at awkward batch sizes,
 * including out-of-range continuous actions (clipping) and states whose next state lands just
 * inside or just outside a termination threshold (1e-5 to 1e-3 away).
 *
 * Tolerances: |diff| <= 1e-6 + 1e-6·|ref| (CartPole, PointMass), 1e-5 + 1e-5·|ref| (Pendulum:
 * f32 sin of angles up to 4 pi and the cost of a normalized angle), as in the golden data's
 * README (test/fixtures/golden/README.md).
 * Flags must match exactly, except `terminated` where the twin's next state is within 1e-6 of a
 * threshold (none of the constructed near-threshold cases are).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_IDS, type EnvId, envSpecs, envWgsl, makeVecEnv } from '../src/envs/index.js';
import { THETA_THRESHOLD, X_THRESHOLD } from './reference/envs/cartpole.js';
import { Comparison, type Tolerance } from './reference/envs/compare.js';
import { twins } from './reference/envs/index.js';
import { GOAL_RADIUS } from './reference/envs/pointmass.js';
import { AWKWARD_SIZES, TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const TOL: Record<EnvId, Tolerance> = {
  'CartPole-v1': { abs: 1e-6, rel: 1e-6 },
  'Pendulum-v1': { abs: 1e-5, rel: 1e-5 },
  'PointMass-v0': { abs: 1e-6, rel: 1e-6 },
};

interface Case {
  state: number[];
  action: number;
  elapsed: number;
}

/** Distance of the next state to the nearest termination threshold (Infinity if the env has none). */
function thresholdDistance(id: EnvId, s: readonly number[]): number {
  if (id === 'CartPole-v1') return Math.min(Math.abs(Math.abs(s[0]!) - X_THRESHOLD), Math.abs(Math.abs(s[2]!) - THETA_THRESHOLD));
  if (id === 'PointMass-v0') return Math.min(Math.abs(Math.abs(s[0]!) - GOAL_RADIUS), Math.abs(Math.abs(s[1]!) - GOAL_RADIUS));
  return Infinity;
}

const sign = (r: TestRandom): number => (r.next() < 0.5 ? -1 : 1);
/** A value 1e-5 to 1e-3 inside or outside `t` (in magnitude), with a random sign. */
const nearBoundary = (r: TestRandom, t: number): number => sign(r) * (t + sign(r) * r.uniform(1e-5, 1e-3));

function randomCase(id: EnvId, r: TestRandom, maxSteps: number): Case {
  // A quarter of the cases sit one step before truncation.
  const elapsed = r.next() < 0.25 ? maxSteps - 1 : r.int(maxSteps - 1);
  const near = r.next() < 0.3;
  switch (id) {
    case 'CartPole-v1': {
      const action = r.int(2);
      const xDot = r.uniform(-3, 3);
      const thetaDot = r.uniform(-3.5, 3.5);
      // Positions integrate the old velocities, so x' = x + 0.02·x_dot can be placed exactly.
      const xNext = near && r.next() < 0.5 ? nearBoundary(r, X_THRESHOLD) : r.uniform(-2.4, 2.4);
      const thNext = near && r.next() < 0.5 ? nearBoundary(r, THETA_THRESHOLD) : r.uniform(-0.21, 0.21);
      return { state: [xNext - 0.02 * xDot, xDot, thNext - 0.02 * thetaDot, thetaDot], action, elapsed };
    }
    case 'Pendulum-v1': {
      // Torques up to 3x the bound, a few exactly at it; speeds up to the ±8 clip.
      const p = r.next();
      const action = p < 0.05 ? 2 * sign(r) : p < 0.4 ? r.uniform(-6, 6) : r.uniform(-2, 2);
      const thetaDot = near ? sign(r) * r.uniform(7.5, 8) : r.uniform(-8, 8);
      return { state: [r.uniform(-4 * Math.PI, 4 * Math.PI), thetaDot], action, elapsed };
    }
    case 'PointMass-v0': {
      const action = r.next() < 0.4 ? r.uniform(-3, 3) : r.uniform(-1, 1);
      if (!near) return { state: [r.uniform(-3, 3), r.uniform(-3, 3)], action, elapsed };
      // Place the post-step (x', v') inside the goal, or 1e-5..1e-3 from its edge.
      const u = Math.min(Math.max(Math.fround(action), -1), 1);
      const pick = (): number => (r.next() < 0.5 ? nearBoundary(r, GOAL_RADIUS) : r.uniform(-0.049, 0.049));
      const vNext = pick();
      const xNext = pick();
      return { state: [xNext - vNext * 0.05, (vNext - u * 0.05) / 0.99], action, elapsed };
    }
  }
}

/** Bitwise equality of two typed arrays (fast on 65537 elements, unlike deep equality). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('env WGSL interface', () => {
  it.each(ENV_IDS)('%s declares the interface constants of its spec', (id) => {
    const src = envWgsl(id);
    const spec = envSpecs[id];
    const constant = (name: string): number => {
      const m = new RegExp(`^const ${name}: u32 = (\\d+)u;`, 'm').exec(src);
      if (!m) throw new Error(`${id}: no const ${name}: u32`);
      return Number(m[1]);
    };
    expect(constant('STATE_DIM')).toBe(spec.stateDim);
    expect(constant('OBS_DIM')).toBe(spec.obsDim);
    expect(constant('ACTION_DIM')).toBe(spec.actionDim);
    expect(constant('MAX_EPISODE_STEPS')).toBe(spec.maxEpisodeSteps);
    expect(constant('RESET_COUNTERS')).toBe(spec.resetCounters);
    expect(src).toMatch(/^struct EnvStep \{\s*state: array<f32, STATE_DIM>,\s*reward: f32,\s*terminated: bool,\s*\}/m);
    expect(src).toMatch(/^fn env_reset\(seed: u32, stream: u32, counter: vec2<u32>\) -> array<f32, STATE_DIM>/m);
    expect(src).toMatch(/^fn env_observe\(s: array<f32, STATE_DIM>\) -> array<f32, OBS_DIM>/m);
    expect(src).toMatch(/^fn env_step\(s: array<f32, STATE_DIM>, a: array<f32, ACTION_DIM>\) -> EnvStep/m);
  });

  it.each(ENV_IDS)('%s keeps every other top-level name behind its prefix (safe to include in other kernels)', (id) => {
    const prefix = id.split('-')[0]!.toUpperCase();
    const iface = new Set(['STATE_DIM', 'OBS_DIM', 'ACTION_DIM', 'MAX_EPISODE_STEPS', 'RESET_COUNTERS', 'EnvStep', 'env_reset', 'env_observe', 'env_step']);
    const names = [...envWgsl(id).matchAll(/^(?:const|fn|struct|var|override|alias)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!);
    const stray = names.filter((n) => !iface.has(n) && !n.toUpperCase().startsWith(`${prefix}_`));
    expect(stray).toEqual([]);
    expect(names.filter((n) => iface.has(n)).sort()).toEqual([...iface].sort());
  });
});

describe.skipIf(!gpu)('GPU envs vs TS twins', () => {
  for (const id of ENV_IDS) {
    it.each(AWKWARD_SIZES)(`${id}: random states and actions, n = %i`, async (n) => {
      const spec = envSpecs[id];
      const twin = twins[id];
      const r = new TestRandom(1000 + n + ENV_IDS.indexOf(id));
      const cases = Array.from({ length: n }, () => randomCase(id, r, spec.maxEpisodeSteps));
      const state32 = Float32Array.from(cases.flatMap((c) => c.state));
      const env = makeVecEnv(gpu!, id, { numEnvs: n, seed: 3, autoReset: false });
      env.setState(state32, cases.map((c) => c.elapsed));
      const out = await env.step(cases.map((c) => c.action));
      const snap = await env.getState();
      env.destroy();

      const cmp = new Comparison(TOL[id]);
      const flagFailures: string[] = [];
      let exceptions = 0;
      let terminations = 0;
      const { obsDim, stateDim } = spec;
      cases.forEach((c, k) => {
        // The twin starts from the same f32-rounded state the GPU holds.
        const pre = Array.from(state32.subarray(k * stateDim, (k + 1) * stateDim));
        const ref = twin.step(pre, c.action);
        const where = `env ${k} (state ${pre.join(', ')}, action ${c.action})`;
        cmp.checkAll('state', where, out.state.subarray(k * stateDim, (k + 1) * stateDim), ref.state);
        cmp.checkAll('obs', where, out.obs.subarray(k * obsDim, (k + 1) * obsDim), ref.obs);
        cmp.checkAll('nextObs', where, out.nextObs.subarray(k * obsDim, (k + 1) * obsDim), ref.obs);
        cmp.checkAll('live state', where, snap.state.subarray(k * stateDim, (k + 1) * stateDim), ref.state);
        cmp.check('reward', where, out.reward[k]!, ref.reward);
        if (ref.terminated) terminations++;
        if (out.terminated[k] !== Number(ref.terminated)) {
          if (thresholdDistance(id, ref.state) <= 1e-6) exceptions++;
          else flagFailures.push(`${where}: terminated ${out.terminated[k]}, twin ${ref.terminated}`);
        }
        const truncated = c.elapsed + 1 >= spec.maxEpisodeSteps ? 1 : 0;
        if (out.truncated[k] !== truncated) flagFailures.push(`${where}: truncated ${out.truncated[k]} at elapsed ${c.elapsed}`);
        if (snap.elapsedSteps[k] !== c.elapsed + 1) flagFailures.push(`${where}: elapsed ${snap.elapsedSteps[k]}`);
        if (snap.episodeCounts[k] !== 0) flagFailures.push(`${where}: episode count ${snap.episodeCounts[k]}`);
      });
      if (n === 1000) console.log(`${id} GPU vs twin, n = ${n}: ${cmp.summary()}; ${terminations} terminations, ${exceptions} threshold exceptions`);
      expect(cmp.failures).toEqual([]);
      expect(flagFailures).toEqual([]);
      if (n >= 1000 && id !== 'Pendulum-v1') {
        // The near-threshold cases exercise both outcomes.
        expect(terminations).toBeGreaterThan(n / 20);
        expect(n - terminations).toBeGreaterThan(n / 20);
      }
    });
  }

  it('clips out-of-range continuous actions to the bounds (bit-identical results)', async () => {
    for (const [id, bound] of [['Pendulum-v1', 2], ['PointMass-v0', 1]] as const) {
      const r = new TestRandom(7);
      const n = 64;
      const states = Array.from({ length: 2 * n }, () => r.uniform(-1, 1));
      const big = Array.from({ length: n }, (_, k) => (k % 2 ? 1 : -1) * bound * r.uniform(1.001, 100));
      const clipped = big.map((a) => Math.sign(a) * bound);
      const results = [];
      for (const actions of [big, clipped]) {
        const env = makeVecEnv(gpu!, id, { numEnvs: n, seed: 1 });
        env.setState(states);
        results.push(await env.step(actions));
        env.destroy();
      }
      expect(results[0]!.state).toEqual(results[1]!.state);
      expect(results[0]!.reward).toEqual(results[1]!.reward);
      // ...and the clipped action is not a no-op: a smaller torque gives a different step.
      const env = makeVecEnv(gpu!, id, { numEnvs: n, seed: 1 });
      env.setState(states);
      const half = await env.step(clipped.map((a) => a / 2));
      env.destroy();
      expect(half.state).not.toEqual(results[1]!.state);
    }
  });

  it('does not depend on the workgroup size or dispatch layout (n = 65537, 2-D grid at size 1)', async () => {
    const n = 65537;
    const r = new TestRandom(11);
    const states = Array.from({ length: 4 * n }, () => r.uniform(-0.2, 0.2));
    const actions = Array.from({ length: n }, () => r.int(2));
    const outs = [];
    for (const workgroupSize of [1, 64, 256]) {
      const env = makeVecEnv(gpu!, 'CartPole-v1', { numEnvs: n, seed: 1, workgroupSize });
      env.setState(states);
      outs.push(await env.step(actions));
      env.destroy();
    }
    const keys = ['obs', 'state', 'reward', 'terminated', 'truncated', 'nextObs'] as const;
    for (const o of [outs[0]!, outs[2]!]) {
      for (const key of keys) expect(sameBytes(o[key], outs[1]![key]), key).toBe(true);
    }
  });
});
