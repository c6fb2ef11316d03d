/**
 * TRPO (Schulman et al. 2015) as an on-policy algorithm: the shared batch (rollout, GAE) and value
 * fit of rl/on-policy.ts around the policy update of update.ts, one plan per iteration:
 *
 *   batch:  rollout → advantages (GAE with V_old)
 *   update: gradient g → conjugate gradient x ≈ F⁻¹g and the step length → line-search candidates
 *   fit:    value fit (needs only the batch: may run on a second device at the same time)
 *
 * then, on the host, the line search's decision (line-search.ts) over what the GPU evaluated.
 */
import type { Gpu } from '../../gpu/index.js';
import { MlpKernels } from '../../nn/mlp.js';
import type { ActorLayout, MlpLayout } from '../../nn/layout.js';
import { actorFor } from '../../rl/actor.js';
import type { Algorithm, AlgorithmContext, LearnedState } from '../../rl/algorithm.js';
import type { EvaluationResult } from '../../rl/evaluate.js';
import { OnPolicyCore } from '../../rl/on-policy.js';
import type { IterationPlan, RunResult } from '../../rl/runner.js';
import { CAND_BASE, statCount } from '../../rl/stats.js';
import type { EnvSpec } from '../../envs/spaces.js';
import { ConfigError, derived, type TRPOConfig } from './config.js';
import { lineSearch } from './line-search.js';
import { readStat, type TrpoUpdateMetrics } from './metrics.js';
import { PolicyStep } from './update.js';

/**
 * The largest buffers a config needs, checked against the device's binding limit before anything
 * is allocated, so a too-large batch is a clear error instead of a GPU validation failure.
 */
export function checkBufferSizes(gpu: Gpu, cfg: TRPOConfig, obsDim: number, headDim: number): void {
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const N = derived(cfg).batch;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const needs: Array<[string, number]> = [
    // The line search evaluates every candidate in one pass: K sets of hidden activations.
    ['the line-search candidates (lineSearchSteps · nEnvs·nSteps · Σ policyHidden floats)', cfg.lineSearchSteps * N * sum(cfg.policyHidden) * 4],
    ['the candidate outputs', cfg.lineSearchSteps * N * headDim * 4],
    ['the value pass over s and s′ (2 · nEnvs·nSteps · Σ valueHidden floats)', 2 * N * sum(cfg.valueHidden) * 4],
    ['the rollout observations', 2 * N * obsDim * 4],
    ['the value-fit minibatch order (vfEpochs · nEnvs·nSteps)', Math.max(1, cfg.vfEpochs) * N * 4],
  ];
  for (const [what, bytes] of needs) {
    if (bytes > limit) {
      throw new ConfigError(
        'nEnvs·nSteps',
        N,
        `a batch whose largest buffer fits this device: ${what} would take ${bytes} bytes, the limit is ${limit}; ` +
          'use fewer envs or steps, fewer line-search steps or smaller networks',
      );
    }
  }
}

export class Trpo implements Algorithm<TRPOConfig, TrpoUpdateMetrics> {
  readonly name = 'trpo';
  readonly spec: EnvSpec;
  readonly actor: ActorLayout;
  readonly valueLayout: MlpLayout;
  private readonly core: OnPolicyCore;
  private readonly policyMlp: MlpKernels;
  /** The policy update's ops (update.ts), exposed through plan(). */
  private readonly policyStep: PolicyStep;

  constructor(
    ctx: AlgorithmContext,
    readonly config: TRPOConfig,
  ) {
    const cfg = config;
    this.spec = ctx.spec;
    const { headDim } = actorFor(ctx.spec, cfg.policyHidden);
    checkBufferSizes(ctx.gpu, cfg, ctx.spec.obsDim, headDim);
    if (ctx.fitGpu) checkBufferSizes(ctx.fitGpu, cfg, ctx.spec.obsDim, headDim);
    const core = (this.core = new OnPolicyCore(ctx, cfg, statCount(cfg.lineSearchSteps)));
    this.actor = core.actor;
    this.valueLayout = core.valueLayout;
    this.policyMlp = new MlpKernels(ctx.gpu, this.actor.net, { backend: ctx.backend, outputJacobian: ctx.outputJacobian });
    this.policyStep = new PolicyStep(ctx.gpu, ctx.spec, this.actor, this.policyMlp, {
      theta: core.theta,
      obs: core.rollout.buffers.obs,
      actions: core.rollout.buffers.actions,
      advantages: core.advantages.advantages,
      stats: core.stats,
    }, cfg);
  }

  get policyBuffer(): GPUBuffer {
    return this.core.theta;
  }

  get stats(): GPUBuffer {
    return this.core.stats;
  }

  get episodeLog(): { buffer: GPUBuffer; capacity: number } {
    return { buffer: this.core.rollout.buffers.episodes, capacity: this.core.rollout.episodeCapacity };
  }

  plan(iteration: number): IterationPlan {
    const steps = this.policyStep.phases;
    return {
      batch: this.core.batchPhases(iteration),
      update: [
        { label: 'gradient', ops: steps.gradient },
        { label: 'conjugate-gradient', ops: steps.conjugateGradient },
        { label: 'line-search', ops: steps.lineSearch },
      ],
      fit: this.core.fitPhases(),
      reads: this.core.reads,
      transfer: this.core.fitTransfer,
    };
  }

  complete(run: RunResult): TrpoUpdateMetrics {
    const cfg = this.config;
    const stats = this.core.finishFit(run);
    const outcome = this.core.outcome(stats);
    const surrogateBefore = readStat(stats, 'ADV_MEAN') + cfg.entCoef * outcome.entropy;
    const decision = lineSearch(stats, cfg, surrogateBefore);
    const k = decision.accepted;
    if (k !== null) this.policyStep.accept(k);
    const K = cfg.lineSearchSteps;
    const ms = run.phaseMs;
    const sum = (...xs: Array<number | null>) => (xs.every((x) => x !== null) ? xs.reduce<number>((a, b) => a + b!, 0) : null);
    const rr0 = readStat(stats, 'CG_RR0');
    return {
      ...outcome,
      kl: k === null ? 0 : stats[CAND_BASE + K + k]!,
      surrogateBefore,
      surrogateAfter: k === null ? surrogateBefore : stats[CAND_BASE + k]!,
      expectedImprovement: readStat(stats, 'EXPECTED_IMPROVE'),
      stepFraction: k === null ? 0 : cfg.lineSearchShrink ** k,
      backtracks: k === null ? K : k,
      accepted: k !== null,
      rejectReason: decision.reason,
      cgResidual: rr0 > 0 ? Math.sqrt(readStat(stats, 'CG_RR') / rr0) : 0,
      time: {
        rollout: ms('rollout'),
        advantages: ms('advantages'),
        gradient: ms('gradient'),
        conjugateGradient: ms('conjugate-gradient'),
        lineSearch: ms('line-search'),
        policy: sum(ms('gradient'), ms('conjugate-gradient'), ms('line-search')),
        valueFit: ms('value-fit'),
      },
    };
  }

  state(): Promise<LearnedState> {
    return this.core.state();
  }

  restore(state: LearnedState, iteration: number): void {
    this.core.restore(state, iteration);
  }

  evaluate(options: { episodes: number; deterministic: boolean; seed: number }): Promise<EvaluationResult> {
    return this.core.evaluate(options);
  }

  compileValueFit(): Promise<void> {
    return this.core.compileValueFit();
  }

  destroy(): void {
    this.core.destroy();
    this.policyStep.destroy();
    (this.policyMlp as { destroy?: () => void }).destroy?.();
  }
}
