/**
 * Whole-loop training throughput (env steps per second, rollout and every update included), the
 * time per phase, and the submits and readbacks per iteration.
 */
import type { EnvId } from '../src/envs/registry.js';
import type { Gpu, Op } from '../src/gpu/index.js';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import type { IterationMetrics } from '../src/algos/trpo/metrics.js';
import { Trainer } from '../src/train/trainer.js';
import { PassTimer, type TimedPass } from './pass-timer.js';
import { median, minMax, round, trainerOptions } from './util.js';

export interface LoopCase {
  env: EnvId;
  nEnvs: number;
  nSteps: number;
}

export const PHASES = ['rollout', 'gae', 'gradient', 'fvpCg', 'lineSearch', 'valueFit', 'logging', 'other'] as const;
export type Phase = (typeof PHASES)[number];

export interface LoopResult extends LoopCase {
  batch: number;
  config: TRPOConfig;
  warmupIterations: number;
  iterations: number;
  /** Median over the measured iterations of batch / (host wall time of the iteration). */
  stepsPerSecond: number;
  stepsPerSecondMinMax: [number, number];
  iterationMs: number[];
  /** Wall ms of Trainer.create and of the first iteration (with whatever pipeline creation bench/prewarm.ts left). */
  createMs: number;
  firstIterationMs: number;
  /**
   * Median ms per phase. rollout, gae, gradient, fvpCg, lineSearch, valueFit: GPU time of the
   * trainer's own passes (timestamps); logging: host time after the readback (line-search
   * decision, metrics); other: wall time not covered by the GPU passes (submit, readback
   * transfer, idle).
   * Without timestamp queries every GPU phase is the host time of its ops re-run in a submit of
   * their own.
   */
  phasesMs: Record<Phase, number | null>;
  /** GPU ms of each stage when re-run on its own (see phasesMs), null if the stages were not found. */
  rerunMs: Partial<Record<Phase, number>> | null;
  /** Median GPU ms of the trainer's policy pass, and the wall ms of an iteration. */
  policyMs: number | null;
  wallMs: number;
  phaseSource: 'gpu-timestamps' | 'host-rerun';
  /** Largest count seen over the measured iterations. */
  submitsPerIteration: number;
  readbacksPerIteration: number;
}

/** The trainer's stages, reached for profiling only (they are private to the trainer). */
const pass = (label: string, ops: readonly Op[]): TimedPass => ({
  label,
  encode: (p) => {
    for (const op of ops) op.encode(p);
  },
});

/**
 * The ops of each stage of the trainer's last iteration (Trainer.lastIterationPlan; the rollout's
 * re-run writes the same iteration's uniforms), or null before the first iteration. With the
 * value fit on its own device its ops cannot run here and are left out.
 */
export function stageOps(trainer: Trainer): Array<[Phase, readonly Op[]]> | null {
  const plan = trainer.lastIterationPlan;
  if (!plan) return null;
  const names: Record<string, Phase> = {
    rollout: 'rollout',
    advantages: 'gae',
    gradient: 'gradient',
    'conjugate-gradient': 'fvpCg',
    'line-search': 'lineSearch',
    'value-fit': 'valueFit',
  };
  const onThisDevice = trainer.fitGpu === trainer.gpu ? [...plan.batch, ...plan.update, ...plan.fit] : [...plan.batch, ...plan.update];
  return onThisDevice.map((p) => [names[p.label] ?? (p.label as Phase), p.ops]);
}

/**
 * Re-runs the stages of the trainer's last iteration, each as its own pass, and returns GPU ms
 * per stage (median of `repeats`). Changes the trainer's state (env states, value weights):
 * run it after the measured iterations.
 */
async function profileStages(
  gpu: Gpu,
  trainer: Trainer,
  timer: PassTimer,
  repeats: number,
): Promise<Partial<Record<Phase, number>> | null> {
  const ops = stageOps(trainer);
  if (!ops) return null;
  const stages: Array<[Phase, TimedPass]> = ops.map(([name, list]) => [name, pass(name, list)]);
  const samples = new Map<Phase, number[]>();
  for (let r = 0; r < repeats; r++) {
    if (timer.hasTimestamps) {
      const { gpuMs } = await timer.run('bench/profile', stages.map(([, p]) => p));
      stages.forEach(([name], i) => samples.set(name, [...(samples.get(name) ?? []), gpuMs![i]!]));
    } else {
      for (const [name, p] of stages) {
        const { wallMs } = await timer.run(`bench/profile-${name}`, [p]);
        samples.set(name, [...(samples.get(name) ?? []), wallMs]);
      }
    }
  }
  return Object.fromEntries([...samples].map(([k, v]) => [k, median(v)]));
}

export interface LoopOptions {
  warmup: number;
  iterations: number;
  /** Config fields over the preset (nEnvs and nSteps come from the case). */
  config: Partial<TRPOConfig>;
  preset?: string;
  seed?: number;
  /** Re-runs of the stages for the phase split. Default 3. */
  profileRepeats?: number;
  /** A second device for the value fit (TrainerOptions.valueFitGpu); its submits and readbacks count too. */
  valueFitGpu?: Gpu;
}

/** Submits and readbacks so far on the trainer's devices together. */
function counters(gpu: Gpu, fit?: Gpu): { submits: number; readbacks: number } {
  return { submits: gpu.counters.submits + (fit?.counters.submits ?? 0), readbacks: gpu.counters.readbacks + (fit?.counters.readbacks ?? 0) };
}

export async function measureLoop(gpu: Gpu, c: LoopCase, opts: LoopOptions): Promise<LoopResult> {
  const t0 = performance.now();
  const trainer = await Trainer.create('trpo', { ...trainerOptions,
    env: c.env,
    seed: opts.seed ?? 0,
    gpu,
    preset: opts.preset ?? 'default',
    config: { ...opts.config, nEnvs: c.nEnvs, nSteps: c.nSteps },
    ...(opts.valueFitGpu ? { valueFitGpu: opts.valueFitGpu } : {}),
  });
  const timer = new PassTimer(gpu);
  try {
    const createMs = performance.now() - t0;
    const batch = c.nEnvs * c.nSteps;
    let firstIterationMs = 0;
    for (let i = 0; i < opts.warmup; i++) {
      const s = performance.now();
      await trainer.iterate();
      if (i === 0) firstIterationMs = performance.now() - s;
    }
    const ms: number[] = [];
    const metrics: IterationMetrics[] = [];
    let submits = 0;
    let readbacks = 0;
    for (let i = 0; i < opts.iterations; i++) {
      const before = counters(gpu, opts.valueFitGpu);
      const s = performance.now();
      metrics.push(await trainer.iterate());
      ms.push(performance.now() - s);
      const after = counters(gpu, opts.valueFitGpu);
      submits = Math.max(submits, after.submits - before.submits);
      readbacks = Math.max(readbacks, after.readbacks - before.readbacks);
    }
    await gpu.flush();

    const med = (f: (m: IterationMetrics) => number | null): number | null => {
      const xs = metrics.map(f).filter((x): x is number => x !== null);
      return xs.length === metrics.length && xs.length > 0 ? median(xs) : null;
    };
    const wallMs = median(ms);
    const rerun = await profileStages(gpu, trainer, timer, opts.profileRepeats ?? 3);
    const fromTimestamps = med((m) => m.time.rollout) !== null;
    const phasesMs: Record<Phase, number | null> = {
      rollout: fromTimestamps ? med((m) => m.time.rollout) : (rerun?.rollout ?? null),
      gae: fromTimestamps ? med((m) => m.time.advantages) : (rerun?.gae ?? null),
      gradient: fromTimestamps ? med((m) => m.time.gradient) : (rerun?.gradient ?? null),
      fvpCg: fromTimestamps ? med((m) => m.time.conjugateGradient) : (rerun?.fvpCg ?? null),
      lineSearch: fromTimestamps ? med((m) => m.time.lineSearch) : (rerun?.lineSearch ?? null),
      valueFit: fromTimestamps ? med((m) => m.time.valueFit) : (rerun?.valueFit ?? null),
      logging: med((m) => m.time.host),
      other: null,
    };
    const policyMs = fromTimestamps ? med((m) => m.time.policy) : null;
    if (fromTimestamps) {
      const gpuSum = med((m) => (m.time.rollout ?? 0) + (m.time.advantages ?? 0) + (m.time.policy ?? 0) + (m.time.valueFit ?? 0));
      phasesMs.other = Math.max(0, wallMs - (gpuSum ?? 0) - (phasesMs.logging ?? 0));
    }
    const sps = ms.map((x) => batch / (x / 1000));
    return {
      ...c,
      batch,
      config: trainer.config,
      warmupIterations: opts.warmup,
      iterations: opts.iterations,
      stepsPerSecond: median(sps),
      stepsPerSecondMinMax: minMax(sps),
      iterationMs: ms.map((x) => round(x)!),
      createMs,
      firstIterationMs,
      phasesMs: Object.fromEntries(Object.entries(phasesMs).map(([k, v]) => [k, round(v)])) as Record<Phase, number | null>,
      rerunMs: rerun ? Object.fromEntries(Object.entries(rerun).map(([k, v]) => [k, round(v)])) : null,
      policyMs: round(policyMs),
      wallMs,
      phaseSource: fromTimestamps ? 'gpu-timestamps' : 'host-rerun',
      submitsPerIteration: submits,
      readbacksPerIteration: readbacks,
    };
  } finally {
    timer.destroy();
    trainer.destroy();
  }
}

export interface CountCase {
  nSteps: number;
  cgIters: number;
  submitsPerIteration: number;
  readbacksPerIteration: number;
}

/**
 * Submits and readbacks per iteration while nSteps and cgIters vary (small CartPole batches):
 * they must not grow with either.
 */
export async function countScaling(gpu: Gpu, cases: ReadonlyArray<{ nSteps: number; cgIters: number }>, valueFitGpu?: Gpu): Promise<CountCase[]> {
  const out: CountCase[] = [];
  for (const c of cases) {
    const trainer = await Trainer.create('trpo', { ...trainerOptions,
      env: 'CartPole-v1',
      seed: 0,
      gpu,
      config: { nEnvs: 8, nSteps: c.nSteps, cgIters: c.cgIters, vfBatchSize: 8 * Math.min(c.nSteps, 16) },
      ...(valueFitGpu ? { valueFitGpu } : {}),
    });
    try {
      await trainer.iterate();
      let submits = 0;
      let readbacks = 0;
      for (let i = 0; i < 3; i++) {
        const before = counters(gpu, valueFitGpu);
        await trainer.iterate();
        const after = counters(gpu, valueFitGpu);
        submits = Math.max(submits, after.submits - before.submits);
        readbacks = Math.max(readbacks, after.readbacks - before.readbacks);
      }
      out.push({ ...c, submitsPerIteration: submits, readbacksPerIteration: readbacks });
    } finally {
      trainer.destroy();
    }
  }
  return out;
}
