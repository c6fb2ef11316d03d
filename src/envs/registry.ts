/**
 * The known environments, one line each: adding one is a folder under src/envs/<name>/ whose
 * index.ts exports an EnvDefinition (spec, parameters, step.wgsl) and a line here.
 */
import { cartpole } from './cartpole/index.js';
import { pendulum } from './pendulum/index.js';
import { pointmass } from './pointmass/index.js';
import { ConfigError } from '../errors.js';
import type { EnvDefinition, EnvSpec } from './spaces.js';

const BUILT_IN = {
  'CartPole-v1': cartpole,
  'Pendulum-v1': pendulum,
  'PointMass-v0': pointmass,
} satisfies Record<string, EnvDefinition>;

/** The id of a known environment. */
export type EnvId = keyof typeof BUILT_IN;

export const ENV_IDS = Object.keys(BUILT_IN) as readonly EnvId[];

export const envSpecs: Readonly<Record<EnvId, EnvSpec>> = Object.fromEntries(ENV_IDS.map((id) => [id, BUILT_IN[id].spec])) as Record<EnvId, EnvSpec>;

export function isEnvId(id: unknown): id is EnvId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(BUILT_IN, id);
}

/** Throws a clear error for an unknown id. */
export function checkEnvId(id: unknown, field = 'id'): EnvId {
  if (!isEnvId(id)) {
    throw new ConfigError(field, id, `one of ${ENV_IDS.join(', ')}`);
  }
  return id;
}

export function getEnvSpec(id: string): EnvSpec {
  return BUILT_IN[checkEnvId(id)].spec;
}

/**
 * The env's WGSL: STATE_DIM, OBS_DIM, ACTION_DIM, MAX_EPISODE_STEPS, RESET_COUNTERS, struct EnvStep,
 * env_reset, env_observe, env_step. It calls rng_uniform2, so include the RNG source before it:
 * `wgsl(rngWgsl, envWgsl(id), yourKernel)`.
 */
export function envWgsl(id: string): string {
  return BUILT_IN[checkEnvId(id)].wgsl;
}
