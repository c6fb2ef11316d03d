/** `webgpu-trpo train` and `webgpu-trpo eval`. */
import { mkdir, readFile, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkEnvId, getEnvSpec } from '../envs/registry.js';
import { createGpu } from '../gpu/index.js';
import { VALUE_FIT_DEVICES, compileValueFitAhead, compileValueFitOn, compilesOnFirstDispatch, wantsSecondFitDevice, type ValueFitDevice } from '../train/compile-ahead.js';
import { ConfigError, resolveConfig, type TRPOConfig } from '../algos/trpo/config.js';
import type { IterationMetrics } from '../algos/trpo/metrics.js';
import { getPreset, presetConfig } from '../algos/trpo/presets.js';
import { Trainer } from '../train/trainer.js';
import { configFlagOptions, configFromFlags, parse, parseInteger, UsageError } from './args.js';

/** What a CSV cell holds; `null` and `undefined` leave it empty. */
type Cell = string | number | boolean | null | undefined;
/** The metrics that fit in one cell. */
type CellMetric = { [K in keyof IterationMetrics]: IterationMetrics[K] extends Cell ? K : never }[keyof IterationMetrics];

const CSV_COLUMNS: CellMetric[] = [
  'iteration', 'timesteps', 'episodes', 'episodeReturnMean', 'episodeReturnP10', 'episodeReturnP90', 'episodeLengthMean',
  'rollingReturnMean', 'kl', 'surrogateBefore', 'surrogateAfter', 'expectedImprovement', 'stepFraction', 'backtracks',
  'accepted', 'entropy', 'policyStd', 'valueLoss', 'explainedVariance', 'cgResidual', 'stepsPerSecond',
];
const TIME_COLUMNS = ['rollout', 'advantages', 'gradient', 'conjugateGradient', 'lineSearch', 'policy', 'valueFit', 'gpuWall', 'host'] as const;

export function metricsCsvHeader(): string {
  return [...CSV_COLUMNS, ...TIME_COLUMNS.map((t) => `time_${t}_ms`)].join(',');
}

export function metricsCsvRow(m: IterationMetrics): string {
  const cell = (v: Cell) => (v === null || v === undefined ? '' : String(v));
  return [...CSV_COLUMNS.map((c) => cell(m[c])), ...TIME_COLUMNS.map((t) => cell(m.time[t]))].join(',');
}

const fmt = (v: number | null, digits = 1): string => (v === null ? '—' : v.toFixed(digits));

export function progressLine(m: IterationMetrics, total: number): string {
  return (
    `it ${String(m.iteration).padStart(4)}  steps ${String(m.timesteps).padStart(8)}/${total}  ` +
    `return ${fmt(m.rollingReturnMean).padStart(8)}  kl ${m.kl.toFixed(4)}  ` +
    `${m.accepted ? `step ${m.stepFraction.toFixed(2)}` : `rejected (${m.rejectReason})`}  ` +
    `H ${m.entropy.toFixed(3)}  ev ${m.explainedVariance.toFixed(2)}  ${Math.round(m.stepsPerSecond)} steps/s`
  );
}

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    env: { type: 'string' },
    timesteps: { type: 'string' },
    seed: { type: 'string' },
    preset: { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string' },
    'eval-episodes': { type: 'string' },
    'value-fit-device': { type: 'string' },
    quiet: { type: 'boolean' },
    ...configFlagOptions,
  });
  if (values.env === undefined) throw new UsageError('missing --env (one of CartPole-v1, Pendulum-v1, PointMass-v0)');
  const env = checkEnvId(values.env, '--env');
  const seed = parseInteger('seed', values.seed as string | undefined, 0, 0xffffffff) ?? 0;
  // The env's tuned preset by default, so `train --env X` learns X; --preset default for the reference defaults.
  const presetName = (values.preset as string | undefined) ?? env;
  const preset = getPreset(presetName);
  const timesteps = parseInteger('timesteps', values.timesteps as string | undefined, 1) ?? preset.timesteps ?? 100_000;
  const evalEpisodes = parseInteger('eval-episodes', values['eval-episodes'] as string | undefined, 0, 65536) ?? 10;
  const fitDevice = ((values['value-fit-device'] as string | undefined) ?? 'auto') as ValueFitDevice;
  if (!VALUE_FIT_DEVICES.includes(fitDevice)) {
    throw new ConfigError('--value-fit-device', fitDevice, "'auto' (a second device on a CPU driver), 'same' or 'second'");
  }
  let fileConfig: Partial<TRPOConfig> = {};
  if (typeof values.config === 'string') {
    let text: string;
    try {
      text = await readFile(values.config, 'utf8');
    } catch (e) {
      throw new ConfigError('--config', values.config, `a readable JSON file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    try {
      fileConfig = JSON.parse(text) as Partial<TRPOConfig>;
    } catch {
      throw new ConfigError('--config', values.config, 'a JSON object of TRPOConfig fields (the file is not valid JSON)');
    }
  }
  const config = resolveConfig({ ...fileConfig, ...configFromFlags(values as Record<string, string>) }, presetConfig(presetName));
  const out = (values.out as string | undefined) ?? join('runs', `${env}-seed${seed}`);

  // All input is valid: now the GPU.
  await mkdir(out, { recursive: true });
  const jsonl = join(out, 'metrics.jsonl');
  const csv = join(out, 'metrics.csv');
  await writeFile(jsonl, '');
  await writeFile(csv, `${metricsCsvHeader()}\n`);
  const gpu = await createGpu();
  const quiet = values.quiet === true;
  const tty = process.stdout.isTTY && !quiet;
  const log = (s: string) => process.stdout.write(s);
  log(`webgpu-trpo: ${env}, preset ${presetName}, seed ${seed}, ${timesteps} timesteps, ` +
    `batch ${config.nEnvs}×${config.nSteps}, on ${gpu.adapter.description || gpu.adapter.vendor || 'WebGPU'}\n`);
  // On a CPU driver the value fit runs on a second device, at the same time as the policy step
  // (TrainerOptions.valueFitGpu): one device runs one dispatch at a time, which at small batches
  // does not keep two cores busy.
  const fitGpu = wantsSecondFitDevice(fitDevice, gpu.adapter) ? await createGpu({ label: 'value-fit' }) : undefined;
  const trainer = await Trainer.create('trpo', { env, seed, config, gpu, ...(fitGpu ? { valueFitGpu: fitGpu } : {}) });
  // A CPU driver compiles each kernel at its first dispatch: without a shader cache (a first
  // run) that is tens of seconds of silence before the first progress line. On Mesa's, a second
  // device compiles the value fit's kernels meanwhile, from the start (compile-ahead.ts): the
  // fit's own device when it has one (else it would begin only after the rollout's kernels; a
  // third device measured slower), or one made for it. A failure there only means the first
  // iteration compiles them itself.
  if (!quiet) log('the first iteration compiles the GPU kernels (up to a minute on a CPU driver the first time; cached afterwards)\n');
  const ahead = compilesOnFirstDispatch(gpu.adapter, process.env)
    ? (fitGpu ? compileValueFitOn(fitGpu, env, config) : compileValueFitAhead({ env, config })).catch((e: unknown) => {
        if (!quiet) log(`(compiling ahead on a second device failed, which costs only time: ${(e as Error).message})\n`);
      })
    : Promise.resolve();
  const t0 = performance.now();
  try {
    const history = await trainer.train({
      totalTimesteps: timesteps,
      onIteration: async (m) => {
        await appendFile(jsonl, `${JSON.stringify(m)}\n`);
        await appendFile(csv, `${metricsCsvRow(m)}\n`);
        if (tty) log(`\r${progressLine(m, timesteps)}\x1b[K`);
        else if (!quiet) log(`${progressLine(m, timesteps)}\n`);
      },
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    if (tty) log('\n');
    await trainer.save(join(out, 'checkpoint.json'));
    const evaluation = evalEpisodes > 0 ? await trainer.evaluate({ episodes: evalEpisodes, deterministic: true }) : null;
    const last = history.at(-1);
    const summary = {
      env,
      preset: presetName,
      seed,
      config,
      timesteps: trainer.timesteps,
      iterations: trainer.iteration,
      trainSeconds,
      stepsPerSecond: trainer.timesteps / trainSeconds,
      finalRollingReturn: last?.rollingReturnMean ?? null,
      evaluation: evaluation && {
        episodes: evalEpisodes,
        deterministic: true,
        meanReturn: evaluation.meanReturn,
        stdReturn: evaluation.stdReturn,
        terminatedFraction: evaluation.terminated.filter(Boolean).length / evalEpisodes,
        returns: evaluation.returns,
      },
      device: gpu.adapter,
      valueFitDevice: fitGpu ? 'second' : 'same',
    };
    await writeFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    log(
      `done: ${trainer.timesteps} steps in ${trainSeconds.toFixed(1)} s` +
        (evaluation ? `; deterministic evaluation over ${evalEpisodes} episodes: ${evaluation.meanReturn.toFixed(1)} ± ${evaluation.stdReturn.toFixed(1)}` : '') +
        `\nwrote ${out}/{metrics.jsonl,metrics.csv,checkpoint.json,summary.json}\n`,
    );
    // Compiling ahead destroys its device when it settles; on an error the process exits without
    // waiting for it.
    await ahead;
  } finally {
    trainer.destroy();
    fitGpu?.destroy();
    gpu.destroy();
  }
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    checkpoint: { type: 'string' },
    episodes: { type: 'string' },
    seed: { type: 'string' },
    stochastic: { type: 'boolean' },
  });
  const checkpoint = values.checkpoint as string | undefined;
  if (checkpoint === undefined) throw new UsageError('missing --checkpoint (a checkpoint.json written by train)');
  const episodes = parseInteger('episodes', values.episodes as string | undefined, 1, 65536) ?? 10;
  const seed = parseInteger('seed', values.seed as string | undefined, 0, 0xffffffff);
  const trainer = await Trainer.load(checkpoint);
  try {
    const r = await trainer.evaluate({ episodes, deterministic: !values.stochastic, ...(seed !== undefined ? { seed } : {}) });
    const spec = getEnvSpec(trainer.spec.id);
    process.stdout.write(
      `${JSON.stringify({
        env: spec.id,
        checkpoint,
        timesteps: trainer.timesteps,
        episodes,
        deterministic: !values.stochastic,
        meanReturn: r.meanReturn,
        stdReturn: r.stdReturn,
        terminatedFraction: r.terminated.filter(Boolean).length / episodes,
        returns: r.returns,
      })}\n`,
    );
  } finally {
    trainer.destroy();
  }
}
