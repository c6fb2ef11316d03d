/** Per-iteration metrics, computed on the host from the one readback of each iteration. */
import type { UpdateOutcome } from '../../rl/algorithm.js';
import type { EpisodeSummary } from '../../rl/episodes.js';
import { stat, type StatSlot } from '../../rl/stats.js';

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

/** What a TRPO update reports (besides the shared UpdateOutcome). */
export interface TrpoUpdateMetrics extends UpdateOutcome {
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
  /** ‖r‖/‖g‖ of conjugate gradient's recurrence after cgIters. */
  cgResidual: number;
  /** GPU milliseconds per phase (gpuWall and host are the trainer's). */
  time: Omit<PhaseTimes, 'gpuWall' | 'host'>;
}

export interface IterationMetrics extends EpisodeSummary, Omit<TrpoUpdateMetrics, 'time'> {
  iteration: number;
  /** Environment steps so far, all envs together. */
  timesteps: number;
  /** Episodes that finished during this iteration's rollout. */
  episodes: number;
  totalEpisodes: number;
  /** Mean return of the last 100 finished episodes (any iteration), null before the first. */
  rollingReturnMean: number | null;
  /** Environment steps per second of this iteration, whole loop included. */
  stepsPerSecond: number;
  time: PhaseTimes;
}

export const readStat = (stats: Float32Array, name: StatSlot): number => stats[stat(name)]!;
