/** Recognizing a CPU Vulkan driver, whose scheduling differs from a GPU's. */
import type { AdapterSummary } from './device.js';

/**
 * Whether the adapter is a CPU driver (Mesa's llvmpipe): one device runs one dispatch at a time
 * on the machine's cores, so independent work belongs on a second device.
 */
export function runsOnCpu(adapter: AdapterSummary): boolean {
  return /llvmpipe/i.test(`${adapter.description} ${adapter.device}`);
}

/**
 * Whether the adapter is Mesa's CPU driver with its shader cache on (MESA_SHADER_CACHE_DISABLE
 * unset or false): it compiles a pipeline with LLVM at its first dispatch, on the one thread of
 * the device's queue, into an on-disk cache every device on the machine reads, so a second
 * device can compile ahead for the first.
 */
export function compilesOnFirstDispatch(adapter: AdapterSummary, env: Record<string, string | undefined> = {}): boolean {
  const disabled = env.MESA_SHADER_CACHE_DISABLE;
  const cacheOff = disabled !== undefined && !['', '0', 'false'].includes(disabled.toLowerCase());
  return !cacheOff && runsOnCpu(adapter);
}
