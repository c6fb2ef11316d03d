/**
 * The hyperparameters every on-policy algorithm shares, as the pieces that use them: an
 * algorithm's config (e.g. TRPOConfig) extends these, so rollout, GAE and the value fit take the
 * fields they need and know no algorithm.
 */

/** The batch: nEnvs environments stepped nSteps times each per iteration. */
export interface RolloutConfig {
  nEnvs: number;
  nSteps: number;
}

/** Generalized advantage estimation (Schulman et al. 2016). */
export interface GaeConfig extends RolloutConfig {
  gamma: number;
  gaeLambda: number;
  normalizeAdvantage: boolean;
}

/** Minibatch Adam on (V(s) − R)². */
export interface ValueFitConfig extends RolloutConfig {
  vfLr: number;
  vfEpochs: number;
  vfBatchSize: number;
  valueHidden: number[];
}

/** What the shared parts of an on-policy iteration read. */
export interface OnPolicyConfig extends GaeConfig, ValueFitConfig {
  policyHidden: number[];
  logStdInit: number;
}

/** Samples per iteration. */
export const batchSize = (c: RolloutConfig): number => c.nEnvs * c.nSteps;

/** Value-fit minibatches per epoch. */
export const vfMinibatches = (c: ValueFitConfig): number => batchSize(c) / c.vfBatchSize;
