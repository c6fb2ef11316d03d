/** PointMass-v0 twin in float64 (cost and goal test on the post-step state). */
import { uniform2 } from '../../../src/math/rng.js';
import { f32Affine, type EnvTwin } from './types.js';

export const GOAL_RADIUS = 0.05;

export const pointmassTwin: EnvTwin = {
  id: 'PointMass-v0',
  step(s, a) {
    const [x0, v0] = s as [number, number];
    const u = Math.min(Math.max(Math.fround(a), -1), 1);
    const v = 0.99 * v0 + u * 0.05;
    const x = x0 + v * 0.05;
    const atGoal = Math.abs(x) < GOAL_RADIUS && Math.abs(v) < GOAL_RADIUS;
    const cost = x * x + 0.1 * (v * v) + 0.001 * (u * u);
    const state = [x, v];
    return { state, obs: state.map(Math.fround), reward: (atGoal ? 5 : 0) - cost, terminated: atGoal };
  },
  observe: (s) => s.map(Math.fround),
  reset(seed, stream, lo, hi) {
    const [a, b] = uniform2(seed, stream, lo, hi);
    return [f32Affine(-2, 4, a), f32Affine(-0.5, 1, b)];
  },
};
