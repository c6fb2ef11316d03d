/**
 * One-shot reductions for the tests: each builds the library's op (src/math/reduce.ts) with a
 * fresh result buffer, runs it once and reads the result back.
 */
import { runOps, type Gpu } from '../../src/gpu/index.js';
import {
  dotOp,
  meanOp,
  meanStdOp,
  sumOp,
  varianceOp,
  type MeanStdOptions,
  type ReduceOptions,
  type VarianceOptions,
} from '../../src/math/reduce.js';
import type { BuiltOp, ScalarRef, VecRef } from '../../src/math/vec.js';

/** Builds `make`'s op with a fresh 2-element result buffer, runs it, and reads both back. */
async function runToHost(gpu: Gpu, label: string, make: (a: ScalarRef, b: ScalarRef) => BuiltOp): Promise<[number, number]> {
  const buf = gpu.upload(`${label}/result`, new Float32Array([Number.NaN, Number.NaN]));
  const op = make({ buffer: buf, index: 0 }, { buffer: buf, index: 1 });
  try {
    runOps(gpu, label, [op]);
    const r = await gpu.readF32(buf, 0, 2);
    return [r[0]!, r[1]!];
  } finally {
    op.destroy();
    buf.destroy();
  }
}

/** Σ x_i·y_i on the GPU, read back. */
export async function dot(gpu: Gpu, x: VecRef, y: VecRef, opts?: ReduceOptions): Promise<number> {
  return (await runToHost(gpu, 'dot', (o) => dotOp(gpu, x, y, o, opts)))[0];
}

export async function sum(gpu: Gpu, x: VecRef, opts?: ReduceOptions): Promise<number> {
  return (await runToHost(gpu, 'sum', (o) => sumOp(gpu, x, o, opts)))[0];
}

export async function mean(gpu: Gpu, x: VecRef, opts?: ReduceOptions): Promise<number> {
  return (await runToHost(gpu, 'mean', (o) => meanOp(gpu, x, o, opts)))[0];
}

export async function variance(gpu: Gpu, x: VecRef, opts?: VarianceOptions): Promise<number> {
  return (await runToHost(gpu, 'variance', (o) => varianceOp(gpu, x, o, opts)))[0];
}

export async function meanStd(gpu: Gpu, x: VecRef, opts?: MeanStdOptions): Promise<{ mean: number; std: number }> {
  const [m, s] = await runToHost(gpu, 'mean-std', (a, b) => meanStdOp(gpu, x, a, b, opts));
  return { mean: m, std: s };
}
