/**
 * Pendulum-v1 twin: Gymnasium 1.3.0's pendulum.py in float64, with the float32 parts numpy
 * evaluates in float32 (the clipped torque, 3·u and the torque cost).
 */
import { uniform2 } from '../../../src/math/rng.js';
import { f32Affine, type EnvTwin } from './types.js';

/** numpy's floor-mod for float64: fmod, then shifted into the divisor's sign. */
function pyMod(x: number, m: number): number {
  let r = x % m;
  if (r !== 0 && r < 0 !== m < 0) r += m;
  return r;
}

export const angleNormalize = (x: number): number => pyMod(x + Math.PI, 2 * Math.PI) - Math.PI;

const observe = (s: readonly number[]): number[] => [Math.cos(s[0]!), Math.sin(s[0]!), s[1]!].map(Math.fround);

export const pendulumTwin: EnvTwin = {
  id: 'Pendulum-v1',
  step(s, a) {
    const [th, thdot] = s as [number, number];
    const u = Math.fround(Math.min(Math.max(Math.fround(a), -2.0), 2.0));
    const an = angleNormalize(th);
    const costs = an * an + 0.1 * (thdot * thdot) + Math.fround(Math.fround(0.001) * Math.fround(u * u));
    let newthdot = thdot + (15.0 * Math.sin(th) + Math.fround(3.0 * u)) * 0.05;
    newthdot = Math.min(Math.max(newthdot, -8), 8);
    const newth = th + newthdot * 0.05;
    const state = [newth, newthdot];
    return { state, obs: observe(state), reward: -costs, terminated: false };
  },
  observe,
  reset(seed, stream, lo, hi) {
    const [a, b] = uniform2(seed, stream, lo, hi);
    return [f32Affine(-Math.PI, 2 * Math.PI, a), f32Affine(-1, 2, b)];
  },
};
