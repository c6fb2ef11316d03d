/**
 * What the Trainer needs of an on-policy algorithm, and what it gives one. An algorithm is a
 * folder under src/algos/ that implements `Algorithm` and registers a factory in
 * src/algos/index.ts; the trainer runs its plans, tracks episodes and saves its state.
 */
import type { EnvSpec } from '../envs/spaces.js';
import type { Gpu } from '../gpu/index.js';
import type { KernelBackend } from '../nn/backend.js';
import type { ActorLayout, MlpLayout } from '../nn/layout.js';
import type { OnPolicyConfig } from './config.js';
import type { EvaluationResult } from './evaluate.js';
import type { IterationPlan, RunResult } from './runner.js';

/** Everything an algorithm is built from; validated by the trainer before any GPU work. */
export interface AlgorithmContext {
  readonly gpu: Gpu;
  /** A second device for the value fit, or null. */
  readonly fitGpu: Gpu | null;
  readonly spec: EnvSpec;
  readonly seed: number;
  /** The kernels every part uses on `gpu` (nn/backend.ts). */
  readonly backend: KernelBackend;
  /** The kernels on `fitGpu` (the same choice, for that device). */
  readonly fitBackend: KernelBackend;
  /** Algorithm-specific switches of the Trainer's options (e.g. TRPO's outputJacobian). */
  readonly outputJacobian: boolean;
}

/** The learned state an algorithm saves and restores (the trainer adds the counters). */
export interface LearnedState {
  /** θ: the policy network, then the log-std (continuous actions). */
  policy: Float32Array;
  value: Float32Array;
  /** Adam's first and second moments of the value function. */
  adamMoments: Float32Array;
  adamStep: number;
}

/** The metrics every on-policy iteration reports besides its episodes and counters. */
export interface UpdateOutcome {
  entropy: number;
  /** Mean σ of a Gaussian policy; null for discrete actions. */
  policyStd: number | null;
  valueLoss: number;
  explainedVariance: number;
}

export interface Algorithm<Config extends OnPolicyConfig = OnPolicyConfig, Metrics extends UpdateOutcome = UpdateOutcome> {
  readonly name: string;
  readonly config: Config;
  readonly spec: EnvSpec;
  readonly actor: ActorLayout;
  readonly valueLayout: MlpLayout;
  /** θ on the trainer's device; read-only for others (the demo's live view). */
  readonly policyBuffer: GPUBuffer;
  /** The per-iteration scalars the GPU leaves for the host (rl/stats.ts), read back each iteration. */
  readonly stats: GPUBuffer;
  /** The rollout's episode log, and how many episodes it can hold. */
  readonly episodeLog: { readonly buffer: GPUBuffer; readonly capacity: number };
  /** The iteration's phases and reads; reads[0] must be the stats, reads[1] the episode log. */
  plan(iteration: number): IterationPlan;
  /** Decides on the host what the GPU left (e.g. the line search) and reports the update. */
  complete(run: RunResult, iteration: number): Metrics;
  state(): Promise<LearnedState>;
  restore(state: LearnedState, iteration: number): void;
  evaluate(options: { episodes: number; deterministic: boolean; seed: number }): Promise<EvaluationResult>;
  /** Runs the value fit once on whatever its buffers hold, so the driver compiles its kernels. */
  compileValueFit(): Promise<void>;
  destroy(): void;
}
