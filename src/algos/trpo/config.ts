/**
 * TRPO hyperparameters: one typed object, every field documented with its meaning and default,
 * validated before any GPU work. Names follow the paper (δ = maxKl) and sb3-contrib's TRPO.
 */

export interface TRPOConfig extends OnPolicyConfig {
  /** δ, the trust-region radius: the mean KL(π_old ‖ π_new) an update may reach. Default 0.01. */
  maxKl: number;
  /** Added to the Fisher-vector product (F + damping·I) for conjugate gradient stability. Default 0.1. */
  damping: number;
  /** Conjugate gradient iterations for x ≈ F⁻¹g. Default 10. */
  cgIters: number;
  /** Backtracking line-search candidates, θ_old + shrinkʲ·step for j < lineSearchSteps. Default 10. */
  lineSearchSteps: number;
  /** Factor between consecutive line-search candidates, in (0, 1). Default 0.8. */
  lineSearchShrink: number;
  /** Parallel environments stepped on the GPU. Default 8. */
  nEnvs: number;
  /** Steps per environment per iteration; the batch is nEnvs·nSteps. Default 2048. */
  nSteps: number;
  /** Discount γ in [0, 1]. Default 0.99. */
  gamma: number;
  /** GAE λ in [0, 1]. Default 0.97. */
  gaeLambda: number;
  /** Adam learning rate of the value function. Default 1e-3. */
  vfLr: number;
  /** Epochs of minibatch Adam on the value loss per iteration. Default 5. */
  vfEpochs: number;
  /** Value-function minibatch size; must divide nEnvs·nSteps. Default 128. */
  vfBatchSize: number;
  /** Hidden layer widths of the policy network (tanh). Default [64, 64]. */
  policyHidden: number[];
  /** Hidden layer widths of the value network (tanh). Default [64, 64]. */
  valueHidden: number[];
  /** Entropy bonus coefficient in the surrogate objective. Default 0. */
  entCoef: number;
  /** Fraction of the batch the Fisher-vector product uses, in (0, 1]. Default 1. */
  fvpSubsample: number;
  /** Normalize advantages to mean 0, std 1 over the batch. Default true. */
  normalizeAdvantage: boolean;
  /** Initial log standard deviation of Gaussian policies. Default 0. */
  logStdInit: number;
}

export const DEFAULT_CONFIG: Readonly<TRPOConfig> = Object.freeze({
  maxKl: 0.01,
  damping: 0.1,
  cgIters: 10,
  lineSearchSteps: 10,
  lineSearchShrink: 0.8,
  nEnvs: 8,
  nSteps: 2048,
  gamma: 0.99,
  gaeLambda: 0.97,
  vfLr: 1e-3,
  vfEpochs: 5,
  vfBatchSize: 128,
  policyHidden: [64, 64],
  valueHidden: [64, 64],
  entCoef: 0,
  fvpSubsample: 1,
  normalizeAdvantage: true,
  logStdInit: 0,
});

import { ConfigError } from '../../errors.js';
import { batchSize, vfMinibatches, type OnPolicyConfig } from '../../rl/config.js';

export { ConfigError };

type Rule = { allowed: string; ok: (v: unknown) => boolean };
const num = (allowed: string, ok: (v: number) => boolean): Rule => ({
  allowed,
  ok: (v) => typeof v === 'number' && Number.isFinite(v) && ok(v),
});
const int = (allowed: string, ok: (v: number) => boolean): Rule => ({
  allowed: `an integer ${allowed}`,
  ok: (v) => typeof v === 'number' && Number.isInteger(v) && ok(v),
});
const widths: Rule = {
  allowed: 'an array of 1 to 8 integers from 1 to 256',
  ok: (v) =>
    Array.isArray(v) && v.length >= 1 && v.length <= 8 && v.every((w) => Number.isInteger(w) && w >= 1 && w <= 256),
};

/** Allowed values of each field; the text is what error messages show. */
export const CONFIG_RULES: { readonly [K in keyof TRPOConfig]: Rule } = {
  maxKl: num('a finite number > 0 and ≤ 10', (v) => v > 0 && v <= 10),
  damping: num('a finite number ≥ 0', (v) => v >= 0),
  cgIters: int('from 1 to 100', (v) => v >= 1 && v <= 100),
  lineSearchSteps: int('from 1 to 32', (v) => v >= 1 && v <= 32),
  lineSearchShrink: num('a number in (0, 1)', (v) => v > 0 && v < 1),
  nEnvs: int('from 1 to 65536', (v) => v >= 1 && v <= 65536),
  nSteps: int('from 1 to 65536', (v) => v >= 1 && v <= 65536),
  gamma: num('a number in [0, 1]', (v) => v >= 0 && v <= 1),
  gaeLambda: num('a number in [0, 1]', (v) => v >= 0 && v <= 1),
  vfLr: num('a finite number > 0 and ≤ 1', (v) => v > 0 && v <= 1),
  vfEpochs: int('from 0 to 1000', (v) => v >= 0 && v <= 1000),
  vfBatchSize: int('≥ 1 that divides nEnvs·nSteps', (v) => v >= 1),
  policyHidden: widths,
  valueHidden: widths,
  entCoef: num('a finite number ≥ 0', (v) => v >= 0),
  fvpSubsample: num('a number in (0, 1]', (v) => v > 0 && v <= 1),
  normalizeAdvantage: { allowed: 'true or false', ok: (v) => typeof v === 'boolean' },
  logStdInit: num('a finite number in [-20, 2]', (v) => v >= -20 && v <= 2),
};

/** Largest batch (nEnvs·nSteps) the trainer accepts: keeps every buffer under 128 MiB bindings. */
export const MAX_BATCH = 1 << 22;

/**
 * Merges `overrides` over `base` and validates the result. Unknown fields are errors (a typo must
 * not silently fall back to a default).
 */
export function resolveConfig(overrides: Partial<TRPOConfig> = {}, base: Readonly<TRPOConfig> = DEFAULT_CONFIG): TRPOConfig {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new ConfigError('config', overrides, 'an object of TRPOConfig fields');
  }
  for (const key of Object.keys(overrides)) {
    if (!(key in CONFIG_RULES)) {
      throw new ConfigError('config', key, `one of ${Object.keys(CONFIG_RULES).join(', ')}`);
    }
  }
  const merged = { ...base, ...overrides } as TRPOConfig;
  merged.policyHidden = [...merged.policyHidden];
  merged.valueHidden = [...merged.valueHidden];
  for (const [key, rule] of Object.entries(CONFIG_RULES) as Array<[keyof TRPOConfig, Rule]>) {
    const v = merged[key];
    if (v === undefined || !rule.ok(v)) throw new ConfigError(key, v, rule.allowed);
  }
  const batch = merged.nEnvs * merged.nSteps;
  if (batch > MAX_BATCH) throw new ConfigError('nEnvs·nSteps', batch, `at most ${MAX_BATCH}`);
  if (batch % merged.vfBatchSize !== 0 || merged.vfBatchSize > batch) {
    throw new ConfigError('vfBatchSize', merged.vfBatchSize, `a divisor of nEnvs·nSteps = ${batch}`);
  }
  return merged;
}

/** Values derived from a config, computed in one place. */
export function derived(c: TRPOConfig): { batch: number; fvpBatch: number; vfMinibatches: number } {
  const batch = batchSize(c);
  return {
    batch,
    fvpBatch: Math.max(1, Math.round(batch * c.fvpSubsample)),
    vfMinibatches: vfMinibatches(c),
  };
}
