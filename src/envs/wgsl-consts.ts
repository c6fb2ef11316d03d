/**
 * An environment's WGSL is its step.wgsl behind constants generated from its TypeScript spec and
 * parameters, so every number exists once: in the env's index.ts.
 */
import { f32Literal } from '../gpu/index.js';
import type { EnvSpec } from './spaces.js';

/** A parameter: a number, a [low, high] range, or a group of them. */
export type EnvParam = number | readonly [number, number] | { readonly [key: string]: EnvParam };

const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** `const PREFIX_NAME: f32 = v;` per number; a range gives NAME_LOW and NAME_HIGH; a group NAME_KEY. */
export function paramConsts(prefix: string, params: { readonly [key: string]: EnvParam }): string[] {
  return Object.entries(params).flatMap(([key, v]) => {
    const name = `${prefix}_${snake(key)}`;
    if (typeof v === 'number') return [`const ${name}: f32 = ${f32Literal(v)};`];
    if (Array.isArray(v)) return [`const ${name}_LOW: f32 = ${f32Literal(v[0]!)};`, `const ${name}_HIGH: f32 = ${f32Literal(v[1]!)};`];
    return paramConsts(name, v as { readonly [key: string]: EnvParam });
  });
}

/**
 * The env's whole WGSL: the interface constants every env defines (STATE_DIM, OBS_DIM, ACTION_DIM,
 * MAX_EPISODE_STEPS, RESET_COUNTERS) from the spec, its parameters as PREFIX_NAME constants,
 * then `step` (EnvStep, env_reset, env_observe, env_step).
 */
export function envSource(spec: EnvSpec, prefix: string, params: { readonly [key: string]: EnvParam }, step: string): string {
  return [
    `// ${spec.id}: constants generated from its spec and parameters (src/envs).`,
    `const STATE_DIM: u32 = ${spec.stateDim}u;`,
    `const OBS_DIM: u32 = ${spec.obsDim}u;`,
    `const ACTION_DIM: u32 = ${spec.actionDim}u;`,
    `const MAX_EPISODE_STEPS: u32 = ${spec.maxEpisodeSteps}u;`,
    `const RESET_COUNTERS: u32 = ${spec.resetCounters}u;`,
    ...paramConsts(prefix, params),
    step,
  ].join('\n');
}
