/**
 * Compiling ahead on a second device, for a CPU driver's cold shader cache.
 *
 * Mesa's CPU Vulkan driver (lavapipe, whose adapter reports llvmpipe) compiles a pipeline with
 * LLVM at its first dispatch, on the one thread that runs the device's queue, and keeps the
 * result in its on-disk shader cache, which every device on the machine reads. A trainer's first
 * iteration therefore compiles its kernels one after the other on one core, the value fit's
 * (the largest) last. A second device can compile that one meanwhile, on the other core, and the
 * first iteration then finds it in the cache, about halving a cold first iteration
 * (docs/performance-log.md). With a warm
 * cache it costs the second device a moment; without a shared cache (or with another driver) it
 * only duplicates work, so callers use it where compilesOnFirstDispatch says so.
 *
 * Node only: it creates a device of its own (createGpu), which a browser page may not want.
 */
import type { EnvId } from '../envs/registry.js';
import { createGpu, runsOnCpu, type AdapterSummary, type CreateGpuOptions, type Gpu } from '../gpu/index.js';

export { compilesOnFirstDispatch, runsOnCpu } from '../gpu/index.js';
import type { TRPOConfig } from '../algos/trpo/config.js';
import { Trainer } from './trainer.js';

/** Where the value fit runs: 'auto' picks a second device on a CPU driver (runsOnCpu). */
export const VALUE_FIT_DEVICES = ['auto', 'same', 'second'] as const;
export type ValueFitDevice = (typeof VALUE_FIT_DEVICES)[number];

/** Whether `choice` puts the value fit on a second device on this adapter. */
export function wantsSecondFitDevice(choice: ValueFitDevice, adapter: AdapterSummary): boolean {
  return choice === 'second' || (choice === 'auto' && runsOnCpu(adapter));
}

/**
 * Compiles the value fit's kernels for `env` and `config` on `gpu`. The kernels depend on the
 * networks' shapes, not on data, so a throwaway trainer serves.
 */
export async function compileValueFitOn(gpu: Gpu, env: EnvId, config: Partial<TRPOConfig>, preset?: string): Promise<void> {
  const trainer = await Trainer.create('trpo', { env, seed: 0, gpu, config, ...(preset !== undefined ? { preset } : {}) });
  try {
    await trainer.compileValueFit();
  } finally {
    trainer.destroy();
  }
}

/** compileValueFitOn a device of its own, which it destroys afterwards. */
export async function compileValueFitAhead(o: { env: EnvId; config: TRPOConfig; gpuOptions?: CreateGpuOptions }): Promise<void> {
  const gpu = await createGpu({ ...o.gpuOptions, label: 'compile-ahead' });
  try {
    await compileValueFitOn(gpu, o.env, o.config);
  } finally {
    gpu.destroy();
  }
}
