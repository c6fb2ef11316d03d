/**
 * Value-function fit: `vfEpochs` epochs of minibatch Adam on mean (V(s) − R)², every minibatch
 * encoded up front (the minibatch index and Adam's step count are GPU counters), then the loss of
 * the fitted V on the whole batch for the log. The gradient is one weight-stationary kernel for
 * the whole network (nn/backends/subgroup8/value-step.ts) where the MLP kernels are subgroup8's
 * (MlpKernels.backend is subgroup8) and the network fits it: each minibatch step first applies Adam's
 * step on the minibatch before (the kernel's entry point `last` applies the last one), and one
 * workgroup takes all of them in one dispatch (or, split across workgroups, one per dispatch).
 * Else a minibatch step is two dispatches, the gradient by chunks of samples, then the sum of the
 * chunks and Adam (value_adam), with the gradient's dense layers sharing weight loads across
 * subgroups (value_grad_sg.wgsl) where the MLP kernels do and subgroups fit in its workgroup, or
 * per invocation (value_grad.wgsl).
 */
import { Kernel, dispatchOp, wgsl, type Gpu, type Op } from '../gpu/index.js';
import type { MlpKernels } from '../nn/mlp.js';
import { STATIONARY_LANES } from '../nn/backends/subgroup8/stationary.js';
import { axpyOp, scaleOp } from '../math/vec.js';
import { dotOp } from '../math/reduce.js';
import subgroupLoadsWgsl from '../nn/backends/generic/subgroup_loads.wgsl?raw';
import valueGradSgWgsl from '../nn/backends/generic/value_grad_sg.wgsl?raw';
import valueGradWgsl from '../nn/backends/generic/value_grad.wgsl?raw';
import valueAdamWgsl from '../nn/adam.wgsl?raw';
import valueStepWgsl from '../nn/backends/generic/value_step.wgsl?raw';
import { batchSize, vfMinibatches as minibatchesOf, type ValueFitConfig } from './config.js';
import { stat } from './stats.js';
import { LAST_WG, VALUE_GRAD_STATIONARY_BINDINGS, valueGradStationaryFloats, valueGradStationaryPhases, valueGradStationaryWgsl } from '../nn/backends/subgroup8/value-step.js';
import { VALUE_MAX_LAYERS, ValueStepParams } from '../nn/value-step-params.js';

/** Adam's constants for the value function (sb3's TRPO uses Adam with eps 1e-5). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-5 } as const;

/**
 * value_grad's shape, written into value_step.wgsl as its WG and S constants (S sizes register
 * arrays, so it cannot be an override): WG invocations of S samples make a chunk of CHUNK samples.
 */
const GRAD_WG = 16;
const SAMPLES = 4;
const CHUNK = GRAD_WG * SAMPLES;
/** Parameters per workgroup of value_adam (workgroups share the cores of a CPU driver). */
const ADAM_WG = 64;

const BINDINGS = [
  ['p', 'uniform'],
  ['table', 'uniform'],
  ['theta', 'storage'],
  ['obs', 'read-only-storage'],
  ['returns', 'read-only-storage'],
  ['perm', 'read-only-storage'],
  ['counter', 'storage'],
  ['scratch', 'storage'],
  ['moments', 'storage'],
] as const;

/** value_step.wgsl's LayerTable: per layer (inDim, outDim, W, b), (first input, first output feature). */
function layerTable(mlp: MlpKernels): ArrayBuffer {
  const { layers, sizes } = mlp.layout;
  if (layers.length > VALUE_MAX_LAYERS) throw new Error(`value fit: at most ${VALUE_MAX_LAYERS} layers, got ${layers.length}`);
  const table = new Uint32Array(VALUE_MAX_LAYERS * 8);
  let feature = 0;
  layers.forEach((ly, l) => {
    table.set([ly.inDim, ly.outDim, ly.wOffset, ly.bOffset, feature, feature + sizes[l]!, 0, 0], 8 * l);
    feature += sizes[l]!;
  });
  return table.buffer;
}

export interface ValueFitOptions {
  /**
   * Workgroups a minibatch's gradient is split into with the weight-stationary kernel. Default 1:
   * one workgroup then takes every minibatch of the fit in a single dispatch, one after the
   * other, where several workgroups need a dispatch per minibatch (they cannot wait for each
   * other). On a CPU driver one dispatch on one core beats a dispatch per minibatch on all cores
   * (each dispatch has a fixed cost), and it leaves the other cores to the policy step
   * (docs/performance-log.md). The split sets the order of the gradient's sums, so
   * runs with different splits differ in the last bits.
   */
  workgroups?: number;
}

export class ValueFitStage {
  readonly ops: Op[] = [];
  /** Adam moments [m: P | v: P]. */
  readonly moments: GPUBuffer;
  /** [minibatch index c, Adam step count t] (then the stationary kernel's per-chunk copies). */
  readonly counter: GPUBuffer;
  /** Which kernel computes the minibatch gradient (see the constructor). */
  readonly gradKernel: 'stationary' | 'subgroups' | 'per-invocation';
  private readonly perm: GPUBuffer;
  private readonly owned: GPUBuffer[] = [];
  private readonly destroyers: Array<() => void> = [];
  private readonly n: number;
  /** Chunks of the stationary kernel, whose per-chunk counters prepare() rewinds (0 otherwise). */
  private readonly chunks: number;

  constructor(
    private readonly gpu: Gpu,
    mlp: MlpKernels,
    value: GPUBuffer,
    data: { obs: GPUBuffer; returns: GPUBuffer; stats: GPUBuffer },
    obsDim: number,
    private readonly cfg: ValueFitConfig,
    options: ValueFitOptions = {},
  ) {
    if (options.workgroups !== undefined && !(Number.isInteger(options.workgroups) && options.workgroups >= 1)) {
      throw new Error(`value fit: workgroups must be a positive integer, got ${options.workgroups}`);
    }
    const N = batchSize(cfg);
    const vfMinibatches = minibatchesOf(cfg);
    this.n = N;
    const B = cfg.vfBatchSize;
    const { paramCount: P, sizes } = mlp.layout;
    if (sizes[sizes.length - 1] !== 1) throw new Error(`value fit: the value network has one output, got ${sizes[sizes.length - 1]}`);
    const own = (b: GPUBuffer) => (this.owned.push(b), b);
    const buf = (label: string, floats: number) => own(gpu.storage(`value/${label}`, floats * 4));
    const push = (op: Op & { destroy?: () => void }) => {
      this.ops.push(op);
      if (op.destroy) this.destroyers.push(op.destroy);
    };
    this.moments = buf('adam-moments', 2 * P);
    this.perm = own(gpu.storage('value/perm', Math.max(1, cfg.vfEpochs) * N * 4));

    // The gradient's kernel: weight-stationary (backends/subgroup8/value-step.ts) where the MLP's kernels
    // are and the network fits it, else value_grad_sg with whole subgroups in its workgroup of
    // GRAD_WG invocations (lavapipe's are 8 wide), else per invocation (value_grad).
    const stationary = mlp.backend.name === 'subgroup8' && valueGradStationaryPhases(sizes) !== null;
    const sg = mlp.subgroups && gpu.subgroups !== null && gpu.subgroups.max <= GRAD_WG;
    this.gradKernel = stationary ? 'stationary' : sg ? 'subgroups' : 'per-invocation';
    // The stationary kernel's chunks are whole groups of 8 samples (one workgroup each, by
    // default one per minibatch); value_grad's chunks are CHUNK samples.
    const workgroups = options.workgroups ?? 1;
    const chunk = stationary ? Math.ceil(B / workgroups / STATIONARY_LANES) * STATIONARY_LANES : CHUNK;
    const chunks = Math.ceil(B / chunk);
    // value_step.wgsl's scratch (value_grad and value_adam): activations and deltas by chunk,
    // then each chunk's gradient at partialBase, where value_adam sums them. The stationary
    // kernel keeps all it needs in its own `acts` instead (vec4 offsets): its activations by
    // chunk, then two gradient slots at partialBase (a minibatch's chunks write one while the
    // next minibatch's Adam step reads the other), then each chunk's replica of Adam's state
    // [θ | m | v] at replicaBase, each block ⌈P / 4⌉ vec4s.
    const steps = cfg.vfEpochs * vfMinibatches;
    // One workgroup takes every minibatch in one dispatch; several take one per dispatch.
    const stepsPerDispatch = stationary && chunks === 1 ? Math.max(1, steps) : 1;
    const features = sizes.reduce((a, b) => a + b, 0);
    const Q = Math.ceil(P / 4);
    const actsPerChunk = valueGradStationaryFloats(sizes, chunk) / 4;
    const deltaBase = stationary ? 0 : chunks * features * CHUNK;
    const partialBase = stationary ? chunks * actsPerChunk : 2 * deltaBase;
    const replicaBase = stationary ? partialBase + 2 * chunks * Q : 0;
    const params = own(
      gpu.uniform(
        'value/step-params',
        ValueStepParams.pack({ batch: B, obsDim, layerCount: mlp.layout.layers.length, chunks, chunkSize: chunk, paramCount: P, features, deltaBase, partialBase, replicaBase, lr: cfg.vfLr, ...ADAM, steps: stepsPerDispatch }),
      ),
    );
    const table = own(gpu.uniform('value/layer-table', layerTable(mlp)));
    // [minibatch index c, Adam's step count t], then the stationary kernel's c and t per chunk.
    this.counter = own(gpu.upload('value/counter', new Uint32Array(2 + (stationary ? 2 * chunks : 0))));
    this.chunks = stationary ? chunks : 0;
    const resources = { p: params, table, theta: value, obs: data.obs, returns: data.returns, perm: this.perm, counter: this.counter, moments: this.moments };
    if (stationary) {
      // Each minibatch step applies Adam's step on the previous minibatch (to its workgroup's
      // replica of the state) before its own gradient; the entry point `last` applies the last
      // one. One workgroup takes all steps in one dispatch, several one step per dispatch.
      const spec = { label: 'value-grad-stationary', bindings: VALUE_GRAD_STATIONARY_BINDINGS, code: valueGradStationaryWgsl({ sizes }) };
      const grad = Kernel.get(gpu, { ...spec, entryPoint: 'main' });
      const last = Kernel.get(gpu, { ...spec, entryPoint: 'last' });
      const acts = buf('step-acts', 4 * (replicaBase + 3 * chunks * Q));
      const gradOp = dispatchOp('value-grad', grad, grad.bind({ ...resources, acts }), chunks);
      for (let i = 0; i < steps / stepsPerDispatch; i++) this.ops.push(gradOp);
      if (steps > 0) this.ops.push(dispatchOp('value-adam-last', last, last.bind({ ...resources, acts }), Math.ceil(Q / LAST_WG)));
    } else {
      // 4 floats of padding: the kernels read runs of 4 or 8 consecutive words, past a layer's end.
      const scratch = buf('step-scratch', partialBase + chunks * P + 4);
      const shape = `const WG = ${GRAD_WG}u;\nconst S = ${SAMPLES}u;`;
      const code = sg
        ? wgsl('enable subgroups;', ValueStepParams.wgsl(), shape, subgroupLoadsWgsl, valueStepWgsl, valueAdamWgsl, valueGradSgWgsl)
        : wgsl(ValueStepParams.wgsl(), shape, valueStepWgsl, valueAdamWgsl, valueGradWgsl);
      const kernel = (entryPoint: 'value_grad' | 'value_grad_sg' | 'value_adam') =>
        Kernel.get(gpu, { label: `value-${entryPoint.slice(6)}`, entryPoint, bindings: BINDINGS, code, constants: entryPoint === 'value_adam' ? { ADAM_WG } : {} });
      // The same two ops serve every minibatch: c and t advance on the GPU.
      const grad = kernel(sg ? 'value_grad_sg' : 'value_grad');
      const gradOp = dispatchOp('value-grad', grad, grad.bind({ ...resources, scratch }), chunks);
      const adam = kernel('value_adam');
      const adamOp = dispatchOp('value-adam', adam, adam.bind({ ...resources, scratch }), Math.ceil(P / ADAM_WG));
      for (let i = 0; i < steps; i++) this.ops.push(gradOp, adamOp);
    }

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
    if (this.chunks > 0) this.gpu.device.queue.writeBuffer(this.counter, 8, new Uint32Array(this.chunks));
  }

  destroy(): void {
    for (const d of this.destroyers) d();
    for (const b of this.owned) b.destroy();
  }
}
