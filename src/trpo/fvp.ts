/**
 * Fisher-vector product F v = (1/N) Σ_n J_nᵀ M_n J_n v + damping·v at θ_old (DESIGN.md step 4):
 * forward mode for J v, the distribution's Fisher M at θ_old, reverse mode for Jᵀ(·), plus the
 * log-std block (2·I) of Gaussian policies. This is the Hessian of mean KL(π_old ‖ π_θ) at θ_old,
 * positive semi-definite by construction, with no double backprop.
 */
import type { Gpu, Op } from '../gpu/index.js';
import type { MlpKernels } from '../kernels/mlp.js';
import type { PolicyKernels } from './policy-kernels.js';

export interface FvpContext {
  gpu: Gpu;
  mlp: MlpKernels;
  kernels: PolicyKernels;
  /** θ_old, the flat policy parameters. */
  theta: GPUBuffer;
  /** The (sub)sample the FVP averages over: observations, z at θ_old, activations at θ_old. */
  obs: GPUBuffer;
  dist: GPUBuffer;
  acts: GPUBuffer;
  batch: number;
  /** Distribution width: classes or action dims. */
  headDim: number;
  stats: GPUBuffer;
}

/** Scratch for the FVP (J v and M J v), shared by every product of one context. */
export function fvpScratch(ctx: FvpContext): { jv: GPUBuffer; mjv: GPUBuffer } {
  return {
    jv: ctx.gpu.storage('fvp/jv', ctx.batch * ctx.headDim * 4),
    mjv: ctx.gpu.storage('fvp/mjv', ctx.batch * ctx.headDim * 4),
  };
}

/** Ops computing out = F v (both flat parameter vectors). */
export function fisherVectorProductOps(
  ctx: FvpContext,
  scratch: { jv: GPUBuffer; mjv: GPUBuffer },
  v: GPUBuffer,
  out: GPUBuffer,
): Array<Op & { destroy?: () => void }> {
  const { mlp, kernels, theta, obs, acts, dist, batch, stats } = ctx;
  return [
    mlp.jvpOp({ params: theta, input: obs, acts, tangent: v, outputTangent: scratch.jv, batch }),
    kernels.op('fisher_mul', batch, { theta, dist, aux: scratch.jv, out: scratch.mjv, stats }),
    mlp.backwardOp({ params: theta, input: obs, acts, gradOutput: scratch.mjv, gradParams: out, batch }),
    kernels.op('fvp_finish', kernels.paramCount, { theta, aux: v, out, stats }),
  ];
}
