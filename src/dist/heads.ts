/**
 * Policy distribution heads on the GPU: the WGSL function library (src/dist/heads.wgsl) that the
 * fused training, rollout and evaluation kernels include. Tests run it through batch kernels of
 * their own (test/support/heads-batch.ts).
 */
import headsSource from './heads.wgsl?raw';

/** WGSL source text, to include in other kernels. */
export const headsWgsl: string = headsSource;
