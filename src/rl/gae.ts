/**
 * Advantage stage: V(s) and V(s') for the whole batch in one value-network pass (the rollout
 * stores s and s' back to back), GAE per env, then optional normalization over the batch.
 */
import { Kernel, StructLayout, dispatchOp, grid1d, wgsl, type Gpu, type Op } from '../gpu/index.js';
import type { MlpKernels } from '../nn/mlp.js';
import { meanStdOp, varianceOp } from '../math/reduce.js';
import gaeWgsl from './gae.wgsl?raw';
import { batchSize, type GaeConfig } from './config.js';
import { stat, statConsts } from './stats.js';

export const GaeParams = new StructLayout('GaeParams', [
  ['nEnvs', 'u32'],
  ['nSteps', 'u32'],
  ['gamma', 'f32'],
  ['lambda', 'f32'],
] as const);

const WG = 64;

export class AdvantageStage {
  readonly ops: Op[] = [];
  /** [2N]: V(s_n), then V(s'_n). */
  readonly values: GPUBuffer;
  readonly advantages: GPUBuffer;
  readonly returns: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly destroyers: Array<() => void> = [];

  constructor(
    gpu: Gpu,
    valueMlp: MlpKernels,
    value: GPUBuffer,
    rollout: { obs: GPUBuffer; steps: GPUBuffer },
    stats: GPUBuffer,
    cfg: GaeConfig,
  ) {
    const N = batchSize(cfg);
    this.values = gpu.storage('adv/values', 2 * N * 4);
    this.advantages = gpu.storage('adv/advantages', N * 4);
    this.returns = gpu.storage('adv/returns', N * 4);
    this.params = gpu.uniform(
      'adv/params',
      GaeParams.pack({ nEnvs: cfg.nEnvs, nSteps: cfg.nSteps, gamma: cfg.gamma, lambda: cfg.gaeLambda }),
    );
    const code = wgsl(GaeParams.wgsl(), statConsts(), gaeWgsl);
    const bindings = [
      ['params', 'uniform'],
      ['step_in', 'read-only-storage'],
      ['values', 'read-only-storage'],
      ['adv', 'storage'],
      ['returns', 'storage'],
      ['stats', 'read-only-storage'],
    ] as const;
    const group = (k: Kernel<(typeof bindings)[number][0]>) =>
      k.bind({ params: this.params, step_in: rollout.steps, values: this.values, adv: this.advantages, returns: this.returns, stats });

    const forward = valueMlp.forwardOp({ params: value, input: rollout.obs, output: this.values, batch: 2 * N });
    this.destroyers.push(() => forward.destroy());
    this.ops.push(forward);
    const gae = Kernel.get(gpu, { label: 'gae', entryPoint: 'gae', bindings, code, constants: { WG } });
    this.ops.push(dispatchOp('gae', gae, group(gae), Math.ceil(cfg.nEnvs / WG)));
    // Raw mean/std are always computed: Var(R − V_old) = Var(A_raw) gives the explained variance.
    const ms = meanStdOp(
      gpu,
      { buffer: this.advantages, offset: 0, length: N },
      { buffer: stats, index: stat('ADV_MEAN_RAW') },
      { buffer: stats, index: stat('ADV_STD_RAW') },
    );
    this.ops.push(ms);
    this.ops.push(varianceOp(gpu, { buffer: this.returns, offset: 0, length: N }, { buffer: stats, index: stat('VAR_RETURNS') }));
    if (cfg.normalizeAdvantage) {
      const norm = Kernel.get(gpu, { label: 'gae-normalize', entryPoint: 'normalize_advantages', bindings, code, constants: { WG } });
      const [x, y] = grid1d(N, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
      this.ops.push(dispatchOp('normalize-advantages', norm, group(norm), x, y));
    }
  }

  destroy(): void {
    for (const d of this.destroyers) d();
    this.values.destroy();
    this.advantages.destroy();
    this.returns.destroy();
    this.params.destroy();
  }
}
