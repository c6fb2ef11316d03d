/**
 * One Gpu per test file. Without an adapter the GPU tests are skipped locally, but under CI=true
 * that is a failure: CI must run them on the software GPU.
 */
import { createGpu, type Gpu, NoWebGpuError } from '../src/gpu/index.js';

let shared: Promise<Gpu | null> | undefined;

export function testGpu(): Promise<Gpu | null> {
  shared ??= createGpu().catch((e: unknown) => {
    if (e instanceof NoWebGpuError && !process.env.CI) {
      console.warn(`GPU tests skipped: ${e.message}`);
      return null;
    }
    throw e;
  });
  return shared;
}
