/**
 * Fisher-vector product F v = (1/N) Σ_n J_nᵀ M_n J_n v + damping·v at θ_old (docs/DESIGN.md, step 4):
 * forward mode for J v, the distribution's Fisher M at θ_old, reverse mode for Jᵀ(·), plus the
 * log-std block (2·I) of Gaussian policies. This is the Hessian of mean KL(π_old ‖ π_θ) at θ_old,
 * positive semi-definite by construction, with no double backprop.
 *
 * J is the same for every product of a conjugate-gradient run, and the network has few outputs,
 * so where the device runs the kernels of backends/subgroup8/output-jacobian.ts (MlpKernels.jacobianRows) the run first
 * keeps the output Jacobian G per sample (one backward pass per output: fvpPrepareOps), and each
 * product then costs one matrix product per layer each way instead of two: the same F v up to the
 * order of the sums, in about half the arithmetic.
 */
import type { Gpu, Op } from '../../gpu/index.js';
import type { MlpKernels } from '../../nn/mlp.js';
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

/** Scratch for the FVP (J v, M J v and, where used, the output Jacobian G), shared by every product of one context. */
export interface FvpScratch {
  jv: GPUBuffer;
  mjv: GPUBuffer;
  jacobian: GPUBuffer | null;
}

export function fvpScratch(ctx: FvpContext): FvpScratch {
  const { gpu, mlp, batch, headDim } = ctx;
  return {
    jv: gpu.storage('fvp/jv', batch * headDim * 4),
    mjv: gpu.storage('fvp/mjv', batch * headDim * 4),
    jacobian: mlp.jacobianRows ? gpu.storage('fvp/jacobian', mlp.jacobianLength(batch) * 4) : null,
  };
}

/** Ops run once before the products of a CG run (after θ_old's forward pass): G, where used. */
export function fvpPrepareOps(ctx: FvpContext, scratch: FvpScratch): Array<Op & { destroy?: () => void }> {
  const { mlp, theta, acts, batch } = ctx;
  return scratch.jacobian ? [mlp.outputJacobianOp({ params: theta, acts, jacobian: scratch.jacobian, batch })] : [];
}

/** Ops computing out = F v (both flat parameter vectors). */
export function fisherVectorProductOps(ctx: FvpContext, scratch: FvpScratch, v: GPUBuffer, out: GPUBuffer): Array<Op & { destroy?: () => void }> {
  const { mlp, kernels, theta, obs, acts, dist, batch, stats } = ctx;
  const { jv, mjv, jacobian } = scratch;
  return [
    jacobian
      ? mlp.jacobianVectorOp({ input: obs, acts, jacobian, tangent: v, outputTangent: jv, batch })
      : mlp.jvpOp({ params: theta, input: obs, acts, tangent: v, outputTangent: jv, batch }),
    kernels.op('fisher_mul', batch, { theta, dist, aux: jv, out: mjv, stats }),
    jacobian
      ? mlp.jacobianTransposeOp({ input: obs, acts, jacobian, gradOutput: mjv, gradParams: out, batch })
      : mlp.backwardOp({ params: theta, input: obs, acts, gradOutput: mjv, gradParams: out, batch }),
    kernels.op('fvp_finish', kernels.paramCount, { theta, aux: v, out, stats }),
  ];
}
