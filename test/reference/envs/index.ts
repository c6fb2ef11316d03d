import type { EnvId } from '../../../src/envs/index.js';
import { cartpoleTwin } from './cartpole.js';
import { pendulumTwin } from './pendulum.js';
import { pointmassTwin } from './pointmass.js';
import type { EnvTwin } from './types.js';

export type { EnvTwin, TwinStep } from './types.js';
export const twins: Readonly<Record<EnvId, EnvTwin>> = {
  'CartPole-v1': cartpoleTwin,
  'Pendulum-v1': pendulumTwin,
  'PointMass-v0': pointmassTwin,
};
