/**
 * Time to solve: wall-clock seconds of training until the deterministic evaluation return of
 * CartPole-v1 reaches 500 (the episode cap), evaluating every `evalEvery` iterations. Only the
 * iterations count as training time; the evaluations are timed separately.
 */
import type { EnvId } from '../src/envs/registry.js';
import type { Gpu } from '../src/gpu/index.js';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import { trainerOptions } from './util.js';
import { Trainer } from '../src/train/trainer.js';

export interface SolveOptions {
  env: EnvId;
  preset: string;
  seed: number;
  maxTimesteps: number;
  evalEvery: number;
  evalEpisodes: number;
  threshold: number;
  /** Config fields over the preset. */
  config?: Partial<TRPOConfig>;
  /** A second device for the value fit (TrainerOptions.valueFitGpu). */
  valueFitGpu?: Gpu;
}

export interface SolveResult {
  seed: number;
  solved: boolean;
  /** Seconds of training (iterations only) until the evaluation that reached the threshold. */
  trainSeconds: number | null;
  iterations: number;
  timesteps: number;
  evalSeconds: number;
  evals: number;
  lastEvalReturn: number | null;
  /** Seconds of Trainer.create (kernels come from the device's cache after the warm-up). */
  createSeconds: number;
}

/**
 * One throwaway iteration and evaluation with the same config, so that pipeline creation is not
 * counted in any seed's time (it is reported once, as the warm-up).
 */
export async function warmUpSolve(gpu: Gpu, opts: SolveOptions): Promise<number> {
  const t0 = performance.now();
  const t = await Trainer.create('trpo', { ...trainerOptions, env: opts.env, seed: opts.seed, gpu, preset: opts.preset, config: opts.config, valueFitGpu: opts.valueFitGpu });
  try {
    await t.iterate();
    await t.evaluate({ episodes: opts.evalEpisodes, deterministic: true });
  } finally {
    t.destroy();
  }
  return (performance.now() - t0) / 1000;
}

export async function timeToSolve(gpu: Gpu, opts: SolveOptions): Promise<SolveResult> {
  const c0 = performance.now();
  const trainer = await Trainer.create('trpo', { ...trainerOptions, env: opts.env, seed: opts.seed, gpu, preset: opts.preset, config: opts.config, valueFitGpu: opts.valueFitGpu });
  const createSeconds = (performance.now() - c0) / 1000;
  let trainMs = 0;
  let evalMs = 0;
  let evals = 0;
  let lastEvalReturn: number | null = null;
  const result = (solved: boolean): SolveResult => ({
    seed: opts.seed,
    solved,
    trainSeconds: solved ? trainMs / 1000 : null,
    iterations: trainer.iteration,
    timesteps: trainer.timesteps,
    evalSeconds: evalMs / 1000,
    evals,
    lastEvalReturn,
    createSeconds,
  });
  try {
    while (trainer.timesteps < opts.maxTimesteps) {
      const t0 = performance.now();
      await trainer.iterate();
      trainMs += performance.now() - t0;
      if (trainer.iteration % opts.evalEvery !== 0) continue;
      const e0 = performance.now();
      const r = await trainer.evaluate({ episodes: opts.evalEpisodes, deterministic: true });
      evalMs += performance.now() - e0;
      evals += 1;
      lastEvalReturn = r.meanReturn;
      if (r.meanReturn >= opts.threshold) return result(true);
    }
    return result(false);
  } finally {
    trainer.destroy();
  }
}
