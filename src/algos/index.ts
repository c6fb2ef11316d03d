/**
 * The algorithms `Trainer.create(name, ...)` knows, by name. Adding one: a folder under
 * src/algos/<name>/ whose algorithm implements rl/algorithm.ts's `Algorithm`, and a line here.
 */
import type { EnvId } from '../envs/registry.js';
import type { Algorithm, AlgorithmContext } from '../rl/algorithm.js';
import type { OnPolicyConfig } from '../rl/config.js';
import { Trpo, presetConfig, presetForEnv, resolveConfig, type TRPOConfig, type TrpoUpdateMetrics } from './trpo/index.js';

export interface AlgorithmEntry<Config extends OnPolicyConfig, A extends Algorithm<Config>> {
  /** The preset an env gets when none is named. */
  presetFor(env: EnvId): string;
  /** The full config of `preset` with `overrides` over it, validated (throws ConfigError). */
  resolve(overrides: unknown, preset: string): Config;
  /** Validates a saved config (a checkpoint's) against the reference defaults. */
  resolveSaved(saved: unknown): Config;
  create(ctx: AlgorithmContext, config: Config): A;
}

export const ALGORITHMS = {
  trpo: {
    presetFor: presetForEnv,
    resolve: (overrides, preset) => resolveConfig(overrides as Partial<TRPOConfig>, presetConfig(preset)),
    resolveSaved: (saved) => resolveConfig(saved as Partial<TRPOConfig>),
    create: (ctx, config) => new Trpo(ctx, config),
  } satisfies AlgorithmEntry<TRPOConfig, Algorithm<TRPOConfig, TrpoUpdateMetrics>>,
} as const;

export type AlgorithmName = keyof typeof ALGORITHMS;
export const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as AlgorithmName[];

export function isAlgorithmName(name: unknown): name is AlgorithmName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(ALGORITHMS, name);
}
