/** The vector-env API: resets, automatic resets, PointMass's goal and limits, and bad input. */
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_IDS, type EnvId, envSpecs, getEnvSpec, envWgsl, makeVecEnv } from '../src/envs/index.js';
import { twins } from './reference/envs/index.js';
import { TestRandom } from './reference/random.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

/** Reset bounds per state component (Gymnasium's uniform ranges; the PointMass spec's). */
const RESET_BOUNDS: Record<EnvId, Array<[number, number]>> = {
  'CartPole-v1': [[-0.05, 0.05], [-0.05, 0.05], [-0.05, 0.05], [-0.05, 0.05]],
  'Pendulum-v1': [[-Math.PI, Math.PI], [-1, 1]],
  'PointMass-v0': [[-2, 2], [-0.5, 0.5]],
};

const rows = (a: Float32Array, dim: number): number[][] =>
  Array.from({ length: a.length / dim }, (_, i) => Array.from(a.subarray(i * dim, (i + 1) * dim)));

/** Within a few f32 ulps of the twin's f32 reset value (the GPU may fuse the multiply-add). */
const closeF32 = (got: number, ref: number): boolean => Math.abs(got - ref) <= 4 * 2 ** -23 * Math.max(1, Math.abs(ref));

describe('registry', () => {
  it('lists the envs and their specs', () => {
    expect(ENV_IDS).toEqual(['CartPole-v1', 'Pendulum-v1', 'PointMass-v0']);
    for (const id of ENV_IDS) {
      expect(getEnvSpec(id)).toBe(envSpecs[id]);
      expect(envSpecs[id].id).toBe(id);
      expect(envWgsl(id)).toMatch(/fn env_step/);
    }
    expect(envSpecs['PointMass-v0']).toMatchObject({
      obsDim: 2,
      stateDim: 2,
      actionDim: 1,
      actionSpace: { type: 'Box', shape: [1], low: [-1], high: [1] },
      maxEpisodeSteps: 150,
    });
  });

  it('rejects unknown ids, listing the known ones', () => {
    expect(() => getEnvSpec('CartPole-v0' as EnvId)).toThrow(/invalid id: "CartPole-v0" \(allowed: one of CartPole-v1, Pendulum-v1, PointMass-v0\)/);
    expect(() => envWgsl('nope' as EnvId)).toThrow(/CartPole-v1, Pendulum-v1, PointMass-v0/);
  });
});

describe.skipIf(!gpu)('reset', () => {
  const g = gpu!;

  it.each(ENV_IDS)('%s: reset(seed) draws the documented per-env uniforms, in bounds, and is deterministic', async (id) => {
    const spec = envSpecs[id];
    const n = 257;
    const env = makeVecEnv(g, id, { numEnvs: n, seed: 77 });
    const obs0 = await env.reset(1234);
    const snap = await env.getState();
    expect(env.seed).toBe(1234);
    expect([...new Set(snap.elapsedSteps)]).toEqual([0]);
    expect([...new Set(snap.episodeCounts)]).toEqual([1]);
    const bad: string[] = [];
    rows(snap.state, spec.stateDim).forEach((s, i) => {
      // Env i's first reset: key (seed, i), counter (0, 1).
      const ref = twins[id].reset(1234, i, 0, 1);
      s.forEach((v, j) => {
        if (!closeF32(v, ref[j]!)) bad.push(`env ${i} [${j}]: ${v} vs ${ref[j]}`);
        const [lo, hi] = RESET_BOUNDS[id][j]!;
        if (!(v >= lo && v <= hi)) bad.push(`env ${i} [${j}] = ${v} outside [${lo}, ${hi}]`);
      });
      const o = obs0.subarray(i * spec.obsDim, (i + 1) * spec.obsDim);
      const refObs = twins[id].observe(s);
      refObs.forEach((v, j) => {
        if (Math.abs(o[j]! - v) > 1e-6) bad.push(`env ${i} obs[${j}]: ${o[j]} vs ${v}`);
      });
    });
    expect(bad).toEqual([]);
    // Different envs start differently.
    expect(new Set(rows(snap.state, spec.stateDim).map((s) => s.join())).size).toBe(n);

    // Same seed, same starts: on this env again and on a new env.
    const obs1 = await env.reset(1234);
    expect(obs1).toEqual(obs0);
    const other = makeVecEnv(g, id, { numEnvs: n, seed: 1234 });
    expect(await other.reset()).toEqual(obs0);
    other.destroy();
    // Another seed, other starts; reset() without a seed draws the next, unused episode.
    expect(await env.reset(1235)).not.toEqual(obs0);
    await env.reset(1234);
    const next = await env.reset();
    expect(next).not.toEqual(obs0);
    const snap2 = await env.getState();
    expect([...new Set(snap2.episodeCounts)]).toEqual([2]);
    rows(snap2.state, spec.stateDim).forEach((s, i) => {
      const ref = twins[id].reset(1234, i, spec.resetCounters, 1);
      s.forEach((v, j) => expect(closeF32(v, ref[j]!), `env ${i} second reset [${j}]`).toBe(true));
    });
    env.destroy();
  });

  it('CartPole: consecutive resets of one env share no random numbers', async () => {
    const n = 64;
    const env = makeVecEnv(g, 'CartPole-v1', { numEnvs: n, seed: 5 });
    const first = rows(await env.reset(5), 4);
    const second = rows(await env.reset(), 4);
    env.destroy();
    const a = new Set(first.flat());
    expect(second.flat().filter((v) => a.has(v))).toEqual([]);
  });

  it.each(ENV_IDS)('%s: reset states have the moments of the uniform ranges (n = 20000, 5 sigma)', async (id) => {
    const spec = envSpecs[id];
    const n = 20000;
    const env = makeVecEnv(g, id, { numEnvs: n, seed: 99 });
    await env.reset();
    const { state } = await env.getState();
    env.destroy();
    RESET_BOUNDS[id].forEach(([lo, hi], j) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = state[i * spec.stateDim + j]!;
        s += v;
        s2 += v * v;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      const w = hi - lo;
      // U(lo, hi): mean (lo+hi)/2, sd of the mean w/sqrt(12 n); variance w²/12, sd of it w²/sqrt(180 n).
      expect(Math.abs(mean - (lo + hi) / 2)).toBeLessThan((5 * w) / Math.sqrt(12 * n));
      expect(Math.abs(variance - (w * w) / 12)).toBeLessThan((5 * w * w) / Math.sqrt(180 * n));
    });
  });
});

describe.skipIf(!gpu)('automatic reset', () => {
  const g = gpu!;

  it.each([true, false])('CartPole, autoReset %s: obs vs nextObs, elapsed steps and episode counts', async (autoReset) => {
    const n = 6;
    const env = makeVecEnv(g, 'CartPole-v1', { numEnvs: n, seed: 31, autoReset });
    // env 0: terminates (pole past 12°); env 1: truncates (499 steps done); env 2: both;
    // env 3: continues; env 4: cart past 2.4 m; env 5: continues one step short of the limit.
    const states = [
      [0, 0, 0.2093, 1],
      [0, 0, 0, 0],
      [2.399, 1, 0, 0],
      [0.1, 0.2, -0.05, 0.1],
      [-2.399, -1, 0, 0],
      [0, 0, 0.01, 0],
    ];
    const elapsed = [10, 499, 499, 3, 0, 498];
    env.setState(states.flat(), elapsed);
    const out = await env.step([1, 0, 1, 0, 0, 1]);
    const snap = await env.getState();
    expect([...out.terminated]).toEqual([1, 0, 1, 0, 1, 0]);
    expect([...out.truncated]).toEqual([0, 1, 1, 0, 0, 0]);
    const done = [true, true, true, false, true, false];
    const bad: string[] = [];
    states.forEach((s, i) => {
      const ref = twins['CartPole-v1'].step(Array.from(Float32Array.from(s)), [1, 0, 1, 0, 0, 1][i]!);
      const obs = Array.from(out.obs.subarray(4 * i, 4 * i + 4));
      const st = Array.from(out.state.subarray(4 * i, 4 * i + 4));
      const next = Array.from(out.nextObs.subarray(4 * i, 4 * i + 4));
      const live = Array.from(snap.state.subarray(4 * i, 4 * i + 4));
      // obs and state are the step's result before any reset.
      ref.obs.forEach((v, j) => {
        if (Math.abs(obs[j]! - v) > 1e-6 || Math.abs(st[j]! - v) > 1e-6) bad.push(`env ${i}: obs ${obs} state ${st} vs ${ref.obs}`);
      });
      if (autoReset && done[i]) {
        // Env i's first automatic reset: key (31, i), counter (0 · 2, 1); the env now holds it.
        const reset = twins['CartPole-v1'].reset(31, i, 0, 1);
        if (!next.every((v, j) => closeF32(v, reset[j]!))) bad.push(`env ${i}: nextObs ${next} vs reset ${reset}`);
        if (!live.every((v, j) => v === next[j])) bad.push(`env ${i}: live state ${live} vs nextObs ${next}`);
        if (snap.elapsedSteps[i] !== 0 || snap.episodeCounts[i] !== 1) bad.push(`env ${i}: counters ${snap.elapsedSteps[i]}/${snap.episodeCounts[i]}`);
      } else {
        if (!next.every((v, j) => v === obs[j])) bad.push(`env ${i}: nextObs ${next} vs obs ${obs}`);
        if (!live.every((v, j) => v === st[j])) bad.push(`env ${i}: live state ${live} vs state ${st}`);
        if (snap.elapsedSteps[i] !== elapsed[i]! + 1 || snap.episodeCounts[i] !== 0) bad.push(`env ${i}: counters ${snap.elapsedSteps[i]}/${snap.episodeCounts[i]}`);
      }
    });
    expect(bad).toEqual([]);
    if (!autoReset) {
      // Without resets the episode clock keeps running: still truncated, from the terminal state.
      const again = await env.step([0, 0, 0, 0, 0, 0]);
      expect([...again.truncated]).toEqual([0, 1, 1, 0, 0, 1]);
      expect((await env.getState()).elapsedSteps[1]).toBe(501);
    }
    env.destroy();
  });

  it('an env that resets repeatedly draws a new start each episode (Pendulum, 3 x 200 steps)', async () => {
    const n = 5;
    const env = makeVecEnv(g, 'Pendulum-v1', { numEnvs: n, seed: 8 });
    await env.reset();
    const starts: number[][] = [];
    for (let t = 1; t <= 600; t++) {
      const out = await env.step(new Float32Array(n).fill(0.5));
      const expectTrunc = t % 200 === 0 ? 1 : 0;
      expect([...out.truncated]).toEqual(new Array(n).fill(expectTrunc));
      expect([...out.terminated]).toEqual(new Array(n).fill(0));
      if (expectTrunc) starts.push(Array.from(out.nextObs));
    }
    const snap = await env.getState();
    env.destroy();
    expect([...snap.episodeCounts]).toEqual(new Array(n).fill(4));
    // Env i after its e-th reset (e = 1, 2, 3): key (8, i), counter (e, 1).
    starts.forEach((obs, e) => {
      for (let i = 0; i < n; i++) {
        const s = twins['Pendulum-v1'].reset(8, i, e + 1, 1);
        const ref = twins['Pendulum-v1'].observe(s);
        for (let j = 0; j < 3; j++) expect(Math.abs(obs[3 * i + j]! - ref[j]!)).toBeLessThanOrEqual(1e-6);
      }
    });
    expect(new Set(starts.map((s) => s.join())).size).toBe(3);
  });
});

describe.skipIf(!gpu)('PointMass-v0', () => {
  const g = gpu!;

  it('pays the goal bonus and terminates inside the goal, on the post-step state', async () => {
    const env = makeVecEnv(g, 'PointMass-v0', { numEnvs: 5, seed: 1, autoReset: false });
    env.setState([
      0.01, 0, // stays at x = 0.01, v = 0: goal
      0.2, 0, // far from the goal
      0.0524, 0, // x' = 0.0524 - 0 → outside; the pre-step x is outside too
      0.06, -0.5, // pre-step outside the goal, post-step v' = -0.495·... outside: no bonus
      0.049, 0.04, // v' = 0.0396 + a·0.05 with a = -0.5: 0.0146; x' = 0.0497: inside
    ]);
    const out = await env.step([0, 0, 0, 0, -0.5]);
    env.destroy();
    const refs = [
      [0.01, 0],
      [0.2, 0],
      [0.0524, 0],
      [0.06, -0.5],
      [0.049, 0.04],
    ].map((s, i) => twins['PointMass-v0'].step(Array.from(Float32Array.from(s)), [0, 0, 0, 0, -0.5][i]!));
    expect([...out.terminated]).toEqual([1, 0, 0, 0, 1]);
    expect(refs.map((r) => r.terminated)).toEqual([true, false, false, false, true]);
    // Worked by hand: x' = 0.01, v' = 0, a = 0: reward = 5 - 1e-4.
    expect(out.reward[0]).toBeCloseTo(5 - 1e-4, 6);
    expect(out.reward[1]).toBeCloseTo(-0.04, 6);
    refs.forEach((r, i) => expect(Math.abs(out.reward[i]! - r.reward)).toBeLessThanOrEqual(1e-6));
    // v' = 0.99·0.04 - 0.025 = 0.0146, x' = 0.049 + 0.0146·0.05 = 0.04973; cost uses a = -0.5.
    const v = 0.99 * 0.04 - 0.5 * 0.05;
    const x = 0.049 + v * 0.05;
    expect(out.reward[4]).toBeCloseTo(5 - (x * x + 0.1 * v * v + 0.001 * 0.25), 6);
  });

  it('clips the action to [-1, 1] in the dynamics and in the cost', async () => {
    const env = makeVecEnv(g, 'PointMass-v0', { numEnvs: 2, seed: 1 });
    env.setState([1, 0, 1, 0]);
    const out = await env.step([7, 1]);
    env.destroy();
    expect(out.state[0]).toBe(out.state[2]);
    expect(out.state[1]).toBe(out.state[3]);
    expect(out.reward[0]).toBe(out.reward[1]);
    // v' = 0.05, x' = 1.0025: reward = -(1.0025² + 0.1·0.05² + 0.001·1²).
    expect(out.reward[0]).toBeCloseTo(-(1.0025 ** 2 + 0.1 * 0.0025 + 0.001), 6);
  });

  it('truncates at exactly step 150, then resets', async () => {
    const n = 3;
    const env = makeVecEnv(g, 'PointMass-v0', { numEnvs: n, seed: 4 });
    // Far from the goal, pushing away from it: no termination in 150 steps.
    env.setState([2, 0, -2, 0, 1.5, 0.3]);
    const actions = [1, -1, 1];
    for (let t = 1; t <= 150; t++) {
      const out = await env.step(actions);
      expect([...out.terminated]).toEqual([0, 0, 0]);
      expect([...out.truncated], `step ${t}`).toEqual(new Array(n).fill(t === 150 ? 1 : 0));
      if (t === 150) {
        for (let i = 0; i < n; i++) {
          const s = twins['PointMass-v0'].reset(4, i, 0, 1);
          expect(Math.abs(out.nextObs[2 * i]! - s[0]!)).toBeLessThanOrEqual(1e-6);
          expect(Math.abs(out.nextObs[2 * i + 1]! - s[1]!)).toBeLessThanOrEqual(1e-6);
        }
      }
    }
    const snap = await env.getState();
    env.destroy();
    expect([...snap.elapsedSteps]).toEqual([0, 0, 0]);
  });
});

describe.skipIf(!gpu)('bad input', () => {
  const g = gpu!;

  it('makeVecEnv rejects bad ids and options, naming the field and the value', () => {
    expect(() => makeVecEnv(g, 'MountainCar-v0' as EnvId, { numEnvs: 1, seed: 0 })).toThrow(
      /invalid makeVecEnv id: "MountainCar-v0" \(allowed: one of CartPole-v1, Pendulum-v1, PointMass-v0\)/,
    );
    for (const numEnvs of [0, -3, 1.5, Number.NaN, Infinity]) {
      expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs, seed: 0 })).toThrow(
        new RegExp(`numEnvs must be a positive integer; got ${String(numEnvs)}`),
      );
    }
    expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs: '4' as unknown as number, seed: 0 })).toThrow(/numEnvs must be a positive integer; got "4"/);
    for (const seed of [-1, 0.5, 2 ** 32, Number.NaN]) {
      expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs: 1, seed })).toThrow(/seed must be an integer in \[0, 4294967295\]/);
    }
    expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs: 1, seed: 0, autoReset: 1 as unknown as boolean })).toThrow(/autoReset must be true or false; got 1/);
    expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs: 1, seed: 0, workgroupSize: 0 })).toThrow(/workgroupSize must be an integer in \[1, \d+\]; got 0/);
    expect(() => makeVecEnv(g, 'CartPole-v1', { numEnvs: 2 ** 31, seed: 0 })).toThrow(/numEnvs = 2147483648 needs a \d+-byte output buffer/);
  });

  it('step, setState and reset reject bad input synchronously and leave the env untouched', async () => {
    const cp = makeVecEnv(g, 'CartPole-v1', { numEnvs: 3, seed: 2 });
    expect(() => cp.step([0, 1, 0])).toThrow(/call reset\(\) or setState\(\) before the first step\(\)/);
    const start = [0.01, 0.02, 0.03, 0.04, -0.01, 0, 0.1, 0, 0, 0, 0, 0];
    cp.setState(start);
    expect(() => cp.step([0, 1])).toThrow(/actions must have length numEnvs × actionDim = 3 × 1 = 3; got length 2/);
    expect(() => cp.step([0, 1, 2])).toThrow(/actions\[2\] must be an integer in \[0, 1\] \(Discrete\(2\)\); got 2/);
    expect(() => cp.step([0, 0.5, 1])).toThrow(/actions\[1\] must be an integer in \[0, 1\] \(Discrete\(2\)\); got 0.5/);
    expect(() => cp.step([-1, 0, 1])).toThrow(/actions\[0\] must be an integer in \[0, 1\]/);
    expect(() => cp.step([Number.NaN, 0, 1])).toThrow(/actions\[0\] must be an integer in \[0, 1\] \(Discrete\(2\)\); got NaN/);
    expect(() => cp.step(5 as unknown as number[])).toThrow(/actions must be an array or typed array/);
    expect(() => cp.setState(start.slice(1))).toThrow(/states must have length numEnvs × stateDim = 3 × 4 = 12; got length 11/);
    expect(() => cp.setState([...start.slice(0, 6), Number.NaN, ...start.slice(7)])).toThrow(
      /states\[6\] \(env 1, theta\) must be a finite number within float32 range; got NaN/,
    );
    expect(() => cp.setState([...start.slice(0, 11), 1e39])).toThrow(/states\[11\] \(env 2, theta_dot\) must be a finite number/);
    expect(() => cp.setState(start, [0, 0])).toThrow(/elapsedSteps must have length numEnvs = 3; got length 2/);
    expect(() => cp.setState(start, [0, 500, 0])).toThrow(/elapsedSteps\[1\] must be an integer in \[0, 499\] .*got 500/);
    expect(() => cp.setState(start, [0, 1.5, 0])).toThrow(/elapsedSteps\[1\] must be an integer/);
    expect(() => cp.reset(-2)).toThrow(/reset: seed must be an integer in \[0, 4294967295\]; got -2/);
    // None of the rejected calls touched the GPU state: the step starts from `start`.
    const out = await cp.step([1, 0, 1]);
    const snap = await cp.getState();
    expect(cp.seed).toBe(2);
    for (let i = 0; i < 3; i++) {
      const ref = twins['CartPole-v1'].step(Array.from(Float32Array.from(start.slice(4 * i, 4 * i + 4))), [1, 0, 1][i]!);
      for (let j = 0; j < 4; j++) expect(Math.abs(out.state[4 * i + j]! - ref.state[j]!)).toBeLessThanOrEqual(1e-6);
    }
    expect([...snap.elapsedSteps]).toEqual([1, 1, 1]);
    cp.destroy();
    expect(() => cp.step([0, 0, 0])).toThrow(/step: this VecEnv was destroyed/);
    expect(() => cp.reset()).toThrow(/destroyed/);
    cp.destroy();

    const pm = makeVecEnv(g, 'PointMass-v0', { numEnvs: 2, seed: 2 });
    await pm.reset();
    expect(() => pm.step([0, Infinity])).toThrow(/actions\[1\] must be a finite number \(Box\(-1, 1, \(1\)\); out-of-range values are clipped\); got Infinity/);
    expect(() => pm.step([Number.NaN, 0])).toThrow(/actions\[0\] must be a finite number .*got NaN/);
    expect(() => pm.step([0, 1e40])).toThrow(/actions\[1\] must be a finite number/);
    expect(() => pm.step(['1', 0] as unknown as number[])).toThrow(/actions\[0\] must be a finite number .*got "1"/);
    pm.destroy();
  });
});
