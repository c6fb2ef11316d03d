/** The known environments: spec and WGSL source per id. */
import { cartpoleSpec, cartpoleWgsl } from './cartpole/index.js';
import { pendulumSpec, pendulumWgsl } from './pendulum/index.js';
import { pointmassSpec, pointmassWgsl } from './pointmass/index.js';
import { ConfigError } from '../errors.js';
import type { EnvId, EnvSpec } from './spaces.js';

export const ENV_IDS: readonly EnvId[] = ['CartPole-v1', 'Pendulum-v1', 'PointMass-v0'];

export const envSpecs: Readonly<Record<EnvId, EnvSpec>> = {
  'CartPole-v1': cartpoleSpec,
  'Pendulum-v1': pendulumSpec,
  'PointMass-v0': pointmassSpec,
};

const sources: Readonly<Record<EnvId, string>> = {
  'CartPole-v1': cartpoleWgsl,
  'Pendulum-v1': pendulumWgsl,
  'PointMass-v0': pointmassWgsl,
};

export function isEnvId(id: unknown): id is EnvId {
  return typeof id === 'string' && (ENV_IDS as readonly string[]).includes(id);
}

/** Throws a clear error for an unknown id. */
export function checkEnvId(id: unknown, field = 'id'): EnvId {
  if (!isEnvId(id)) {
    throw new ConfigError(field, id, `one of ${ENV_IDS.join(', ')}`);
  }
  return id;
}

export function getEnvSpec(id: EnvId): EnvSpec {
  return envSpecs[checkEnvId(id)];
}

/**
 * The env's WGSL: STATE_DIM, OBS_DIM, ACTION_DIM, MAX_EPISODE_STEPS, RESET_COUNTERS, struct EnvStep,
 * env_reset, env_observe, env_step. It calls rng_uniform2, so include the RNG source before it:
 * `wgsl(rngWgsl, envWgsl(id), yourKernel)`.
 */
export function envWgsl(id: EnvId): string {
  return sources[checkEnvId(id)];
}
