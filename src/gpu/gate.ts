/**
 * Ops that the GPU itself may skip: every dispatch of the wrapped ops becomes an indirect dispatch
 * whose workgroup counts live in `args`. A kernel that runs earlier in the same submit writes
 * either the recorded counts (from `counts`) or zeros into `args`, so work can depend on a result
 * the host has not read yet, without a readback in between.
 */
import type { Gpu } from './device.js';
import type { Op } from './op.js';

const ARGS_BYTES = 12; // x, y, z as u32

/** Records the dispatches an op makes, without encoding anything. */
function recordDispatches(ops: readonly Op[]): Array<[number, number, number]> {
  const counts: Array<[number, number, number]> = [];
  const recorder = {
    setPipeline: () => {},
    setBindGroup: () => {},
    dispatchWorkgroups: (x: number, y = 1, z = 1) => void counts.push([x, y, z]),
    dispatchWorkgroupsIndirect: () => {
      throw new Error('gatedOps: an op that already dispatches indirectly cannot be gated');
    },
  } as unknown as GPUComputePassEncoder;
  for (const op of ops) op.encode(recorder);
  return counts;
}

export class GatedOps implements Op {
  /** Indirect arguments, 3 u32 per dispatch (INDIRECT | STORAGE): what the gate writes. */
  readonly args: GPUBuffer;
  /** The workgroup counts the ops were built with, 3 u32 per dispatch (read-only storage). */
  readonly counts: GPUBuffer;
  readonly dispatches: number;

  constructor(
    gpu: Gpu,
    readonly label: string,
    private readonly ops: readonly Op[],
  ) {
    const recorded = recordDispatches(ops);
    this.dispatches = recorded.length;
    // A buffer cannot be empty: ops without dispatches still get one (unused) triple.
    const counts = recorded.length ? new Uint32Array(recorded.flat()) : new Uint32Array(3);
    this.counts = gpu.upload(`${label}/counts`, counts);
    // Until a gate writes them, the arguments are the recorded counts: ungated, the ops run.
    this.args = gpu.upload(`${label}/args`, counts, GPUBufferUsage.INDIRECT);
  }

  encode(pass: GPUComputePassEncoder): void {
    let i = 0;
    const args = this.args;
    const proxy = new Proxy(pass, {
      get(target, prop) {
        if (prop === 'dispatchWorkgroups') {
          return () => target.dispatchWorkgroupsIndirect(args, ARGS_BYTES * i++);
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    for (const op of this.ops) op.encode(proxy);
    if (i !== this.dispatches) throw new Error(`gatedOps ${this.label}: ${i} dispatches encoded, ${this.dispatches} recorded`);
  }

  /** Frees the argument buffers (an arrow function: callers keep it unbound, as for MLP ops). */
  readonly destroy = (): void => {
    this.args.destroy();
    this.counts.destroy();
  };
}
