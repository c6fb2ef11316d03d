/**
 * An Op is one recorded GPU step with everything bound up front (pipeline, bind group, uniforms,
 * workgroup counts), so training can encode many of them into one compute pass without
 * allocating. Kernel wrappers return Ops; the trainer strings them together.
 */
import type { Gpu } from './device.js';

export interface Op {
  readonly label: string;
  encode(pass: GPUComputePassEncoder): void;
}

/** Encodes ops in order into one compute pass of one command buffer, and submits it. */
export function runOps(gpu: Gpu, label: string, ops: ReadonlyArray<Op>): void {
  gpu.submit(label, (enc) => {
    const pass = enc.beginComputePass({ label });
    for (const op of ops) op.encode(pass);
    pass.end();
  });
}

/** An Op from a kernel dispatch. */
export function dispatchOp(
  label: string,
  kernel: { dispatch(pass: GPUComputePassEncoder, group: GPUBindGroup, x: number, y?: number, z?: number): void },
  group: GPUBindGroup,
  x: number,
  y = 1,
  z = 1,
): Op {
  return { label, encode: (pass) => kernel.dispatch(pass, group, x, y, z) };
}
