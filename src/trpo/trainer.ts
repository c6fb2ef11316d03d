/**
 * The TRPO trainer: owns the GPU buffers of both networks and the stages, runs one whole
 * iteration (rollout → advantages → policy step → value fit) as ONE submit, reads the results
 * back ONCE, and decides the line search on the host.
 */
import { checkEnvId, getEnvSpec } from '../envs/registry.js';
import type { EnvId, EnvSpec } from '../envs/spaces.js';
import { createGpu, runOps, type Gpu, type Op } from '../gpu/index.js';
import { MlpKernels, mlpLayout, type MlpLayout } from '../kernels/mlp.js';
import { rngBits } from '../kernels/rng.js';
import { AdvantageStage } from './advantages.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { ConfigError, derived, resolveConfig, type TRPOConfig } from './config.js';
import { evaluatePolicy, type EvaluationResult } from './evaluate.js';
import { INIT_STREAM, initMlp } from './init.js';
import { episodeSummary, lineSearch, readStat, type IterationMetrics, type PhaseTimes } from './metrics.js';
import { PolicyStep } from './policy-step.js';
import { presetConfig } from './presets.js';
import { RolloutStage } from './rollout.js';
import { CAND_BASE, statCount } from './stats.js';
import { ValueFitStage } from './value-fit.js';

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
  private readonly timing: { querySet: GPUQuerySet; resolve: GPUBuffer } | null;
  private permCounter = 0;
  private destroyed = false;

  private constructor(
    readonly gpu: Gpu,
    private readonly ownsGpu: boolean,
    readonly config: TRPOConfig,
    readonly seed: number,
    env: EnvId,
    stationaryKernels = true,
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

    const theta0 = new Float32Array(P);
    theta0.set(initMlp(this.policyLayout.sizes, 0.01, seed, INIT_STREAM.policy));
    theta0.fill(cfg.logStdInit, Pmlp);
    this.theta = gpu.upload('policy/theta', theta0);
    this.value = gpu.upload('value/phi', initMlp(this.valueLayout.sizes, 1, seed, INIT_STREAM.value));
    this.stats = gpu.storage('stats', statCount(cfg.lineSearchSteps) * 4);

    const policyMlp = new MlpKernels(gpu, this.policyLayout, { stationary: stationaryKernels });
    const valueMlp = new MlpKernels(gpu, this.valueLayout, { stationary: stationaryKernels });
    this.mlps = [policyMlp, valueMlp];
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
    this.valueFit = new ValueFitStage(gpu, valueMlp, this.value, {
      obs: this.rollout.buffers.obs,
      returns: this.advantages.returns,
      stats: this.stats,
    }, spec.obsDim, cfg);

    this.timing = gpu.hasTimestampQuery
      ? {
          querySet: gpu.device.createQuerySet({ label: 'iteration-timestamps', type: 'timestamp', count: 12 }),
          resolve: gpu.buffer('iteration-timestamps', 96, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC),
        }
      : null;
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
    const gpu = options.gpu ?? (await createGpu());
    try {
      return new Trainer(gpu, !options.gpu, config, seed, env, stationary);
    } catch (e) {
      if (!options.gpu) gpu.destroy();
      throw e;
    }
  }

  /** Rebuilds a trainer from saved state (used by Trainer.load). */
  static async fromState(state: TrainerState, gpu?: Gpu): Promise<Trainer> {
    const t = await Trainer.create('trpo', { env: state.env, seed: state.seed, config: state.config, ...(gpu ? { gpu } : {}) });
    t.restore(state);
    return t;
  }

  private restore(s: TrainerState): void {
    const q = this.gpu.device.queue;
    q.writeBuffer(this.theta, 0, new Float32Array(s.policy));
    q.writeBuffer(this.value, 0, new Float32Array(s.value));
    q.writeBuffer(this.valueFit.moments, 0, new Float32Array(s.adamMoments));
    q.writeBuffer(this.valueFit.counter, 4, new Uint32Array([s.adamStep]));
    this.iteration = s.iteration;
    this.timesteps = s.timesteps;
    this.totalEpisodes = s.totalEpisodes;
    // Each iteration draws 2 permutation words per sample and epoch at most; start past them.
    this.permCounter = s.iteration * this.config.vfEpochs * derived(this.config).batch;
  }

  /** Everything needed to continue training later (both networks, Adam, counters, config). */
  async state(): Promise<TrainerState> {
    this.checkAlive();
    const [policy, value, moments, counter] = await this.gpu.readRanges([
      { buffer: this.theta },
      { buffer: this.value },
      { buffer: this.valueFit.moments },
      { buffer: this.valueFit.counter },
    ]);
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
    runOps(this.gpu, 'compile-value-fit', this.valueFit.ops);
    await this.gpu.flush();
  }

  /** One TRPO iteration: one submit with its readback (plus a copy when a step is accepted). */
  async iterate(): Promise<IterationMetrics> {
    this.checkAlive();
    const cfg = this.config;
    const t0 = performance.now();
    const phases: Array<[string, readonly Op[]]> = [
      ['rollout', [this.rollout.rolloutOp(this.iteration)]],
      ['advantages', this.advantages.ops],
      ['gradient', this.policyStep.phases.gradient],
      ['conjugate-gradient', this.policyStep.phases.conjugateGradient],
      ['line-search', this.policyStep.phases.lineSearch],
      ['value-fit', this.valueFit.ops],
    ];
    this.valueFit.prepare(() => this.hostRandom());
    const timing = this.timing;
    const ranges = [
      { buffer: this.stats },
      { buffer: this.rollout.buffers.episodes },
      ...(timing ? [{ buffer: timing.resolve }] : []),
    ];
    const [statsBytes, episodeBytes, tsBytes] = await this.gpu.submitAndRead(`iteration-${this.iteration}`, (enc) => {
      phases.forEach(([label, ops], i) => {
        const pass = enc.beginComputePass({
          label,
          ...(timing
            ? { timestampWrites: { querySet: timing.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } }
            : {}),
        });
        for (const op of ops) op.encode(pass);
        pass.end();
      });
      if (timing) enc.resolveQuerySet(timing.querySet, 0, 2 * phases.length, timing.resolve, 0);
    }, ranges);
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
    const phaseMs = (i: number): number | null => {
      if (!tsBytes) return null;
      const ts = new BigUint64Array(tsBytes);
      const d = Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6;
      return Number.isFinite(d) && d >= 0 ? d : null;
    };
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
  static async load(source: string | Uint8Array, options: { gpu?: Gpu } = {}): Promise<Trainer> {
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
    return Trainer.fromState(decodeCheckpoint(bytes), options.gpu);
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
    if (this.ownsGpu) this.gpu.destroy();
  }
}
