/**
 * PointMass-v0: the 1-D point mass of the TRPO notebook. State (x, v), obs = state.
 *
 *   a = clip(action, -1, 1)
 *   v' = 0.99 v + a dt,   x' = x + v' dt          (dt = 0.05)
 *   reward = -(x'^2 + 0.1 v'^2 + 0.001 a^2), plus 5 when the goal is reached
 *   terminated = |x'| < 0.05 and |v'| < 0.05     (goal reached; strict)
 *
 * The cost uses the POST-step state (x', v'), the natural reading of the notebook's formulas in
 * this order, so the reward of a step is the cost of where the action led; the goal test and the
 * bonus use the same post-step state. Truncation at 150 steps.
 * Reset: x ~ U(-2, 2), v ~ U(-0.5, 0.5).
 */
import stepSource from './step.wgsl?raw';
import { box, type EnvDefinition, type EnvSpec } from '../spaces.js';
import { envSource } from '../wgsl-consts.js';

export const POINTMASS_PARAMS = {
  dt: 0.05,
  /** Velocity kept per step. */
  damping: 0.99,
  maxAction: 1.0,
  /** The goal is |x| < goalRadius and |v| < goalRadius. */
  goalRadius: 0.05,
  goalBonus: 5.0,
  costWeights: { x: 1.0, v: 0.1, action: 0.001 },
  resetX: [-2, 2],
  resetV: [-0.5, 0.5],
} as const;

export const pointmassSpec: EnvSpec = {
  id: 'PointMass-v0',
  obsDim: 2,
  stateDim: 2,
  actionDim: 1,
  observationSpace: box([-Infinity, -Infinity], [Infinity, Infinity]),
  actionSpace: box([-POINTMASS_PARAMS.maxAction], [POINTMASS_PARAMS.maxAction]),
  maxEpisodeSteps: 150,
  stateLayout: ['x', 'v'],
  obsLayout: ['x', 'v'],
  resetCounters: 1,
};

/** PointMass-v0 and its WGSL: constants from POINTMASS_PARAMS and the spec, then step.wgsl. */
export const pointmass: EnvDefinition = { spec: pointmassSpec, wgsl: envSource(pointmassSpec, 'POINTMASS', POINTMASS_PARAMS, stepSource) };
