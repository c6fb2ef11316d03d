/** Policy evaluation on the GPU: `episodes` episodes in parallel, one dispatch, one readback. */
import type { EnvSpec } from '../envs/spaces.js';
import type { ActorLayout } from '../nn/layout.js';
import { Kernel, StructLayout, wgsl, type Gpu } from '../gpu/index.js';
import evaluateWgsl from './evaluate.wgsl?raw';
import { policyPrelude } from './policy-prelude.js';

export const EvalParams = new StructLayout('EvalParams', [
  ['episodes', 'u32'],
  ['seed', 'u32'],
  ['deterministic', 'u32'],
  ['logStdOffset', 'u32'],
] as const);

export interface EvaluationResult {
  /** Return of each episode. */
  returns: number[];
  /** Length of each episode in steps. */
  lengths: number[];
  /** Whether each episode ended by termination (for PointMass: the goal was reached). */
  terminated: boolean[];
  meanReturn: number;
  stdReturn: number;
}

const WG = 64;

export async function evaluatePolicy(
  gpu: Gpu,
  spec: EnvSpec,
  actor: ActorLayout,
  policy: GPUBuffer,
  opts: { episodes: number; deterministic: boolean; seed: number },
): Promise<EvaluationResult> {
  const kernel = Kernel.get(gpu, {
    label: `evaluate-${spec.id}`,
    entryPoint: 'evaluate',
    bindings: [
      ['params', 'uniform'],
      ['policy', 'read-only-storage'],
      ['results', 'storage'],
    ],
    code: wgsl(
      EvalParams.wgsl(), policyPrelude(spec, actor), evaluateWgsl,
    ),
    constants: { WG },
  });
  const params = gpu.uniform(
    'evaluate/params',
    EvalParams.pack({ episodes: opts.episodes, seed: opts.seed >>> 0, deterministic: opts.deterministic ? 1 : 0, logStdOffset: actor.logStdOffset }),
  );
  const results = gpu.buffer('evaluate/results', opts.episodes * 16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  try {
    gpu.submit('evaluate', (enc) => {
      const pass = enc.beginComputePass({ label: 'evaluate' });
      kernel.dispatch(pass, kernel.bind({ params, policy, results }), Math.ceil(opts.episodes / WG));
      pass.end();
    });
    const r = await gpu.readF32(results);
    const returns: number[] = [];
    const lengths: number[] = [];
    const terminated: boolean[] = [];
    for (let e = 0; e < opts.episodes; e++) {
      returns.push(r[4 * e]!);
      lengths.push(r[4 * e + 1]!);
      terminated.push(r[4 * e + 2]! !== 0);
    }
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length);
    return { returns, lengths, terminated, meanReturn: mean, stdReturn: std };
  } finally {
    params.destroy();
    results.destroy();
  }
}
