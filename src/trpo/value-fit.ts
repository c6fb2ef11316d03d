/**
 * Value-function fit: `vfEpochs` epochs of minibatch Adam on mean (V(s) − R)², every minibatch
 * encoded up front (the minibatch index and Adam's step count are GPU counters), then the loss of
 * the fitted V on the whole batch for the log.
 */
import { Kernel, StructLayout, dispatchOp, grid1d, wgsl, type Gpu, type Op } from '../gpu/index.js';
import type { MlpKernels } from '../kernels/mlp.js';
import { axpyOp, scaleOp } from '../kernels/vec.js';
import { dotOp } from '../kernels/reduce.js';
import adamWgsl from '../shaders/adam.wgsl?raw';
import valueFitWgsl from '../shaders/value_fit.wgsl?raw';
import { derived, type TRPOConfig } from './config.js';
import { stat } from './stats.js';

export const ValueFitParams = new StructLayout('ValueFitParams', [
  ['n', 'u32'],
  ['batch', 'u32'],
  ['obsDim', 'u32'],
] as const);

export const AdamParams = new StructLayout('AdamParams', [
  ['paramCount', 'u32'],
  ['stepIndex', 'u32'],
  ['lr', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
] as const);

/** Adam's constants for the value function (sb3's TRPO uses Adam with eps 1e-5). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-5 } as const;

const WG = 64;

export class ValueFitStage {
  readonly ops: Op[] = [];
  /** Adam moments [m: P | v: P]. */
  readonly moments: GPUBuffer;
  /** [minibatch index c, Adam step count t]. */
  readonly counter: GPUBuffer;
  private readonly perm: GPUBuffer;
  private readonly owned: GPUBuffer[] = [];
  private readonly destroyers: Array<() => void> = [];
  private readonly n: number;

  constructor(
    private readonly gpu: Gpu,
    mlp: MlpKernels,
    value: GPUBuffer,
    data: { obs: GPUBuffer; returns: GPUBuffer; stats: GPUBuffer },
    obsDim: number,
    private readonly cfg: TRPOConfig,
  ) {
    const { batch: N, vfMinibatches } = derived(cfg);
    this.n = N;
    const B = cfg.vfBatchSize;
    const P = mlp.layout.paramCount;
    const own = (b: GPUBuffer) => (this.owned.push(b), b);
    const buf = (label: string, floats: number) => own(gpu.storage(`value/${label}`, floats * 4));
    const push = (op: Op & { destroy?: () => void }) => {
      this.ops.push(op);
      if (op.destroy) this.destroyers.push(op.destroy);
    };
    this.moments = buf('adam-moments', 2 * P);
    this.counter = own(gpu.upload('value/counter', new Uint32Array(2)));
    this.perm = own(gpu.storage('value/perm', Math.max(1, cfg.vfEpochs) * N * 4));
    const mbObs = buf('mb-obs', B * obsDim);
    const mbRet = buf('mb-ret', B);
    const mbV = buf('mb-v', B);
    const mbGrad = buf('mb-grad', B);
    const acts = buf('mb-acts', mlp.actsLength(B));
    const grad = buf('grad', P);

    const fitParams = own(gpu.uniform('value/params', ValueFitParams.pack({ n: N, batch: B, obsDim })));
    const fitCode = wgsl(ValueFitParams.wgsl(), valueFitWgsl);
    const fitBindings = [
      ['params', 'uniform'],
      ['obs', 'read-only-storage'],
      ['returns', 'read-only-storage'],
      ['perm', 'read-only-storage'],
      ['counter', 'storage'],
      ['mb_obs', 'storage'],
      ['mb_ret', 'storage'],
      ['mb_v', 'read-only-storage'],
      ['mb_grad', 'storage'],
    ] as const;
    const fitGroup = (entryPoint: 'gather' | 'loss_grad' | 'advance') => {
      const k = Kernel.get(gpu, { label: `value-${entryPoint}`, entryPoint, bindings: fitBindings, code: fitCode, constants: entryPoint === 'advance' ? {} : { WG } });
      const group = k.bind({
        params: fitParams,
        obs: data.obs,
        returns: data.returns,
        perm: this.perm,
        counter: this.counter,
        mb_obs: mbObs,
        mb_ret: mbRet,
        mb_v: mbV,
        mb_grad: mbGrad,
      });
      const [x, y] = entryPoint === 'advance' ? [1, 1] : grid1d(B, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
      return dispatchOp(`value-${entryPoint}`, k, group, x, y);
    };
    const adamParams = own(gpu.uniform('value/adam', AdamParams.pack({ paramCount: P, stepIndex: 1, lr: cfg.vfLr, ...ADAM })));
    const adam = Kernel.get(gpu, {
      label: 'adam',
      entryPoint: 'adam_step',
      bindings: [
        ['params', 'uniform'],
        ['theta', 'storage'],
        ['grad', 'read-only-storage'],
        ['moments', 'storage'],
        ['counter', 'read-only-storage'],
      ],
      code: wgsl(AdamParams.wgsl(), adamWgsl),
      constants: { WG },
    });
    const [ax, ay] = grid1d(P, WG, gpu.limits.maxComputeWorkgroupsPerDimension);
    const adamOp = dispatchOp('adam', adam, adam.bind({ params: adamParams, theta: value, grad, moments: this.moments, counter: this.counter }), ax, ay);

    // One minibatch step; the same ops serve every minibatch since c advances on the GPU.
    const gather = fitGroup('gather');
    const forward = mlp.forwardOp({ params: value, input: mbObs, output: mbV, acts, batch: B });
    const lossGrad = fitGroup('loss_grad');
    const backward = mlp.backwardOp({ params: value, input: mbObs, acts, gradOutput: mbGrad, gradParams: grad, batch: B });
    const advance = fitGroup('advance');
    this.destroyers.push(forward.destroy, backward.destroy);
    const steps = cfg.vfEpochs * vfMinibatches;
    for (let i = 0; i < steps; i++) this.ops.push(gather, forward, lossGrad, backward, adamOp, advance);

    // Loss of the fitted V on the whole batch: mean (V(s) − R)².
    const vNew = buf('v-new', N);
    push(mlp.forwardOp({ params: value, input: data.obs, output: vNew, batch: N }));
    push(axpyOp(gpu, { buffer: vNew, offset: 0, length: N }, { buffer: data.returns, offset: 0, length: N }, -1));
    const loss = { buffer: data.stats, index: stat('VALUE_LOSS') };
    push(dotOp(gpu, { buffer: vNew, offset: 0, length: N }, { buffer: vNew, offset: 0, length: N }, loss));
    push(scaleOp(gpu, { buffer: data.stats, offset: stat('VALUE_LOSS'), length: 1 }, 1 / N));
  }

  /**
   * Uploads this iteration's minibatch order (a fresh permutation per epoch, drawn on the host
   * from `random`) and rewinds the minibatch counter; call right before the submit.
   */
  prepare(random: () => number): void {
    const N = this.n;
    const perm = new Uint32Array(Math.max(1, this.cfg.vfEpochs) * N);
    for (let e = 0; e < this.cfg.vfEpochs; e++) {
      const p = perm.subarray(e * N, (e + 1) * N);
      for (let i = 0; i < N; i++) p[i] = i;
      for (let i = N - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = p[i]!;
        p[i] = p[j]!;
        p[j] = t;
      }
    }
    this.gpu.device.queue.writeBuffer(this.perm, 0, perm);
    this.gpu.device.queue.writeBuffer(this.counter, 0, new Uint32Array([0]));
  }

  destroy(): void {
    for (const d of this.destroyers) d();
    for (const b of this.owned) b.destroy();
  }
}
