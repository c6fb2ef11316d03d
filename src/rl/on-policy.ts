/**
 * The parts of an iteration every on-policy algorithm shares: θ and V on the GPU, the rollout,
 * GAE, the value fit (on the trainer's device or a second one), the stats buffer, evaluation and
 * the learned state. An algorithm builds one and adds its policy update between the batch and
 * the fit (src/algos/<name>/).
 */
import { runOps, type Gpu } from '../gpu/index.js';
import { rngBits } from '../math/rng.js';
import { INIT_STREAM, initMlp } from '../nn/init.js';
import { mlpLayout, type ActorLayout, type MlpLayout } from '../nn/layout.js';
import { MlpKernels } from '../nn/mlp.js';
import { actorFor } from './actor.js';
import type { AlgorithmContext, LearnedState, UpdateOutcome } from './algorithm.js';
import { batchSize, type OnPolicyConfig } from './config.js';
import { evaluatePolicy, type EvaluationResult } from './evaluate.js';
import { AdvantageStage } from './gae.js';
import { RolloutStage } from './rollout.js';
import type { FitTransfer, Phase, ReadRange, RunResult } from './runner.js';
import { stat } from './stats.js';
import { ValueFitStage } from './value-fit.js';

/** The value fit's own copies of its inputs and of V, on its second device. */
interface FitSide {
  gpu: Gpu;
  value: GPUBuffer;
  obs: GPUBuffer;
  returns: GPUBuffer;
  stats: GPUBuffer;
}

export class OnPolicyCore {
  readonly actor: ActorLayout;
  readonly valueLayout: MlpLayout;
  /** θ: the policy network's parameters, then the log-std (Gaussian heads). */
  readonly theta: GPUBuffer;
  /** V's parameters on the trainer's device. */
  readonly value: GPUBuffer;
  readonly stats: GPUBuffer;
  readonly rollout: RolloutStage;
  readonly advantages: AdvantageStage;
  readonly valueFit: ValueFitStage;
  readonly valueMlp: MlpKernels;
  private readonly fitMlp: MlpKernels | null;
  private readonly fitSide: FitSide | null;
  private permCounter = 0;

  /** `statFloats`: the size of the stats buffer the algorithm's kernels use (rl/stats.ts). */
  constructor(
    private readonly ctx: AlgorithmContext,
    readonly config: OnPolicyConfig,
    statFloats: number,
  ) {
    const { gpu, fitGpu, spec, seed } = ctx;
    const cfg = config;
    this.actor = actorFor(spec, cfg.policyHidden);
    this.valueLayout = mlpLayout([spec.obsDim, ...cfg.valueHidden, 1]);
    const N = batchSize(cfg);

    const theta0 = new Float32Array(this.actor.paramCount);
    theta0.set(initMlp(this.actor.net.sizes, 0.01, seed, INIT_STREAM.policy));
    theta0.fill(cfg.logStdInit, this.actor.logStdOffset);
    this.theta = gpu.upload('policy/theta', theta0);
    const phi0 = initMlp(this.valueLayout.sizes, 1, seed, INIT_STREAM.value);
    this.value = gpu.upload('value/phi', phi0);
    this.stats = gpu.storage('stats', statFloats * 4);

    this.valueMlp = new MlpKernels(gpu, this.valueLayout, { backend: ctx.backend });
    this.fitMlp = fitGpu ? new MlpKernels(fitGpu, this.valueLayout, { backend: ctx.fitBackend }) : null;
    this.rollout = new RolloutStage(gpu, spec, this.actor, this.theta, { nEnvs: cfg.nEnvs, nSteps: cfg.nSteps, seed, backend: ctx.backend });
    this.advantages = new AdvantageStage(gpu, this.valueMlp, this.value, this.rollout.buffers, this.stats, cfg);
    // On a second device the fit has its own V (a copy kept equal to `value` after every fit)
    // and its own copies of the batch's observations and returns.
    this.fitSide = fitGpu
      ? {
          gpu: fitGpu,
          value: fitGpu.upload('value/phi', phi0),
          obs: fitGpu.storage('value/obs', N * spec.obsDim * 4),
          returns: fitGpu.storage('value/returns', N * 4),
          stats: fitGpu.storage('value/stats', statFloats * 4),
        }
      : null;
    const fitData = this.fitSide ?? { gpu, value: this.value, obs: this.rollout.buffers.obs, returns: this.advantages.returns, stats: this.stats };
    this.valueFit = new ValueFitStage(fitData.gpu, this.fitMlp ?? this.valueMlp, fitData.value, fitData, spec.obsDim, cfg);

    gpu.submit('reset-envs', (enc) => {
      const pass = enc.beginComputePass({ label: 'reset-envs' });
      this.rollout.resetOp().encode(pass);
      pass.end();
    });
  }

  /** The device the value fit runs on. */
  get fitGpu(): Gpu {
    return this.fitSide?.gpu ?? this.ctx.gpu;
  }

  /** Rollout, then GAE with V_old. */
  batchPhases(iteration: number): Phase[] {
    return [
      { label: 'rollout', ops: [this.rollout.rolloutOp(iteration)] },
      { label: 'advantages', ops: this.advantages.ops },
    ];
  }

  /** The value fit, with this iteration's minibatch order drawn on the host. */
  fitPhases(): Phase[] {
    this.valueFit.prepare(() => this.hostRandom());
    return [{ label: 'value-fit', ops: this.valueFit.ops }];
  }

  /** What every iteration reads back from the trainer's device: the stats, then the episode log. */
  get reads(): ReadRange[] {
    return [{ buffer: this.stats }, { buffer: this.rollout.buffers.episodes }];
  }

  /** With a fit device: the batch's observations and returns go there, V_new and its loss come back. */
  get fitTransfer(): FitTransfer | null {
    const side = this.fitSide;
    if (!side) return null;
    const N = batchSize(this.config);
    return {
      inputs: [
        { from: { buffer: this.rollout.buffers.obs, size: N * this.ctx.spec.obsDim * 4 }, to: side.obs },
        { from: { buffer: this.advantages.returns }, to: side.returns },
      ],
      outputs: [
        { buffer: side.value, size: this.valueLayout.paramCount * 4 },
        { buffer: side.stats, offset: stat('VALUE_LOSS') * 4, size: 4 },
      ],
    };
  }

  /**
   * The stats of a finished run: with a fit device, V_new goes back to the trainer's device for
   * the next iteration's advantages, and the fit's loss joins the other stats.
   */
  finishFit(run: RunResult): Float32Array {
    const stats = new Float32Array(run.reads[0]!);
    if (this.fitSide) {
      const [value, loss] = run.fitOutputs;
      this.ctx.gpu.device.queue.writeBuffer(this.value, 0, value!);
      stats[stat('VALUE_LOSS')] = new Float32Array(loss!)[0]!;
    }
    return stats;
  }

  /** Entropy, σ, value loss and explained variance from an iteration's stats. */
  outcome(stats: Float32Array): UpdateOutcome {
    const varReturns = stats[stat('VAR_RETURNS')]!;
    // R − V_old is the raw GAE advantage, so Var(R − V_old) = (its std)².
    const explainedVariance = varReturns > 0 ? 1 - stats[stat('ADV_STD_RAW')]! ** 2 / varReturns : 0;
    return {
      entropy: stats[stat('ENTROPY')]!,
      policyStd: this.actor.head === 'gaussian' ? stats[stat('POLICY_STD')]! : null,
      valueLoss: stats[stat('VALUE_LOSS')]!,
      explainedVariance,
    };
  }

  async state(): Promise<LearnedState> {
    const gpu = this.ctx.gpu;
    const adam = [{ buffer: this.valueFit.moments }, { buffer: this.valueFit.counter }];
    const [policy, value, ...rest] = await gpu.readRanges([{ buffer: this.theta }, { buffer: this.value }, ...(this.fitSide ? [] : adam)]);
    const [moments, counter] = this.fitSide ? await this.fitSide.gpu.readRanges(adam) : rest;
    return {
      policy: new Float32Array(policy!, 0, this.actor.paramCount),
      value: new Float32Array(value!, 0, this.valueLayout.paramCount),
      adamMoments: new Float32Array(moments!, 0, 2 * this.valueLayout.paramCount),
      adamStep: new Uint32Array(counter!)[1]!,
    };
  }

  restore(s: LearnedState, iteration: number): void {
    const q = this.ctx.gpu.device.queue;
    q.writeBuffer(this.theta, 0, new Float32Array(s.policy));
    q.writeBuffer(this.value, 0, new Float32Array(s.value));
    const fq = this.fitGpu.device.queue;
    if (this.fitSide) fq.writeBuffer(this.fitSide.value, 0, new Float32Array(s.value));
    fq.writeBuffer(this.valueFit.moments, 0, new Float32Array(s.adamMoments));
    fq.writeBuffer(this.valueFit.counter, 4, new Uint32Array([s.adamStep]));
    // Each iteration draws 2 permutation words per sample and epoch at most; start past them.
    this.permCounter = iteration * this.config.vfEpochs * batchSize(this.config);
  }

  evaluate(options: { episodes: number; deterministic: boolean; seed: number }): Promise<EvaluationResult> {
    return evaluatePolicy(this.ctx.gpu, this.ctx.spec, this.actor, this.theta, options);
  }

  /**
   * Runs the value fit once on whatever its buffers hold, so that the driver compiles its kernels.
   * For a throwaway trainer that compiles ahead on a second device (train/compile-ahead.ts); it
   * moves the value network without data, so it is no part of training.
   */
  async compileValueFit(): Promise<void> {
    this.valueFit.prepare(() => this.hostRandom());
    runOps(this.fitGpu, 'compile-value-fit', this.valueFit.ops);
    await this.fitGpu.flush();
  }

  private hostRandom(): number {
    const [a] = rngBits(this.ctx.seed, 0x5045524d /* 'PERM' */, this.permCounter++ >>> 0, (this.permCounter / 2 ** 32) >>> 0);
    return a / 4294967296;
  }

  destroy(): void {
    this.rollout.destroy();
    this.advantages.destroy();
    this.valueFit.destroy();
    for (const m of [this.valueMlp, this.fitMlp]) (m as { destroy?: () => void } | null)?.destroy?.();
    this.theta.destroy();
    this.value.destroy();
    this.stats.destroy();
    if (this.fitSide) for (const b of [this.fitSide.value, this.fitSide.obs, this.fitSide.returns, this.fitSide.stats]) b.destroy();
  }
}
