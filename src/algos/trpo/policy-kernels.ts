/** The TRPO-specific policy kernels of policy.wgsl, specialized to one env and actor. */
import type { EnvSpec } from '../../envs/spaces.js';
import type { ActorLayout } from '../../nn/layout.js';
import { Kernel, StructLayout, dispatchOp, grid1d, wgsl, type Gpu, type Op } from '../../gpu/index.js';
import { headsWgsl } from '../../dist/heads.js';
import trpoPolicyWgsl from './policy.wgsl?raw';
import { headConsts } from '../../rl/codegen.js';
import { statConsts } from '../../rl/stats.js';

export const PolicyParams = new StructLayout('PolicyParams', [
  ['n', 'u32'],
  ['nFvp', 'u32'],
  ['paramCount', 'u32'],
  ['logStdOffset', 'u32'],
  ['candidates', 'u32'],
  ['distOldOffset', 'u32'],
  ['logpOldOffset', 'u32'],
  ['maxKl', 'f32'],
  ['shrink', 'f32'],
  ['entCoef', 'f32'],
  ['damping', 'f32'],
] as const);

export type PolicyParamValues = Parameters<typeof PolicyParams.pack>[0];

export interface PolicyBindings {
  theta: GPUBuffer;
  cand: GPUBuffer;
  dist: GPUBuffer;
  adv: GPUBuffer;
  actions: GPUBuffer;
  aux: GPUBuffer;
  out: GPUBuffer;
  stats: GPUBuffer;
}

export type PolicyEntry =
  | 'surrogate_grad'
  | 'fisher_mul'
  | 'fvp_finish'
  | 'step_scale'
  | 'make_candidates'
  | 'candidate_terms'
  | 'old_entropy';

const WG = 64;

export class PolicyKernels {
  readonly params: GPUBuffer;
  private readonly code: string;
  /** Bound to read-only bindings an entry point does not use. */
  private readonly unused: GPUBuffer;

  readonly paramCount: number;

  constructor(
    private readonly gpu: Gpu,
    spec: EnvSpec,
    actor: ActorLayout,
    values: PolicyParamValues,
  ) {
    this.paramCount = values.paramCount;
    this.code = wgsl(PolicyParams.wgsl(), headConsts(spec, actor), statConsts(), headsWgsl, trpoPolicyWgsl);
    this.params = gpu.uniform('policy/params', PolicyParams.pack(values));
    this.unused = gpu.buffer('policy/unused', 16, GPUBufferUsage.STORAGE);
  }

  /**
   * One dispatch of `entry` over `items` invocations (1-D, split over y when large); see
   * policy.wgsl for what each entry reads and writes. Unused bindings get `unused`.
   */
  op(entry: PolicyEntry, items: number, b: Partial<PolicyBindings> & Pick<PolicyBindings, 'out' | 'stats'>): Op {
    const single = entry === 'step_scale';
    const kernel = Kernel.get(this.gpu, {
      label: `trpo-${entry}`,
      entryPoint: entry,
      bindings: [
        ['params', 'uniform'],
        ['theta', 'read-only-storage'],
        ['cand', 'read-only-storage'],
        ['dist', 'read-only-storage'],
        ['adv', 'read-only-storage'],
        ['actions', 'read-only-storage'],
        ['aux', 'read-only-storage'],
        ['out', 'storage'],
        ['stats', 'storage'],
      ],
      code: this.code,
      constants: single ? {} : { WG },
    });
    const u = this.unused;
    const group = kernel.bind(
      { params: this.params, theta: u, cand: u, dist: u, adv: u, actions: u, aux: u, ...b },
      `trpo-${entry}`,
    );
    const [x, y] = single ? [1, 1] : grid1d(items, WG, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    return dispatchOp(entry, kernel, group, x, y);
  }

  destroy(): void {
    this.params.destroy();
    this.unused.destroy();
  }
}
