/**
 * The Trainer: the one object users hold. It picks the devices and the kernels, builds the named
 * algorithm (src/algos/index.ts), and runs its iterations: each one's plan through the runner
 * (one submit and one readback, or three of each with the value fit on a second device), the
 * algorithm's decision on the results, and the episode bookkeeping.
 */
import { ALGORITHMS, ALGORITHM_NAMES, isAlgorithmName, type AlgorithmName } from '../algos/index.js';
import type { IterationMetrics, TrpoUpdateMetrics } from '../algos/trpo/metrics.js';
import type { TRPOConfig } from '../algos/trpo/config.js';
import { ConfigError } from '../errors.js';
import { checkEnvId, getEnvSpec } from '../envs/registry.js';
import type { EnvSpec } from '../envs/spaces.js';
import type { EnvId } from '../envs/registry.js';
import { createGpu, runsOnCpu, type Gpu } from '../gpu/index.js';
import { BACKEND_CHOICES, pickBackend, type BackendChoice } from '../nn/backend.js';
import type { ActorLayout, MlpLayout } from '../nn/layout.js';
import type { Algorithm, AlgorithmContext } from '../rl/algorithm.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type TrainerState } from '../rl/checkpoint.js';
import { batchSize } from '../rl/config.js';
import { EpisodeTracker, episodeSummary } from '../rl/episodes.js';
import type { EvaluationResult } from '../rl/evaluate.js';
import { Runner, type IterationPlan } from '../rl/runner.js';

export type { TrainerState };

export interface TrainerOptions {
  /** Environment id, e.g. 'CartPole-v1'. */
  env: EnvId;
  /** Seed of everything random (init, actions, resets, minibatches): an integer in [0, 2³²). Default 0. */
  seed?: number;
  /**
   * Named preset the config starts from. Default: the env's tuned preset where it has one (as the
   * CLI does), else 'default'; 'default' gives the reference defaults.
   */
  preset?: string;
  /** Fields over the preset. */
  config?: Partial<TRPOConfig>;
  /** A device to use; by default the trainer creates (and later destroys) its own. */
  gpu?: Gpu;
  /**
   * Which kernels run (src/nn/backend.ts): 'auto' (default) the device's best; 'generic' and
   * 'generic-no-subgroups' for comparisons. Same results to rounding.
   */
  kernels?: BackendChoice;
  /**
   * Where the CPU-driver kernels run and the policy's hidden layers fit them, compute each
   * conjugate-gradient run's Fisher-vector products through the policy's output Jacobian, kept
   * once per run (algos/trpo/fvp.ts): half the arithmetic of forward mode, the same products to
   * rounding. false keeps forward mode, for comparisons. Default true.
   */
  outputJacobian?: boolean;
  /**
   * Where the value fit runs. 'auto' (default): on a second device that the trainer creates and
   * owns, when the trainer creates its own `gpu` and that is a CPU driver (Mesa's llvmpipe), where
   * one device runs one dispatch at a time and a second lets the fit run beside the policy
   * update; otherwise on `gpu`. 'same': always on `gpu`. A Gpu: on that device (the caller keeps
   * ownership). The results are the same bit for bit on one device or two of the same driver;
   * with two, an iteration reads back 3 times instead of 1.
   */
  valueFitGpu?: Gpu | 'auto' | 'same';
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

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError('seed', seed, 'an integer from 0 to 4294967295');
  }
  return seed;
}

function isGpu(x: unknown): x is Gpu {
  return typeof x === 'object' && x !== null && 'device' in x && 'adapter' in x;
}

const resolveSaved = (algorithm: string, saved: unknown) => {
  if (!isAlgorithmName(algorithm)) throw new CheckpointError(`checkpoint field algorithm: ${JSON.stringify(algorithm)} (known: ${ALGORITHM_NAMES.join(', ')})`);
  return ALGORITHMS[algorithm].resolveSaved(saved);
};

export class Trainer {
  readonly spec: EnvSpec;
  /** The environment's id (the registry's key). */
  readonly env: EnvId;
  /** θ's layout: the policy network, its head and the log-std. */
  readonly actor: ActorLayout;
  readonly valueLayout: MlpLayout;
  iteration = 0;
  timesteps = 0;
  private readonly episodes = new EpisodeTracker();
  private readonly runner: Runner;
  private lastPlan: IterationPlan | null = null;
  private destroyed = false;

  private constructor(
    readonly gpu: Gpu,
    /** The device the value fit runs on: `gpu`, or a second one. */
    readonly fitGpu: Gpu,
    private readonly owned: readonly Gpu[],
    /** The algorithm: its config, its state on the GPU and its update (e.g. algos/trpo/algorithm.ts). */
    readonly algorithm: Algorithm<TRPOConfig, TrpoUpdateMetrics>,
    readonly seed: number,
  ) {
    this.spec = algorithm.spec;
    this.env = checkEnvId(algorithm.spec.id);
    this.actor = algorithm.actor;
    this.valueLayout = algorithm.valueLayout;
    this.runner = new Runner(gpu, fitGpu === gpu ? null : fitGpu);
  }

  /**
   * Creates a trainer. Everything is validated before any GPU work: the algorithm, the env id,
   * the seed, the preset name, every config field and option.
   */
  static async create(algo: AlgorithmName, options: TrainerOptions): Promise<Trainer> {
    if (!isAlgorithmName(algo)) throw new ConfigError('algorithm', algo, ALGORITHM_NAMES.map((n) => `'${n}'`).join(', '));
    if (!options || typeof options !== 'object') throw new ConfigError('options', options, 'an object with at least { env }');
    const entry = ALGORITHMS[algo];
    const env = checkEnvId(options.env, 'env');
    const seed = checkSeed(options.seed ?? 0);
    const config = entry.resolve(options.config ?? {}, options.preset ?? entry.presetFor(env));
    const kernels = options.kernels ?? 'auto';
    if (!BACKEND_CHOICES.includes(kernels)) throw new ConfigError('kernels', kernels, BACKEND_CHOICES.map((c) => `'${c}'`).join(', '));
    const outputJacobian = options.outputJacobian ?? true;
    if (typeof outputJacobian !== 'boolean') throw new ConfigError('outputJacobian', outputJacobian, 'true or false');
    if (options.gpu !== undefined && !isGpu(options.gpu)) throw new ConfigError('gpu', options.gpu, 'a Gpu from createGpu()');
    const fitChoice = options.valueFitGpu === undefined ? 'auto' : options.valueFitGpu;
    if (fitChoice !== 'auto' && fitChoice !== 'same' && !isGpu(fitChoice)) {
      throw new ConfigError('valueFitGpu', fitChoice, "'auto', 'same' or a Gpu from createGpu(), other than `gpu`");
    }
    if (fitChoice === options.gpu) {
      throw new ConfigError('valueFitGpu', 'the same Gpu as `gpu`', "a second device ('same' or leave it out to fit on `gpu`)");
    }
    const owned: Gpu[] = [];
    try {
      const gpu = options.gpu ?? owned[owned.push(await createGpu()) - 1]!;
      const secondAuto = fitChoice === 'auto' && !options.gpu && runsOnCpu(gpu.adapter);
      const fitGpu = isGpu(fitChoice) ? fitChoice : secondAuto ? owned[owned.push(await createGpu({ label: 'value-fit' })) - 1]! : gpu;
      const ctx: AlgorithmContext = {
        gpu,
        fitGpu: fitGpu === gpu ? null : fitGpu,
        spec: getEnvSpec(env),
        seed,
        backend: pickBackend(gpu, kernels),
        fitBackend: pickBackend(fitGpu, kernels),
        outputJacobian,
      };
      return new Trainer(gpu, fitGpu, owned, entry.create(ctx, config), seed);
    } catch (e) {
      for (const g of owned) g.destroy();
      throw e;
    }
  }

  /** The algorithm's name, as Trainer.create took it. */
  get algorithmName(): AlgorithmName {
    return this.algorithm.name as AlgorithmName;
  }

  get config(): TRPOConfig {
    return this.algorithm.config;
  }

  get totalEpisodes(): number {
    return this.episodes.totalEpisodes;
  }

  /**
   * The GPU buffer holding θ (policy network, then log-std), for kernels that run the current
   * policy elsewhere (the demo's live view). Read-only by convention; valid until destroy().
   */
  get policyBuffer(): GPUBuffer {
    this.checkAlive();
    return this.algorithm.policyBuffer;
  }

  /**
   * The phases, ops and reads of the last iteration (rollout, advantages, the algorithm's update
   * phases, value fit), or null before the first. Encoding its ops again repeats that iteration's
   * work on the current state: for profiling (the bench), not for training.
   */
  get lastIterationPlan(): IterationPlan | null {
    return this.lastPlan;
  }

  /** Rebuilds a trainer from saved state (used by Trainer.load). */
  static async fromState(state: TrainerState, options: { gpu?: Gpu; valueFitGpu?: Gpu | 'auto' | 'same' } = {}): Promise<Trainer> {
    if (!isAlgorithmName(state.algorithm)) throw new CheckpointError(`checkpoint field algorithm: ${JSON.stringify(state.algorithm)}`);
    const t = await Trainer.create(state.algorithm, { env: state.env, seed: state.seed, config: state.config as TRPOConfig, ...options });
    t.algorithm.restore(state, state.iteration);
    t.iteration = state.iteration;
    t.timesteps = state.timesteps;
    t.episodes.totalEpisodes = state.totalEpisodes;
    return t;
  }

  /** Everything needed to continue training later (both networks, Adam, counters, config). */
  async state(): Promise<TrainerState> {
    this.checkAlive();
    return {
      algorithm: this.algorithm.name,
      env: this.env,
      seed: this.seed,
      config: structuredClone(this.config),
      iteration: this.iteration,
      timesteps: this.timesteps,
      totalEpisodes: this.totalEpisodes,
      ...(await this.algorithm.state()),
    };
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
    await this.algorithm.compileValueFit();
  }

  /** One iteration: the algorithm's plan, run on the device(s), decided on the host. */
  async iterate(): Promise<IterationMetrics> {
    this.checkAlive();
    const t0 = performance.now();
    const plan = (this.lastPlan = this.algorithm.plan(this.iteration));
    const run = await this.runner.run(`iteration-${this.iteration}`, plan);
    const t1 = performance.now();
    const update = this.algorithm.complete(run, this.iteration);
    const { count, returns, lengths } = this.episodes.record(run.reads[1]!, this.algorithm.episodeLog.capacity);
    const steps = batchSize(this.config);
    this.iteration += 1;
    this.timesteps += steps;
    return {
      iteration: this.iteration,
      timesteps: this.timesteps,
      episodes: count,
      totalEpisodes: this.totalEpisodes,
      ...episodeSummary(returns, lengths),
      rollingReturnMean: this.episodes.rollingReturnMean,
      ...update,
      stepsPerSecond: steps / ((performance.now() - t0) / 1000),
      time: { ...update.time, gpuWall: t1 - t0, host: performance.now() - t1 },
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
    return this.algorithm.evaluate({ episodes, deterministic: options.deterministic ?? true, seed });
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
  static async load(source: string | Uint8Array, options: { gpu?: Gpu; valueFitGpu?: Gpu | 'auto' | 'same' } = {}): Promise<Trainer> {
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
    return Trainer.fromState(decodeCheckpoint(bytes, resolveSaved), options);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.algorithm.destroy();
    this.runner.destroy();
    for (const g of this.owned) g.destroy();
  }
}
