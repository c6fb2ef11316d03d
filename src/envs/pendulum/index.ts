/**
 * Pendulum-v1, exactly as Gymnasium 1.3.0's pendulum.py, with the state kept in f32 on the GPU.
 * The reward is minus the cost of the PRE-step angle (normalized to [-pi, pi)), speed and the
 * clipped torque; the speed is clipped to ±8 before the angle integrates it (semi-implicit
 * Euler); theta is never wrapped in the state. No termination: episodes end by truncation at 200.
 * Reset: theta ~ U(-pi, pi), theta_dot ~ U(-1, 1).
 */
import stepSource from './step.wgsl?raw';
import { box, type EnvDefinition, type EnvSpec } from '../spaces.js';
import { envSource } from '../wgsl-consts.js';

/** Gymnasium's constants (SI units). */
export const PENDULUM_PARAMS = {
  maxSpeed: 8,
  maxTorque: 2.0,
  /** Seconds per step. */
  dt: 0.05,
  g: 10.0,
  m: 1.0,
  l: 1.0,
} as const;

export const pendulumSpec: EnvSpec = {
  id: 'Pendulum-v1',
  obsDim: 3,
  stateDim: 2,
  actionDim: 1,
  observationSpace: box([-1, -1, -PENDULUM_PARAMS.maxSpeed], [1, 1, PENDULUM_PARAMS.maxSpeed]),
  actionSpace: box([-PENDULUM_PARAMS.maxTorque], [PENDULUM_PARAMS.maxTorque]),
  maxEpisodeSteps: 200,
  stateLayout: ['theta', 'theta_dot'],
  obsLayout: ['cos(theta)', 'sin(theta)', 'theta_dot'],
  resetCounters: 1,
};

/** Pendulum-v1 and its WGSL: constants from PENDULUM_PARAMS and the spec, then step.wgsl. */
export const pendulum: EnvDefinition = { spec: pendulumSpec, wgsl: envSource(pendulumSpec, 'PENDULUM', PENDULUM_PARAMS, stepSource) };
