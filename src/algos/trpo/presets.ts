/**
 * Named hyperparameter sets. `default` is the reference configuration (DEFAULT_CONFIG); each env
 * has a preset found by measurement that solves it (see the README for the runs behind them).
 */
import type { EnvId } from '../../envs/registry.js';
import { ConfigError, DEFAULT_CONFIG, type TRPOConfig } from './config.js';

export interface Preset {
  description: string;
  /** The env this preset was tuned for, if any. */
  env?: EnvId;
  /** Timesteps the preset is meant to solve its env in. */
  timesteps?: number;
  config: Partial<TRPOConfig>;
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  default: {
    description: 'the reference defaults (maxKl 0.01, damping 0.1, cgIters 10, 8 envs × 2048 steps, ...)',
    config: {},
  },
  'CartPole-v1': {
    description: 'CartPole-v1: small batches of long rollouts (2 envs × 512 steps), many updates',
    env: 'CartPole-v1',
    timesteps: 100_000,
    // 2 × 512 (rl-baselines3-zoo's shape for TRPO on CartPole) and value minibatches of 128 over
    // 10 epochs: chosen by the median time to a deterministic 500 over many seeds, against the
    // 8 × 128 steps and 20 epochs of 256 this preset had before (docs/performance-log.md).
    config: { nEnvs: 2, nSteps: 512, gamma: 0.99, gaeLambda: 0.98, damping: 0.01, vfEpochs: 10, vfBatchSize: 128, maxKl: 0.02 },
  },
  'Pendulum-v1': {
    description: 'Pendulum-v1: γ 0.9 as in the reference tuning',
    env: 'Pendulum-v1',
    timesteps: 200_000,
    config: { nEnvs: 8, nSteps: 256, gamma: 0.9, gaeLambda: 0.95, damping: 0.1, vfEpochs: 15, vfBatchSize: 256, maxKl: 0.02 },
  },
  'PointMass-v0': {
    description: 'PointMass-v0: the 1-D point mass of the TRPO notebook',
    env: 'PointMass-v0',
    timesteps: 100_000,
    config: { nEnvs: 8, nSteps: 256, gamma: 0.99, gaeLambda: 0.97, damping: 0.1, vfEpochs: 10, vfBatchSize: 256, maxKl: 0.02, vfLr: 3e-3 },
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new ConfigError('preset', name, `one of ${PRESET_NAMES.join(', ')}`);
  return p;
}

/** The preset's full config (preset fields over the reference defaults). */
export function presetConfig(name: string): TRPOConfig {
  return { ...DEFAULT_CONFIG, ...getPreset(name).config } as TRPOConfig;
}

/** The preset an env gets when none is named: its tuned one where there is one, else `default`. */
export function presetForEnv(env: EnvId): string {
  return Object.prototype.hasOwnProperty.call(PRESETS, env) ? env : 'default';
}
