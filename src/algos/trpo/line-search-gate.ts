/**
 * The line search's gate (line_search_gate.wgsl): after candidate 0 is evaluated, the GPU decides
 * as the host will whether it is accepted, and lets the evaluation of the other candidates run
 * only if not. The full step is accepted in most iterations, so this saves most of the line
 * search without a readback in between.
 */
import { GatedOps } from '../../gpu/gate.js';
import { Kernel, StructLayout, dispatchOp, wgsl, type Gpu, type Op } from '../../gpu/index.js';
import gateWgsl from './line_search_gate.wgsl?raw';
import { CAND_BASE, statConsts } from '../../rl/stats.js';

export const GateParams = new StructLayout('GateParams', [
  ['candidates', 'u32'],
  ['dispatches', 'u32'],
  ['candBase', 'u32'],
  ['maxKl', 'f32'],
  ['entCoef', 'f32'],
] as const);

/** The largest float32 ≤ x: a float32 KL is ≤ x exactly when it is ≤ this. */
export function f32AtMost(x: number): number {
  const f = Math.fround(x);
  if (f <= x || !Number.isFinite(f)) return f;
  const bits = new Uint32Array(new Float32Array([f]).buffer);
  bits[0] = f > 0 ? bits[0]! - 1 : bits[0]! + 1;
  return new Float32Array(bits.buffer)[0]!;
}

export interface LineSearchGate {
  /** The gate dispatch, to encode after candidate 0's stats are in. */
  gate: Op;
  /** The other candidates' ops, each dispatch indirect (owns its buffers: destroy it too). */
  rest: GatedOps;
  /** Frees the gate's own uniform. */
  destroy(): void;
}

export function lineSearchGate(
  gpu: Gpu,
  rest: readonly Op[],
  stats: GPUBuffer,
  cfg: { lineSearchSteps: number; maxKl: number; entCoef: number },
): LineSearchGate {
  const gated = new GatedOps(gpu, 'line-search/rest', rest);
  const params = gpu.uniform(
    'line-search/gate-params',
    GateParams.pack({ candidates: cfg.lineSearchSteps, dispatches: gated.dispatches, candBase: CAND_BASE, maxKl: f32AtMost(cfg.maxKl), entCoef: cfg.entCoef }),
  );
  const kernel = Kernel.get(gpu, {
    label: 'line-search-gate',
    entryPoint: 'line_search_gate',
    bindings: [
      ['p', 'uniform'],
      ['counts', 'read-only-storage'],
      ['args', 'storage'],
      ['stats', 'storage'],
    ],
    code: wgsl(GateParams.wgsl(), statConsts(), gateWgsl),
  });
  const group = kernel.bind({ p: params, counts: gated.counts, args: gated.args, stats });
  return {
    gate: dispatchOp('line-search-gate', kernel, group, 1),
    rest: gated,
    destroy: () => params.destroy(),
  };
}
