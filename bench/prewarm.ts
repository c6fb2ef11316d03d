/**
 * Pipeline compilation on two threads, for a cold shader cache.
 *
 * lavapipe compiles a pipeline with LLVM at its first dispatch, on the one thread that runs the
 * device's queue, and Mesa keeps the result in its on-disk shader cache, which every device on
 * the machine reads. So a second device can compile some of the kernels while the main device
 * compiles the others, and the main device later finds them in the cache. Here the second device
 * takes the value fit's kernel (the largest: half a minute on its own, and the main device's
 * first iteration reaches it last) and the throwaway trainers' value fits, while the main device
 * compiles the first case's other kernels by running a throwaway iteration, then the other
 * envs' (the trainer's CLI does the value fit's part of this, src/train/compile-ahead.ts).
 * Measured on a cold cache (CartPole preset, trainer creation and first iteration): 52.0 s
 * alone, 25.8 s with the value fit compiled on a second device (before changes 18–19).
 *
 * It changes no measurement: both throwaway trainers and the second device are gone before the
 * first section starts. With a warm cache it costs a second or two. Where a driver compiles when
 * the pipeline is created, or keeps no cache that devices share, each device compiles on its own
 * and nothing is gained: there (the test the trainer's CLI makes, compilesOnFirstDispatch) no
 * second device is made, and only the throwaway iteration runs. `--no-prewarm` turns it off.
 */
import type { EnvId } from '../src/envs/registry.js';
import { createGpu, type CreateGpuOptions, type Gpu } from '../src/gpu/index.js';
import { compileValueFitOn, compilesOnFirstDispatch } from '../src/train/compile-ahead.js';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import { trainerOptions } from './util.js';
import { Trainer } from '../src/train/trainer.js';

export interface PrewarmCase {
  env: EnvId;
  preset: string;
  config: Partial<TRPOConfig>;
}

async function throwawayIteration(gpu: Gpu, c: PrewarmCase, valueFitGpu?: Gpu): Promise<void> {
  const t = await Trainer.create('trpo', { ...trainerOptions, env: c.env, seed: 0, gpu, preset: c.preset, config: c.config, ...(valueFitGpu ? { valueFitGpu } : {}) });
  try {
    await t.iterate();
  } finally {
    t.destroy();
  }
}

/**
 * Runs `first` on the main device while a second device (made with `options`) compiles the value
 * fit's kernel, then `others` on the main device; the throwaway trainers fit their value functions
 * on the second device, so the main device never compiles that kernel as well (it would reach it
 * before the second device is done: ~30 s on a cold cache since change 19's loop). Resolves when
 * all are done. Returns the seconds it took, and why the second device was not used, if it was
 * not. `env` is the process environment that compilesOnFirstDispatch reads (Mesa's cache switch).
 */
export async function prewarm(
  gpu: Gpu,
  options: CreateGpuOptions,
  first: PrewarmCase,
  others: readonly PrewarmCase[],
  env: Record<string, string | undefined> = process.env,
): Promise<{ seconds: number; helper: string | null }> {
  const t0 = performance.now();
  if (!compilesOnFirstDispatch(gpu.adapter, env)) {
    await throwawayIteration(gpu, first);
    const why = 'this driver does not compile at the first dispatch into a cache that devices share';
    return { seconds: (performance.now() - t0) / 1000, helper: why };
  }
  // Compiling ahead is an optimization: without the second device the sections compile what
  // they need.
  let helperError: string | null = null;
  let second: Gpu | undefined;
  try {
    second = await createGpu({ ...options, label: 'bench-prewarm' });
  } catch (e) {
    helperError = (e as Error).message;
  }
  try {
    const fit = second
      ? compileValueFitOn(second, first.env, first.config, first.preset).catch((e: Error) => void (helperError = e.message))
      : Promise.resolve();
    await Promise.all([throwawayIteration(gpu, first, second), fit]);
    for (const c of others) await throwawayIteration(gpu, c, second);
  } finally {
    second?.destroy();
  }
  return { seconds: (performance.now() - t0) / 1000, helper: helperError };
}
