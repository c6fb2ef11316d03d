/** CartPole-v1 twin: Gymnasium 1.3.0's cartpole.py in float64, same evaluation order. */
import { uniform2 } from '../../../src/math/rng.js';
import { f32Affine, type EnvTwin } from './types.js';

const gravity = 9.8;
const masspole = 0.1;
const totalMass = masspole + 1.0;
const length = 0.5;
const polemassLength = masspole * length;
const forceMag = 10.0;
const tau = 0.02;
export const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
export const X_THRESHOLD = 2.4;

export const cartpoleTwin: EnvTwin = {
  id: 'CartPole-v1',
  step(s, a) {
    const [x, xDot, theta, thetaDot] = s as [number, number, number, number];
    const force = a === 1 ? forceMag : -forceMag;
    const c = Math.cos(theta);
    const sn = Math.sin(theta);
    const temp = (force + polemassLength * (thetaDot * thetaDot) * sn) / totalMass;
    const thetaacc = (gravity * sn - c * temp) / (length * (4.0 / 3.0 - (masspole * (c * c)) / totalMass));
    const xacc = temp - (polemassLength * thetaacc * c) / totalMass;
    const state = [x + tau * xDot, xDot + tau * xacc, theta + tau * thetaDot, thetaDot + tau * thetaacc];
    const [nx, , nth] = state as [number, number, number, number];
    const terminated = nx < -X_THRESHOLD || nx > X_THRESHOLD || nth < -THETA_THRESHOLD || nth > THETA_THRESHOLD;
    return { state, obs: state.map(Math.fround), reward: 1.0, terminated };
  },
  observe: (s) => s.map(Math.fround),
  reset(seed, stream, lo, hi) {
    const [a, b] = uniform2(seed, stream, lo, hi);
    const [c, d] = uniform2(seed, stream, (lo + 1) >>> 0, hi);
    return [a, b, c, d].map((u) => f32Affine(-0.05, 0.1, u));
  },
};
