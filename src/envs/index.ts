/** Environments stepped in WGSL, with Gymnasium's ids, spaces and a batched vector-env API. */
export type { BoxSpace, DiscreteSpace, EnvId, EnvSpec, Space } from './spaces.js';
export { ENV_IDS, envSpecs, envWgsl, getEnvSpec, isEnvId } from './registry.js';
export { CARTPOLE_PARAMS } from './cartpole.js';
export { PENDULUM_PARAMS } from './pendulum.js';
export { POINTMASS_PARAMS } from './pointmass.js';
export {
  VecEnv,
  VecEnvParams,
  makeVecEnv,
  vecEnvWgsl,
  type VecEnvActions,
  type VecEnvOptions,
  type VecEnvSnapshot,
  type VecEnvStep,
} from './vec-env.js';
