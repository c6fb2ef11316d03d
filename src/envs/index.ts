/** Environments stepped in WGSL, with Gymnasium's ids, spaces and a batched vector-env API. */
export type { BoxSpace, DiscreteSpace, EnvDefinition, EnvSpec, Space } from './spaces.js';
export { ENV_IDS, envSpecs, envWgsl, getEnvSpec, isEnvId, type EnvId } from './registry.js';
export { CARTPOLE_PARAMS } from './cartpole/index.js';
export { PENDULUM_PARAMS } from './pendulum/index.js';
export { POINTMASS_PARAMS } from './pointmass/index.js';
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
