/**
 * The TRPO trainer: owns the GPU buffers of both networks and the stages, runs one whole
 * iteration (rollout → advantages → policy step → value fit) as ONE submit, reads the results
 * back ONCE, and decides the line search on the host.
 *
 * With a second device for the value fit (TrainerOptions.valueFitGpu) an iteration is two
 * submits on the first device and one on the second: the policy step and the value fit need
 * nothing from each other (both start from the batch and the advantages of V_old), so they run
 * at the same time, and the host carries the batch over and V_new back.
 */
import { checkEnvId, getEnvSpec } from '../envs/registry.js';
import type { EnvId, EnvSpec } from '../envs/spaces.js';
import { createGpu, runOps, type Gpu, type Op } from '../gpu/index.js';
import { MlpKernels, mlpLayout, type MlpLayout } from '../nn/mlp.js';
import { rngBits } from '../math/rng.js';
import { AdvantageStage } from '../rl/gae.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../rl/checkpoint.js';
import { ConfigError, derived, resolveConfig, type TRPOConfig } from '../algos/trpo/config.js';
import { evaluatePolicy, type EvaluationResult } from '../rl/evaluate.js';
import { INIT_STREAM, initMlp } from '../nn/init.js';
import { episodeSummary, lineSearch, readStat, type IterationMetrics, type PhaseTimes } from '../algos/trpo/metrics.js';
import { PolicyStep } from '../algos/trpo/update.js';
import { presetConfig } from '../algos/trpo/presets.js';
import { RolloutStage } from '../rl/rollout.js';
import { CAND_BASE, stat, statCount } from '../rl/stats.js';
import { ValueFitStage } from '../rl/value-fit.js';

export interface TrainerOptions {
  /** Environment id, e.g. 'CartPole-v1'. */
  env: EnvId;
  /** Seed of everything random (init, actions, resets, minibatches): an integer in [0, 2³²). Default 0. */
  seed?: number;
  /** Named preset the config starts from. Default 'default' (the reference defaults). */
  preset?: string;
  /** Fields over the preset. */
  config?: Partial<TRPOConfig>;
  /** A device to use; by default the trainer creates (and later destroys) its own. */
  gpu?: Gpu;
  /**
   * Where the device has subgroups of exactly 8 (CPU drivers, e.g. lavapipe), keep weights in the
   * lanes of a subgroup: the dense layers that fit and thin output layers (src/kernels/mlp-stationary.ts,
   * mlp-thin.ts), the value fit's minibatch gradient (value-grad-stationary.ts) and the rollout's
   * policy (rollout-sg.ts). Same results to rounding; false is for comparisons. Default true.
   */
  stationaryKernels?: boolean;
  /**
   * Where the stationary kernels run and the policy's hidden layers fit them, compute each
   * conjugate-gradient run's Fisher-vector products through the policy's output Jacobian, kept
   * once per run (src/trpo/fvp.ts): half the arithmetic of forward mode, the same products to
   * rounding. false keeps forward mode, for comparisons. Default true.
   */
  outputJacobian?: boolean;
  /**
   * A second device to run the value fit on, at the same time as the policy step on `gpu` (the
   * caller keeps ownership). For CPU drivers such as lavapipe, where one device runs one dispatch
   * at a time and a small dispatch does not keep two cores busy: two devices do. The results
   * are the same as on one device, bit for bit, where both devices are the same driver; each
   * iteration then reads back 3 times instead of 1 (the batch's observations and returns, V_new,
   * the metrics). Default: none (everything on `gpu`).
   */
  valueFitGpu?: Gpu;
}

export interface TrainOptions {
  /** Train until at least this many env steps were taken in total (whole iterations). */
  totalTimesteps: number;
  /** Called after every iteration with its metrics; return false to stop early. */
  onIteration?: (m: IterationMetrics) => void | boolean | Promise<void | boolean>;
  /** Stops after the current iteration when aborted. */
  signal?: AbortSignal;
}

export interface EvaluateOptions {
  /** Episodes, run in parallel. Default 10. */
  episodes?: number;
  /** Mean action (argmax for discrete) instead of a sample. Default true. */
  deterministic?: boolean;
  /** Seed of the evaluation resets (and samples). Default: the trainer's seed + 10000. */
  seed?: number;
}

/** The value fit's own copies of its inputs and of V, on its second device. */
interface FitSide {
  gpu: Gpu;
  value: GPUBuffer;
  obs: GPUBuffer;
  returns: GPUBuffer;
  stats: GPUBuffer;
  timing: Timing | null;
}

/** Saved state the trainer can be rebuilt from (see checkpoint.ts). */
export interface TrainerState {
  env: EnvId;
  seed: number;
  config: TRPOConfig;
  iteration: number;
  timesteps: number;
  totalEpisodes: number;
  policy: Float32Array;
  value: Float32Array;
  adamMoments: Float32Array;
  adamStep: number;
}

const ROLLING_WINDOW = 100;

/** What an iteration's readbacks hold, whichever devices ran it. */
interface IterationResults {
  statsBytes: ArrayBuffer;
  episodeBytes: ArrayBuffer;
  /** GPU milliseconds of phase i (rollout, advantages, gradient, CG, line search, value fit). */
  phaseMs: (i: number) => number | null;
}

/** A phase of the iteration: its pass label and its ops. */
type Phase = [string, readonly Op[]];

/**
 * An iteration's phases by what they need: the batch (rollout, advantages), then the policy step
 * and the value fit, which both start from the batch and need nothing from each other (so the fit
 * can run on a device of its own).
 */
interface IterationPhases {
  batch: readonly Phase[];
  policy: readonly Phase[];
  fit: readonly Phase[];
}

/** One compute pass per phase, timestamps of phase i at 2(first + i) and 2(first + i) + 1. */
function encodePhases(
  enc: GPUCommandEncoder,
  phases: readonly Phase[],
  timing: { querySet: GPUQuerySet } | null,
  first: number,
): void {
  phases.forEach(([label, ops], i) => {
    const at = 2 * (first + i);
    const pass = enc.beginComputePass({
      label,
      ...(timing ? { timestampWrites: { querySet: timing.querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } } : {}),
    });
    for (const op of ops) op.encode(pass);
    pass.end();
  });
}

type Timing = { querySet: GPUQuerySet; resolve: GPUBuffer };

/** Begin and end timestamps for `passes` passes, where the device has timestamp queries. */
function passTiming(gpu: Gpu, label: string, passes: number): Timing | null {
  if (!gpu.hasTimestampQuery) return null;
  return {
    querySet: gpu.device.createQuerySet({ label, type: 'timestamp', count: 2 * passes }),
    resolve: gpu.buffer(label, 16 * passes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC),
  };
}

/** Milliseconds between timestamps 2i and 2i + 1 of a resolved query set, or null. */
function elapsedMs(tsBytes: ArrayBuffer | undefined, i: number): number | null {
  if (!tsBytes) return null;
  const ts = new BigUint64Array(tsBytes);
  const d = Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6;
  return Number.isFinite(d) && d >= 0 ? d : null;
}

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError('seed', seed, 'an integer from 0 to 4294967295');
  }
  return seed;
}

/**
 * The largest buffers a config needs, checked against the device's binding limit before anything
 * is allocated, so a too-large batch is a clear error instead of a GPU validation failure.
 */
function checkBufferSizes(gpu: Gpu, cfg: TRPOConfig, obsDim: number, headDim: number): void {
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

export class Trainer {
  readonly spec: EnvSpec;
  readonly policyLayout: MlpLayout;
  readonly valueLayout: MlpLayout;
  /** Policy parameters: the network's, then the log-std (continuous actions). */
  readonly policyParamCount: number;
  iteration = 0;
  timesteps = 0;
  totalEpisodes = 0;
  private readonly recentReturns: number[] = [];
  private readonly theta: GPUBuffer;
  private readonly value: GPUBuffer;
  private readonly stats: GPUBuffer;
  private readonly rollout: RolloutStage;
  private readonly advantages: AdvantageStage;
  private readonly policyStep: PolicyStep;
  private readonly valueFit: ValueFitStage;
  private readonly mlps: MlpKernels[];
  private readonly timing: Timing | null;
  /** The value fit's device and buffers when it is not `gpu` (TrainerOptions.valueFitGpu). */
  private readonly fitSide: FitSide | null;
  private permCounter = 0;
  private destroyed = false;

  private constructor(
    readonly gpu: Gpu,
    private readonly ownsGpu: boolean,
    readonly config: TRPOConfig,
    readonly seed: number,
    env: EnvId,
    stationaryKernels = true,
    fitGpu: Gpu | null = null,
    outputJacobian = true,
  ) {
    const spec = (this.spec = getEnvSpec(env));
    const cfg = config;
    const discrete = spec.actionSpace.type === 'Discrete';
    const headDim = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
    this.policyLayout = mlpLayout([spec.obsDim, ...cfg.policyHidden, headDim]);
    this.valueLayout = mlpLayout([spec.obsDim, ...cfg.valueHidden, 1]);
    const Pmlp = this.policyLayout.paramCount;
    const P = (this.policyParamCount = Pmlp + (discrete ? 0 : headDim));
    checkBufferSizes(gpu, cfg, spec.obsDim, headDim);
    if (fitGpu) checkBufferSizes(fitGpu, cfg, spec.obsDim, headDim);

    const theta0 = new Float32Array(P);
    theta0.set(initMlp(this.policyLayout.sizes, 0.01, seed, INIT_STREAM.policy));
    theta0.fill(cfg.logStdInit, Pmlp);
    this.theta = gpu.upload('policy/theta', theta0);
    const phi0 = initMlp(this.valueLayout.sizes, 1, seed, INIT_STREAM.value);
    this.value = gpu.upload('value/phi', phi0);
    this.stats = gpu.storage('stats', statCount(cfg.lineSearchSteps) * 4);

    const policyMlp = new MlpKernels(gpu, this.policyLayout, { stationary: stationaryKernels, outputJacobian });
    const valueMlp = new MlpKernels(gpu, this.valueLayout, { stationary: stationaryKernels });
    const fitMlp = fitGpu ? new MlpKernels(fitGpu, this.valueLayout, { stationary: stationaryKernels }) : valueMlp;
    this.mlps = fitGpu ? [policyMlp, valueMlp, fitMlp] : [policyMlp, valueMlp];
    const N = derived(cfg).batch;
    this.rollout = new RolloutStage(gpu, spec, this.policyLayout.sizes, this.theta, {
      nEnvs: cfg.nEnvs,
      nSteps: cfg.nSteps,
      seed,
      logStdOffset: Pmlp,
      subgroups: stationaryKernels,
    });
    this.advantages = new AdvantageStage(gpu, valueMlp, this.value, this.rollout.buffers, this.stats, cfg);
    this.policyStep = new PolicyStep(gpu, spec, policyMlp, P, {
      theta: this.theta,
      obs: this.rollout.buffers.obs,
      actions: this.rollout.buffers.actions,
      advantages: this.advantages.advantages,
      stats: this.stats,
    }, cfg);
    // On a second device the fit has its own V (a copy the host keeps equal to `value` after
    // every fit) and its own copies of the batch's observations and returns.
    this.fitSide = fitGpu
      ? {
          gpu: fitGpu,
          value: fitGpu.upload('value/phi', phi0),
          obs: fitGpu.storage('value/obs', N * spec.obsDim * 4),
          returns: fitGpu.storage('value/returns', N * 4),
          stats: fitGpu.storage('value/stats', statCount(cfg.lineSearchSteps) * 4),
          timing: passTiming(fitGpu, 'value-fit-timestamps', 1),
        }
      : null;
    const fitData = this.fitSide ?? { gpu, value: this.value, obs: this.rollout.buffers.obs, returns: this.advantages.returns, stats: this.stats };
    this.valueFit = new ValueFitStage(fitData.gpu, fitMlp, fitData.value, fitData, spec.obsDim, cfg);

    // One pass per phase of iterate(): rollout, advantages, gradient, CG, line search, value fit.
    this.timing = passTiming(gpu, 'iteration-timestamps', 6);
    gpu.submit('reset-envs', (enc) => {
      const pass = enc.beginComputePass({ label: 'reset-envs' });
      this.rollout.resetOp().encode(pass);
      pass.end();
    });
  }

  /**
   * Creates a trainer. Everything is validated before any GPU work: the algorithm ('trpo'), the
   * env id, the seed, the preset name and every config field.
   */
  static async create(algo: 'trpo', options: TrainerOptions): Promise<Trainer> {
    if (algo !== 'trpo') throw new ConfigError('algorithm', algo, "'trpo'");
    if (!options || typeof options !== 'object') throw new ConfigError('options', options, 'an object with at least { env }');
    const env = checkEnvId(options.env, 'env');
    const seed = checkSeed(options.seed ?? 0);
    const config = resolveConfig(options.config ?? {}, presetConfig(options.preset ?? 'default'));
    const stationary = options.stationaryKernels ?? true;
    if (typeof stationary !== 'boolean') throw new ConfigError('stationaryKernels', stationary, 'true or false');
    const outputJacobian = options.outputJacobian ?? true;
    if (typeof outputJacobian !== 'boolean') throw new ConfigError('outputJacobian', outputJacobian, 'true or false');
    const fitGpu = options.valueFitGpu;
    if (fitGpu !== undefined && (typeof fitGpu !== 'object' || fitGpu === null || !('device' in fitGpu))) {
      throw new ConfigError('valueFitGpu', fitGpu, 'a Gpu from createGpu(), other than `gpu`');
    }
    if (fitGpu !== undefined && fitGpu === options.gpu) {
      throw new ConfigError('valueFitGpu', 'the same Gpu as `gpu`', 'a second device (leave it out to fit on `gpu`)');
    }
    const gpu = options.gpu ?? (await createGpu());
    try {
      return new Trainer(gpu, !options.gpu, config, seed, env, stationary, fitGpu ?? null, outputJacobian);
    } catch (e) {
      if (!options.gpu) gpu.destroy();
      throw e;
    }
  }

  /** Rebuilds a trainer from saved state (used by Trainer.load). */
  static async fromState(state: TrainerState, gpu?: Gpu, valueFitGpu?: Gpu): Promise<Trainer> {
    const t = await Trainer.create('trpo', { env: state.env, seed: state.seed, config: state.config, ...(gpu ? { gpu } : {}), ...(valueFitGpu ? { valueFitGpu } : {}) });
    t.restore(state);
    return t;
  }

  private restore(s: TrainerState): void {
    const q = this.gpu.device.queue;
    q.writeBuffer(this.theta, 0, new Float32Array(s.policy));
    q.writeBuffer(this.value, 0, new Float32Array(s.value));
    const fq = this.fitGpu.device.queue;
    if (this.fitSide) fq.writeBuffer(this.fitSide.value, 0, new Float32Array(s.value));
    fq.writeBuffer(this.valueFit.moments, 0, new Float32Array(s.adamMoments));
    fq.writeBuffer(this.valueFit.counter, 4, new Uint32Array([s.adamStep]));
    this.iteration = s.iteration;
    this.timesteps = s.timesteps;
    this.totalEpisodes = s.totalEpisodes;
    // Each iteration draws 2 permutation words per sample and epoch at most; start past them.
    this.permCounter = s.iteration * this.config.vfEpochs * derived(this.config).batch;
  }

  /** Everything needed to continue training later (both networks, Adam, counters, config). */
  async state(): Promise<TrainerState> {
    this.checkAlive();
    const adam = [{ buffer: this.valueFit.moments }, { buffer: this.valueFit.counter }];
    const [policy, value, ...rest] = await this.gpu.readRanges([{ buffer: this.theta }, { buffer: this.value }, ...(this.fitSide ? [] : adam)]);
    const [moments, counter] = this.fitSide ? await this.fitSide.gpu.readRanges(adam) : rest;
    return {
      env: this.spec.id,
      seed: this.seed,
      config: structuredClone(this.config),
      iteration: this.iteration,
      timesteps: this.timesteps,
      totalEpisodes: this.totalEpisodes,
      policy: new Float32Array(policy!, 0, this.policyParamCount),
      value: new Float32Array(value!, 0, this.valueLayout.paramCount),
      adamMoments: new Float32Array(moments!, 0, 2 * this.valueLayout.paramCount),
      adamStep: new Uint32Array(counter!)[1]!,
    };
  }

  /**
   * The GPU buffer holding θ (policy network, then log-std), for kernels that run the current
   * policy elsewhere (the demo's live view). Read-only by convention; valid until destroy().
   */
  get policyBuffer(): GPUBuffer {
    this.checkAlive();
    return this.theta;
  }

  /** The device the value fit runs on. */
  private get fitGpu(): Gpu {
    return this.fitSide?.gpu ?? this.gpu;
  }

  private hostRandom(): number {
    const [a] = rngBits(this.seed, 0x5045524d /* 'PERM' */, this.permCounter++ >>> 0, (this.permCounter / 2 ** 32) >>> 0);
    return a / 4294967296;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this Trainer was destroyed');
  }

  /**
   * Runs the value fit once on whatever its buffers hold, so that the driver compiles its kernels.
   * For a throwaway trainer that compiles ahead on a second device (compile-ahead.ts); it moves
   * the value network without data, so it is no part of training.
   * @internal
   */
  async compileValueFit(): Promise<void> {
    this.checkAlive();
    this.valueFit.prepare(() => this.hostRandom());
    runOps(this.fitGpu, 'compile-value-fit', this.valueFit.ops);
    await this.fitGpu.flush();
  }

  /**
   * One TRPO iteration: one submit with its readback (plus a copy when a step is accepted); with
   * a second device for the value fit, two submits here and one there, with three readbacks.
   */
  async iterate(): Promise<IterationMetrics> {
    this.checkAlive();
    const cfg = this.config;
    const t0 = performance.now();
    // Timestamp pair i of the iteration is phase i of batch, policy, fit in this order.
    const phases: IterationPhases = {
      batch: [
        ['rollout', [this.rollout.rolloutOp(this.iteration)]],
        ['advantages', this.advantages.ops],
      ],
      policy: [
        ['gradient', this.policyStep.phases.gradient],
        ['conjugate-gradient', this.policyStep.phases.conjugateGradient],
        ['line-search', this.policyStep.phases.lineSearch],
      ],
      fit: [['value-fit', this.valueFit.ops]],
    };
    this.valueFit.prepare(() => this.hostRandom());
    const { statsBytes, episodeBytes, phaseMs } = this.fitSide
      ? await this.runSplit(phases, this.fitSide)
      : await this.runTogether([...phases.batch, ...phases.policy, ...phases.fit]);
    const t1 = performance.now();

    const stats = new Float32Array(statsBytes!);
    const entropy = readStat(stats, 'ENTROPY');
    const surrogateBefore = readStat(stats, 'ADV_MEAN') + cfg.entCoef * entropy;
    const decision = lineSearch(stats, cfg, surrogateBefore);
    const K = cfg.lineSearchSteps;
    if (decision.accepted !== null) this.policyStep.accept(decision.accepted);

    const episodeCount = Math.min(new Uint32Array(episodeBytes!, 0, 1)[0]!, this.rollout.episodeCapacity);
    const entries = new Float32Array(episodeBytes!, 16, 2 * episodeCount);
    const returns: number[] = [];
    const lengths: number[] = [];
    for (let i = 0; i < episodeCount; i++) {
      returns.push(entries[2 * i]!);
      lengths.push(entries[2 * i + 1]!);
    }
    this.recentReturns.push(...returns);
    if (this.recentReturns.length > ROLLING_WINDOW) this.recentReturns.splice(0, this.recentReturns.length - ROLLING_WINDOW);

    const steps = derived(cfg).batch;
    this.iteration += 1;
    this.timesteps += steps;
    this.totalEpisodes += episodeCount;

    const k = decision.accepted;
    const varReturns = readStat(stats, 'VAR_RETURNS');
    // R − V_old is the raw GAE advantage, so Var(R − V_old) = (its std)².
    const explainedVariance = varReturns > 0 ? 1 - readStat(stats, 'ADV_STD_RAW') ** 2 / varReturns : 0;
    const sum = (...xs: Array<number | null>) => (xs.every((x) => x !== null) ? xs.reduce<number>((a, b) => a + b!, 0) : null);
    const time: PhaseTimes = {
      rollout: phaseMs(0),
      advantages: phaseMs(1),
      gradient: phaseMs(2),
      conjugateGradient: phaseMs(3),
      lineSearch: phaseMs(4),
      policy: sum(phaseMs(2), phaseMs(3), phaseMs(4)),
      valueFit: phaseMs(5),
      gpuWall: t1 - t0,
      host: performance.now() - t1,
    };
    const rr0 = readStat(stats, 'CG_RR0');
    return {
      iteration: this.iteration,
      timesteps: this.timesteps,
      episodes: episodeCount,
      totalEpisodes: this.totalEpisodes,
      ...episodeSummary(returns, lengths),
      rollingReturnMean:
        this.recentReturns.length > 0 ? this.recentReturns.reduce((a, b) => a + b, 0) / this.recentReturns.length : null,
      kl: k === null ? 0 : stats[CAND_BASE + K + k]!,
      surrogateBefore,
      surrogateAfter: k === null ? surrogateBefore : stats[CAND_BASE + k]!,
      expectedImprovement: readStat(stats, 'EXPECTED_IMPROVE'),
      stepFraction: k === null ? 0 : cfg.lineSearchShrink ** k,
      backtracks: k === null ? K : k,
      accepted: k !== null,
      rejectReason: decision.reason,
      entropy,
      policyStd: this.spec.actionSpace.type === 'Discrete' ? null : readStat(stats, 'POLICY_STD'),
      valueLoss: readStat(stats, 'VALUE_LOSS'),
      explainedVariance,
      cgResidual: rr0 > 0 ? Math.sqrt(readStat(stats, 'CG_RR') / rr0) : 0,
      stepsPerSecond: steps / ((performance.now() - t0) / 1000),
      time,
    };
  }

  /** The whole iteration in one submit and one readback (the value fit on `gpu`). */
  private async runTogether(phases: readonly Phase[]): Promise<IterationResults> {
    const timing = this.timing;
    const [statsBytes, episodeBytes, tsBytes] = await this.gpu.submitAndRead(`iteration-${this.iteration}`, (enc) => {
      encodePhases(enc, phases, timing, 0);
      if (timing) enc.resolveQuerySet(timing.querySet, 0, 2 * phases.length, timing.resolve, 0);
    }, this.resultRanges());
    return { statsBytes: statsBytes!, episodeBytes: episodeBytes!, phaseMs: (i) => elapsedMs(tsBytes, i) };
  }

  /**
   * The iteration with the value fit on its second device: rollout and advantages, then the
   * policy step (queued behind them) here; the batch's observations and returns go to the fit's
   * device as soon as they are ready, and V_new comes back for the next iteration's advantages.
   */
  private async runSplit(phases: IterationPhases, side: FitSide): Promise<IterationResults> {
    const timing = this.timing;
    const N = derived(this.config).batch;
    const { batch: batchPhases, policy: policyPhases, fit: fitPhases } = phases;
    const fitIndex = batchPhases.length + policyPhases.length;
    const data = this.gpu.submitAndRead(`iteration-${this.iteration}/batch`, (enc) => encodePhases(enc, batchPhases, timing, 0), [
      { buffer: this.rollout.buffers.obs, size: N * this.spec.obsDim * 4 },
      { buffer: this.advantages.returns },
    ]);
    const policy = this.gpu.submitAndRead(`iteration-${this.iteration}/policy`, (enc) => {
      encodePhases(enc, policyPhases, timing, batchPhases.length);
      // This device's phases: all but the value fit's (its timestamps stay unwritten here).
      if (timing) enc.resolveQuerySet(timing.querySet, 0, 2 * fitIndex, timing.resolve, 0);
    }, this.resultRanges());
    // Both submits are queued before the first wait: a failure in either surfaces from its await.
    const fit = data.then(([obs, returns]) => {
      const q = side.gpu.device.queue;
      q.writeBuffer(side.obs, 0, obs!);
      q.writeBuffer(side.returns, 0, returns!);
      return side.gpu.submitAndRead(`iteration-${this.iteration}/value-fit`, (enc) => {
        encodePhases(enc, fitPhases, side.timing, 0);
        if (side.timing) enc.resolveQuerySet(side.timing.querySet, 0, 2 * fitPhases.length, side.timing.resolve, 0);
      }, [
        { buffer: side.value, size: this.valueLayout.paramCount * 4 },
        { buffer: side.stats, offset: stat('VALUE_LOSS') * 4, size: 4 },
        ...(side.timing ? [{ buffer: side.timing.resolve }] : []),
      ]);
    });
    const [[statsBytes, episodeBytes, tsBytes], [value, loss, fitTs]] = await Promise.all([policy, fit]);
    this.gpu.device.queue.writeBuffer(this.value, 0, value!);
    const stats = new Float32Array(statsBytes!);
    stats[stat('VALUE_LOSS')] = new Float32Array(loss!)[0]!;
    return { statsBytes: statsBytes!, episodeBytes: episodeBytes!, phaseMs: (i) => (i >= fitIndex ? elapsedMs(fitTs, i - fitIndex) : elapsedMs(tsBytes, i)) };
  }

  /** What every iteration reads back from `gpu`: the stats, the episodes, the timestamps. */
  private resultRanges(): Array<{ buffer: GPUBuffer }> {
    return [{ buffer: this.stats }, { buffer: this.rollout.buffers.episodes }, ...(this.timing ? [{ buffer: this.timing.resolve }] : [])];
  }

  /** Trains until `totalTimesteps` env steps (counting earlier training too) or until stopped. */
  async train(options: TrainOptions): Promise<IterationMetrics[]> {
    this.checkAlive();
    const total = options?.totalTimesteps;
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 1) {
      throw new ConfigError('totalTimesteps', total, 'a positive integer');
    }
    const all: IterationMetrics[] = [];
    while (this.timesteps < total && !options.signal?.aborted) {
      const m = await this.iterate();
      all.push(m);
      if ((await options.onIteration?.(m)) === false) break;
    }
    return all;
  }

  /** Runs `episodes` full episodes with the current policy on fresh envs (no training). */
  async evaluate(options: EvaluateOptions = {}): Promise<EvaluationResult> {
    this.checkAlive();
    const episodes = options.episodes ?? 10;
    if (!Number.isInteger(episodes) || episodes < 1 || episodes > 65536) {
      throw new ConfigError('episodes', episodes, 'an integer from 1 to 65536');
    }
    const seed = checkSeed(options.seed ?? (this.seed + 10000) % 2 ** 32);
    return evaluatePolicy(this.gpu, this.spec, this.policyLayout.sizes, this.theta, this.policyLayout.paramCount, {
      episodes,
      deterministic: options.deterministic ?? true,
      seed,
    });
  }

  /** The checkpoint bytes; in Node, also written to `path` when given. */
  async save(path?: string): Promise<Uint8Array> {
    const bytes = encodeCheckpoint(await this.state());
    if (path !== undefined) {
      const fs = await import(/* @vite-ignore */ 'node:fs/promises');
      await fs.writeFile(path, bytes);
    }
    return bytes;
  }

  /**
   * A trainer from checkpoint bytes, or (in Node) a checkpoint file path. The checkpoint is
   * validated before any GPU work; the loaded trainer continues training where it stopped
   * (environments start fresh episodes).
   */
  static async load(source: string | Uint8Array, options: { gpu?: Gpu; valueFitGpu?: Gpu } = {}): Promise<Trainer> {
    let bytes: Uint8Array;
    if (typeof source === 'string') {
      const fs = await import(/* @vite-ignore */ 'node:fs/promises');
      try {
        bytes = await fs.readFile(source);
      } catch (e) {
        throw new CheckpointError(`checkpoint ${source}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
    } else if (source instanceof Uint8Array) {
      bytes = source;
    } else {
      throw new CheckpointError('checkpoint: expected a file path or a Uint8Array');
    }
    return Trainer.fromState(decodeCheckpoint(bytes), options.gpu, options.valueFitGpu);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.rollout.destroy();
    this.advantages.destroy();
    this.policyStep.destroy();
    this.valueFit.destroy();
    for (const m of this.mlps) (m as { destroy?: () => void }).destroy?.();
    this.theta.destroy();
    this.value.destroy();
    this.stats.destroy();
    this.timing?.querySet.destroy();
    this.timing?.resolve.destroy();
    if (this.fitSide) {
      const f = this.fitSide;
      for (const b of [f.value, f.obs, f.returns, f.stats]) b.destroy();
      f.timing?.querySet.destroy();
      f.timing?.resolve.destroy();
    }
    if (this.ownsGpu) this.gpu.destroy();
  }
}
