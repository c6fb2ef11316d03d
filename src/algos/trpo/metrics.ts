/** Per-iteration metrics, computed on the host from the one readback of each iteration. */
import type { TRPOConfig } from './config.js';
import { CAND_BASE, stat, type StatSlot } from '../../rl/stats.js';

export interface PhaseTimes {
  /** Milliseconds of GPU time per phase (timestamp queries), or null where the adapter has none. */
  rollout: number | null;
  advantages: number | null;
  /** π_old, log π_old, entropy and the surrogate gradient g. */
  gradient: number | null;
  /** Conjugate gradient (its Fisher-vector products) and the step length. */
  conjugateGradient: number | null;
  /** Building and evaluating all line-search candidates. */
  lineSearch: number | null;
  /** gradient + conjugateGradient + lineSearch. */
  policy: number | null;
  valueFit: number | null;
  /** Host milliseconds from submit to the readback's arrival (GPU work + transfer). */
  gpuWall: number;
  /** Host milliseconds for the line-search decision, metrics and logging. */
  host: number;
}

export interface IterationMetrics {
  iteration: number;
  /** Environment steps so far, all envs together. */
  timesteps: number;
  /** Episodes that finished during this iteration's rollout. */
  episodes: number;
  totalEpisodes: number;
  /** Mean / 10th / 90th percentile return of the episodes that finished this iteration (null if none). */
  episodeReturnMean: number | null;
  episodeReturnP10: number | null;
  episodeReturnP90: number | null;
  episodeLengthMean: number | null;
  /** Mean return of the last 100 finished episodes (any iteration), null before the first. */
  rollingReturnMean: number | null;
  /** Mean KL(π_old ‖ π_new) of the accepted step (0 when rejected). */
  kl: number;
  surrogateBefore: number;
  /** Surrogate of the accepted candidate (equals surrogateBefore when rejected). */
  surrogateAfter: number;
  /** β gᵀx: the improvement the linear model predicts for the full step. */
  expectedImprovement: number;
  /** shrinkᵏ of the accepted candidate k, 0 when rejected. */
  stepFraction: number;
  /** Candidates rejected before the accepted one (lineSearchSteps when none was accepted). */
  backtracks: number;
  accepted: boolean;
  /** Why no candidate was accepted: null when accepted. */
  rejectReason: null | 'non-finite-step' | 'kl' | 'no-improvement' | 'non-finite';
  entropy: number;
  /** Mean σ of a Gaussian policy; null for discrete actions. */
  policyStd: number | null;
  /** Mean (V(s) − R)² after the value fit. */
  valueLoss: number;
  /** 1 − Var(R − V_old) / Var(R), of the value function before the fit. */
  explainedVariance: number;
  /** ‖r‖/‖g‖ of conjugate gradient's recurrence after cgIters. */
  cgResidual: number;
  /** Environment steps per second of this iteration, whole loop included. */
  stepsPerSecond: number;
  time: PhaseTimes;
}

export interface LineSearchDecision {
  accepted: number | null;
  reason: IterationMetrics['rejectReason'];
}

/** Backtracking line search over the candidates the GPU evaluated: the first with KL ≤ δ and L improved. */
export function lineSearch(stats: Float32Array, cfg: TRPOConfig, surrogateBefore: number): LineSearchDecision {
  if (stats[stat('BAD_STEP')] !== 0) return { accepted: null, reason: 'non-finite-step' };
  // The GPU found candidate 0 acceptable by this same rule and did not evaluate the others.
  if (stats[stat('LS_SKIPPED')] === 1) return { accepted: 0, reason: null };
  const K = cfg.lineSearchSteps;
  let reason: LineSearchDecision['reason'] = 'no-improvement';
  for (let k = 0; k < K; k++) {
    const sur = stats[CAND_BASE + k]!;
    const kl = stats[CAND_BASE + K + k]!;
    if (!Number.isFinite(sur) || !Number.isFinite(kl)) {
      reason = 'non-finite';
      continue;
    }
    if (kl > cfg.maxKl) {
      reason = 'kl';
      continue;
    }
    if (sur - surrogateBefore > 0) return { accepted: k, reason: null };
    reason = 'no-improvement';
  }
  return { accepted: null, reason };
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function episodeSummary(returns: readonly number[], lengths: readonly number[]) {
  if (returns.length === 0) {
    return { episodeReturnMean: null, episodeReturnP10: null, episodeReturnP90: null, episodeLengthMean: null };
  }
  const sorted = [...returns].sort((a, b) => a - b);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    episodeReturnMean: mean(returns),
    episodeReturnP10: quantile(sorted, 0.1),
    episodeReturnP90: quantile(sorted, 0.9),
    episodeLengthMean: mean(lengths),
  };
}

export const readStat = (stats: Float32Array, name: StatSlot): number => stats[stat(name)]!;
