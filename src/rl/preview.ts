/**
 * Live preview of a policy for the demo page: a few environments stepped on the GPU with the
 * current policy, every frame recorded in one dispatch and read back once per chunk, so the page
 * can animate them while training goes on. Episodes carry over from one chunk to the next.
 * Also `probe`: the policy head's outputs (logits, or Gaussian means) on given observations.
 *
 * It only reads the policy buffer (θ: network parameters, then the log-std), so it can share the
 * trainer's buffer; the GPU queue orders it against training iterations.
 */
import type { EnvSpec } from '../envs/spaces.js';
import type { ActorLayout } from '../nn/layout.js';
import { Kernel, StructLayout, wgsl, type Gpu } from '../gpu/index.js';
import previewWgsl from './preview.wgsl?raw';
import { policyPrelude } from './policy-prelude.js';

export const PreviewParams = new StructLayout('PreviewParams', [
  ['nEnvs', 'u32'],
  ['nSteps', 'u32'],
  ['seed', 'u32'],
  /** Steps this preview already took per env: the sampling counter of the chunk's first step. */
  ['stepBase', 'u32'],
  ['logStdOffset', 'u32'],
  ['deterministic', 'u32'],
  /** Observations given to `probe`. */
  ['count', 'u32'],
] as const);

const WG = 64;

/** End code of a frame's step. */
export const FRAME_END = { none: 0, terminated: 1, truncated: 2 } as const;

export interface PreviewOptions {
  /** Environments recorded side by side. */
  nEnvs: number;
  /** Most steps one `record` call may ask for (sizes the frame buffer). */
  maxSteps: number;
  /** Seed of the preview's resets and action samples. */
  seed: number;
  /** Mean action (argmax for discrete) instead of a sample. Default false. */
  deterministic?: boolean;
  /** Most observations one `probe` call may take. Default 256. */
  maxProbe?: number;
}

/**
 * Frames of a chunk, frame-major: frame (t, e) starts at `(t · nEnvs + e) · stride` and holds the
 * state before step t (spec.stateDim floats, Gymnasium's layout), the action taken (the class index
 * for discrete actions, the clipped first component for continuous ones), the episode return and
 * the steps taken before step t, and the end code of step t (FRAME_END).
 */
export interface PreviewFrames {
  nEnvs: number;
  nSteps: number;
  stride: number;
  stateDim: number;
  data: Float32Array;
}

export class PolicyPreview {
  readonly nEnvs: number;
  readonly maxSteps: number;
  readonly maxProbe: number;
  deterministic: boolean;
  private stepBase = 0;
  private readonly params: GPUBuffer;
  private readonly envState: GPUBuffer;
  private readonly frames: GPUBuffer;
  private readonly probeIn: GPUBuffer;
  private readonly probeOut: GPUBuffer;
  private readonly kernels;
  private readonly previewGroup: GPUBindGroup;
  private readonly probeGroup: GPUBindGroup;
  private destroyed = false;

  constructor(
    private readonly gpu: Gpu,
    readonly spec: EnvSpec,
    private readonly actor: ActorLayout,
    policy: GPUBuffer,
    private readonly opts: PreviewOptions,
  ) {
    for (const [k, v, max] of [
      ['nEnvs', opts.nEnvs, 4096],
      ['maxSteps', opts.maxSteps, 65536],
      ['maxProbe', opts.maxProbe ?? 256, 65536],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`preview: ${k} must be an integer from 1 to ${max}, got ${v}`);
    }
    this.nEnvs = opts.nEnvs;
    this.maxSteps = opts.maxSteps;
    this.maxProbe = opts.maxProbe ?? 256;
    this.deterministic = opts.deterministic ?? false;
    const headDim = actor.headDim;
    const stride = spec.stateDim + 4;
    this.params = gpu.buffer('preview/params', PreviewParams.size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.envState = gpu.storage('preview/env-state', this.nEnvs * (spec.stateDim + 3) * 4);
    this.frames = gpu.storage('preview/frames', this.maxSteps * this.nEnvs * stride * 4);
    this.probeIn = gpu.storage('preview/probe-obs', this.maxProbe * spec.obsDim * 4);
    this.probeOut = gpu.storage('preview/probe-out', this.maxProbe * headDim * 4);
    const spec0 = {
      label: `preview-${spec.id}`,
      bindings: [
        ['params', 'uniform'],
        ['policy', 'read-only-storage'],
        ['state', 'storage'],
        ['out', 'storage'],
      ] as const,
      code: wgsl(
        PreviewParams.wgsl(), policyPrelude(spec, actor), previewWgsl,
      ),
      constants: { WG },
    };
    this.kernels = {
      init: Kernel.get(gpu, { ...spec0, entryPoint: 'preview_init' }),
      preview: Kernel.get(gpu, { ...spec0, entryPoint: 'preview' }),
      probe: Kernel.get(gpu, { ...spec0, entryPoint: 'probe' }),
    };
    this.previewGroup = this.kernels.preview.bind({ params: this.params, policy, state: this.envState, out: this.frames });
    this.probeGroup = this.kernels.probe.bind({ params: this.params, policy, state: this.probeIn, out: this.probeOut });
    this.reset();
  }

  private writeParams(nSteps: number, count: number): void {
    this.gpu.device.queue.writeBuffer(
      this.params,
      0,
      PreviewParams.pack({
        nEnvs: this.nEnvs,
        nSteps,
        seed: this.opts.seed >>> 0,
        stepBase: this.stepBase >>> 0,
        logStdOffset: this.actor.logStdOffset,
        deterministic: this.deterministic ? 1 : 0,
        count,
      }),
    );
  }

  private checkAlive(): void {
    if (this.destroyed) throw new Error('this PolicyPreview was destroyed');
  }

  /** Starts every env on a fresh first episode. */
  reset(): void {
    this.checkAlive();
    this.stepBase = 0;
    this.writeParams(0, 0);
    this.gpu.submit('preview-init', (enc) => {
      const pass = enc.beginComputePass({ label: 'preview-init' });
      this.kernels.init.dispatch(pass, this.previewGroup, Math.ceil(this.nEnvs / WG));
      pass.end();
    });
  }

  /** Steps every env `nSteps` times with the current policy: one dispatch and its readback, one submit. */
  async record(nSteps: number): Promise<PreviewFrames> {
    this.checkAlive();
    if (!Number.isInteger(nSteps) || nSteps < 1 || nSteps > this.maxSteps) {
      throw new RangeError(`preview: nSteps must be an integer from 1 to ${this.maxSteps}, got ${nSteps}`);
    }
    const stride = this.spec.stateDim + 4;
    this.writeParams(nSteps, 0);
    this.stepBase += nSteps;
    const [bytes] = await this.gpu.submitAndRead(
      'preview',
      (enc) => {
        const pass = enc.beginComputePass({ label: 'preview' });
        this.kernels.preview.dispatch(pass, this.previewGroup, Math.ceil(this.nEnvs / WG));
        pass.end();
      },
      [{ buffer: this.frames, size: nSteps * this.nEnvs * stride * 4 }],
    );
    const data = new Float32Array(bytes!);
    return { nEnvs: this.nEnvs, nSteps, stride, stateDim: this.spec.stateDim, data };
  }

  /**
   * The policy head on each observation of `obs` ([count][obsDim]): logits for discrete actions,
   * Gaussian means (before clipping) for continuous ones. Returns [count][headDim].
   */
  async probe(obs: Float32Array): Promise<Float32Array> {
    this.checkAlive();
    const d = this.spec.obsDim;
    const count = obs.length / d;
    if (!Number.isInteger(count) || count < 1 || count > this.maxProbe) {
      throw new RangeError(`preview: probe takes 1 to ${this.maxProbe} observations of ${d} floats, got ${obs.length} floats`);
    }
    const headDim = this.actor.headDim;
    this.gpu.device.queue.writeBuffer(this.probeIn, 0, obs.buffer, obs.byteOffset, obs.byteLength);
    this.writeParams(0, count);
    const [bytes] = await this.gpu.submitAndRead(
      'preview-probe',
      (enc) => {
        const pass = enc.beginComputePass({ label: 'preview-probe' });
        this.kernels.probe.dispatch(pass, this.probeGroup, Math.ceil(count / WG));
        pass.end();
      },
      [{ buffer: this.probeOut, size: count * headDim * 4 }],
    );
    return new Float32Array(bytes!);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.params, this.envState, this.frames, this.probeIn, this.probeOut]) b.destroy();
  }
}
