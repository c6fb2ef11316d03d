/**
 * CartPole-v1, exactly as Gymnasium 1.3.0's cartpole.py (explicit Euler, strict termination on
 * the new state, reward 1 on every step including the terminating one), with the state kept in
 * f32 on the GPU. Reset: all four state components ~ U(-0.05, 0.05).
 *
 * Differences from Gymnasium: stepping a terminated env again without a reset returns reward 1
 * (Gymnasium returns 0 and warns); the state is f32, not f64.
 */
import stepSource from './step.wgsl?raw';
import { box, type EnvDefinition, type EnvSpec } from '../spaces.js';
import { envSource } from '../wgsl-consts.js';

/** Gymnasium's constants (SI units). */
export const CARTPOLE_PARAMS = {
  gravity: 9.8,
  masscart: 1.0,
  masspole: 0.1,
  totalMass: 1.1,
  /** Half the pole length (m). */
  length: 0.5,
  polemassLength: 0.05,
  forceMag: 10.0,
  /** Seconds per step. */
  tau: 0.02,
  thetaThresholdRadians: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
  /** Every state component starts ~ U(reset). */
  reset: [-0.05, 0.05],
} as const;

const P = CARTPOLE_PARAMS;

export const cartpoleSpec: EnvSpec = {
  id: 'CartPole-v1',
  obsDim: 4,
  stateDim: 4,
  actionDim: 1,
  observationSpace: box(
    [-2 * P.xThreshold, -Infinity, -2 * P.thetaThresholdRadians, -Infinity],
    [2 * P.xThreshold, Infinity, 2 * P.thetaThresholdRadians, Infinity],
  ),
  actionSpace: { type: 'Discrete', n: 2 },
  maxEpisodeSteps: 500,
  rewardThreshold: 475,
  stateLayout: ['x', 'x_dot', 'theta', 'theta_dot'],
  obsLayout: ['x', 'x_dot', 'theta', 'theta_dot'],
  resetCounters: 2,
};

/** CartPole-v1 and its WGSL: constants from CARTPOLE_PARAMS and the spec, then step.wgsl. */
export const cartpole: EnvDefinition = { spec: cartpoleSpec, wgsl: envSource(cartpoleSpec, 'CARTPOLE', CARTPOLE_PARAMS, stepSource) };
