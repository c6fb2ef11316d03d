/**
 * Rollout stage: nEnvs environments stepped nSteps times with the current policy in one dispatch
 * (one invocation per env loops over time), writing the batch the update consumes. Where
 * subgroups are exactly 8 wide and the policy fits, `rollout_sg` (nn/backends/subgroup8/rollout-policy.ts) keeps the
 * policy's weights in the lanes of a subgroup of 8 envs instead.
 */
import type { EnvSpec } from '../envs/spaces.js';
import type { KernelBackend } from '../nn/backend.js';
import type { ActorLayout } from '../nn/layout.js';
import { Kernel, StructLayout, dispatchOp, wgsl, type Gpu, type Op } from '../gpu/index.js';
import rolloutWgsl from './rollout.wgsl?raw';
import { policyPrelude } from './policy-prelude.js';
import { rolloutSgFits, rolloutSgWgsl } from '../nn/backends/subgroup8/rollout-policy.js';

export const RolloutParams = new StructLayout('RolloutParams', [
  ['nEnvs', 'u32'],
  ['nSteps', 'u32'],
  ['seed', 'u32'],
  /** Global step index of this rollout's first step (iteration · nSteps): the sampling counter. */
  ['stepBase', 'u32'],
  ['logStdOffset', 'u32'],
  ['episodeCapacity', 'u32'],
] as const);

const WG = 64;

export interface RolloutBuffers {
  /** [2][N][obsDim]: s_n, then s'_n (this step's next observation, before any reset). */
  obs: GPUBuffer;
  /** [N][actStore]: the sampled (unclipped) actions; discrete ones as f32 indices. */
  actions: GPUBuffer;
  /** [N][4]: reward, terminated, truncated, 0. */
  steps: GPUBuffer;
  /** u32 count, 3 pad, then (return, length) pairs of the episodes that finished. */
  episodes: GPUBuffer;
}

export class RolloutStage {
  readonly buffers: RolloutBuffers;
  /** Per env: state, obs, running return, length, elapsed steps, episode number. */
  readonly envState: GPUBuffer;
  readonly episodeCapacity: number;
  private readonly params: GPUBuffer;
  private readonly kernelSpec;
  private readonly group: GPUBindGroup;
  private readonly groups: number;
  /** Workgroups of the rollout dispatch (`groups` is the init's). */
  private readonly rolloutGroups: number;
  /** Which kernel steps the envs: `rollout_sg` (subgroups of 8) or `rollout` (per invocation). */
  readonly entryPoint: 'rollout' | 'rollout_sg';

  constructor(
    private readonly gpu: Gpu,
    readonly spec: EnvSpec,
    private readonly actor: ActorLayout,
    policy: GPUBuffer,
    private readonly opts: { nEnvs: number; nSteps: number; seed: number; backend: KernelBackend },
  ) {
    const { nEnvs, nSteps } = opts;
    const n = nEnvs * nSteps;
    const actStore = spec.actionSpace.type === 'Discrete' ? 1 : spec.actionDim;
    // Every episode lasts at least one step, so at most N finish in one rollout.
    this.episodeCapacity = n;
    this.buffers = {
      obs: gpu.storage('rollout/obs', 2 * n * spec.obsDim * 4),
      actions: gpu.storage('rollout/actions', n * actStore * 4),
      steps: gpu.storage('rollout/steps', n * 16),
      episodes: gpu.storage('rollout/episodes', 16 + n * 8),
    };
    this.envState = gpu.storage('rollout/env-state', nEnvs * (spec.stateDim + spec.obsDim + 4) * 4);
    this.params = gpu.buffer('rollout/params', RolloutParams.size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const sg = opts.backend.name === 'subgroup8' && rolloutSgFits(actor.net.sizes);
    this.entryPoint = sg ? 'rollout_sg' : 'rollout';
    this.kernelSpec = {
      label: `rollout-${spec.id}`,
      bindings: [
        ['params', 'uniform'],
        ['policy', 'read-only-storage'],
        ['envs', 'storage'],
        ['obs_out', 'storage'],
        ['act_out', 'storage'],
        ['step_out', 'storage'],
        ['episodes', 'storage'],
      ] as const,
      code: sg
        ? wgsl('enable subgroups;', RolloutParams.wgsl(), policyPrelude(spec, actor), rolloutWgsl, rolloutSgWgsl(actor.net.sizes))
        : wgsl(RolloutParams.wgsl(), policyPrelude(spec, actor), rolloutWgsl),
      constants: { WG },
    };
    const kernel = this.kernel(this.entryPoint);
    this.group = kernel.bind({
      params: this.params,
      policy,
      envs: this.envState,
      obs_out: this.buffers.obs,
      act_out: this.buffers.actions,
      step_out: this.buffers.steps,
      episodes: this.buffers.episodes,
    });
    this.groups = Math.ceil(nEnvs / WG);
    this.rolloutGroups = sg ? Math.ceil(nEnvs / 8) : this.groups;
  }

  private kernel(entryPoint: 'rollout' | 'rollout_sg' | 'rollout_init') {
    return Kernel.get(this.gpu, { ...this.kernelSpec, entryPoint });
  }

  private writeParams(iteration: number): void {
    const stepBase = iteration * this.opts.nSteps;
    if (stepBase > 0xffffffff) throw new Error('rollout: the step counter passed 2^32 steps per env');
    this.gpu.device.queue.writeBuffer(
      this.params,
      0,
      RolloutParams.pack({
        nEnvs: this.opts.nEnvs,
        nSteps: this.opts.nSteps,
        seed: this.opts.seed >>> 0,
        stepBase,
        logStdOffset: this.actor.logStdOffset,
        episodeCapacity: this.episodeCapacity,
      }),
    );
  }

  /** Resets every env to its first episode (seeded by opts.seed). */
  resetOp(): Op {
    this.writeParams(0);
    const k = this.kernel('rollout_init');
    return dispatchOp('rollout-init', k, this.group, this.groups);
  }

  /**
   * The rollout of iteration `iteration`: writes the uniforms now (so call it right before the
   * submit that runs it) and clears the episode log.
   */
  rolloutOp(iteration: number): Op {
    this.writeParams(iteration);
    this.gpu.device.queue.writeBuffer(this.buffers.episodes, 0, new Uint32Array(4));
    return dispatchOp('rollout', this.kernel(this.entryPoint), this.group, this.rolloutGroups);
  }

  destroy(): void {
    for (const b of Object.values(this.buffers)) b.destroy();
    this.envState.destroy();
    this.params.destroy();
  }
}
