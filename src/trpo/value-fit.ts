/**
 * Value-function fit: `vfEpochs` epochs of minibatch Adam on mean (V(s) − R)², every minibatch
 * encoded up front (the minibatch index and Adam's step count are GPU counters), then the loss of
 * the fitted V on the whole batch for the log. A minibatch step is two dispatches: the gradient
 * by chunks of samples, then the sum of the chunks and Adam (value_step.wgsl's value_adam). The
 * gradient is one weight-stationary kernel for the whole network (value-grad-stationary.ts) where
 * the MLP kernels are stationary (MlpKernels.stationary) and the network fits it; else its dense
 * layers share weight loads across subgroups (value_grad_sg.wgsl) where the MLP kernels do and
 * subgroups fit in its workgroup; else they run per invocation (value_grad.wgsl).
 */
import { Kernel, dispatchOp, wgsl, type Gpu, type Op } from '../gpu/index.js';
import type { MlpKernels } from '../kernels/mlp.js';
import { axpyOp, scaleOp } from '../kernels/vec.js';
import { dotOp } from '../kernels/reduce.js';
import subgroupLoadsWgsl from '../shaders/subgroup_loads.wgsl?raw';
import valueGradSgWgsl from '../shaders/value_grad_sg.wgsl?raw';
import valueGradWgsl from '../shaders/value_grad.wgsl?raw';
import valueStepWgsl from '../shaders/value_step.wgsl?raw';
import { derived, type TRPOConfig } from './config.js';
import { stat } from './stats.js';
import { VALUE_GRAD_STATIONARY_BINDINGS, valueGradStationaryFloats, valueGradStationaryPhases, valueGradStationaryWgsl } from './value-grad-stationary.js';
import { VALUE_MAX_LAYERS, ValueStepParams } from './value-step-params.js';

/** Adam's constants for the value function (sb3's TRPO uses Adam with eps 1e-5). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-5 } as const;

/**
 * value_grad's shape, written into value_step.wgsl as its WG and S constants (S sizes register
 * arrays, so it cannot be an override): WG invocations of S samples make a chunk of CHUNK samples.
 */
const GRAD_WG = 16;
const SAMPLES = 4;
const CHUNK = GRAD_WG * SAMPLES;
/** Samples per workgroup of the stationary kernel (a multiple of 8). */
const STATIONARY_CHUNK = 64;
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

export class ValueFitStage {
  readonly ops: Op[] = [];
  /** Adam moments [m: P | v: P]. */
  readonly moments: GPUBuffer;
  /** [minibatch index c, Adam step count t]. */
  readonly counter: GPUBuffer;
  /** Which kernel computes the minibatch gradient (see the constructor). */
  readonly gradKernel: 'stationary' | 'subgroups' | 'per-invocation';
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
    const { paramCount: P, sizes } = mlp.layout;
    if (sizes[sizes.length - 1] !== 1) throw new Error(`value fit: the value network has one output, got ${sizes[sizes.length - 1]}`);
    const own = (b: GPUBuffer) => (this.owned.push(b), b);
    const buf = (label: string, floats: number) => own(gpu.storage(`value/${label}`, floats * 4));
    const push = (op: Op & { destroy?: () => void }) => {
      this.ops.push(op);
      if (op.destroy) this.destroyers.push(op.destroy);
    };
    this.moments = buf('adam-moments', 2 * P);
    this.counter = own(gpu.upload('value/counter', new Uint32Array(2)));
    this.perm = own(gpu.storage('value/perm', Math.max(1, cfg.vfEpochs) * N * 4));

    // The gradient's kernel: weight-stationary (value-grad-stationary.ts) where the MLP's kernels
    // are and the network fits it, else value_grad_sg with whole subgroups in its workgroup of
    // GRAD_WG invocations (lavapipe's are 8 wide), else per invocation (value_grad).
    const stationary = mlp.stationary && valueGradStationaryPhases(sizes) !== null;
    const sg = mlp.subgroups && gpu.subgroups !== null && gpu.subgroups.max <= GRAD_WG;
    this.gradKernel = stationary ? 'stationary' : sg ? 'subgroups' : 'per-invocation';
    const chunk = stationary ? STATIONARY_CHUNK : CHUNK;
    const chunks = Math.ceil(B / chunk);
    // value_step.wgsl's scratch: activations and deltas by chunk (the stationary kernel keeps its
    // own in `acts`), then each chunk's gradient at partialBase, where value_adam sums them.
    const features = sizes.reduce((a, b) => a + b, 0);
    const deltaBase = stationary ? 0 : chunks * features * CHUNK;
    const partialBase = 2 * deltaBase;
    // 4 floats of padding: the kernels read runs of 4 or 8 consecutive words, past a layer's end.
    const scratch = buf('step-scratch', partialBase + chunks * P + 4);
    const params = own(
      gpu.uniform(
        'value/step-params',
        ValueStepParams.pack({ batch: B, obsDim, layerCount: mlp.layout.layers.length, chunks, paramCount: P, features, deltaBase, partialBase, lr: cfg.vfLr, ...ADAM }),
      ),
    );
    const table = own(gpu.uniform('value/layer-table', layerTable(mlp)));
    const shape = `const WG = ${GRAD_WG}u;\nconst S = ${SAMPLES}u;`;
    const code = sg && !stationary
      ? wgsl('enable subgroups;', ValueStepParams.wgsl(), shape, subgroupLoadsWgsl, valueStepWgsl, valueGradSgWgsl)
      : wgsl(ValueStepParams.wgsl(), shape, valueStepWgsl, valueGradWgsl);
    const kernel = (entryPoint: 'value_grad' | 'value_grad_sg' | 'value_adam') =>
      Kernel.get(gpu, { label: `value-${entryPoint.slice(6)}`, entryPoint, bindings: BINDINGS, code, constants: entryPoint === 'value_adam' ? { ADAM_WG } : {} });
    const resources = { p: params, table, theta: value, obs: data.obs, returns: data.returns, perm: this.perm, counter: this.counter, scratch, moments: this.moments };
    let gradOp: Op;
    if (stationary) {
      const grad = Kernel.get(gpu, {
        label: 'value-grad-stationary',
        entryPoint: 'main',
        bindings: VALUE_GRAD_STATIONARY_BINDINGS,
        code: valueGradStationaryWgsl({ sizes, chunk }),
      });
      const acts = buf('step-acts', chunks * valueGradStationaryFloats(sizes, chunk));
      gradOp = dispatchOp('value-grad', grad, grad.bind({ ...resources, acts }), chunks);
    } else {
      const grad = kernel(sg ? 'value_grad_sg' : 'value_grad');
      gradOp = dispatchOp('value-grad', grad, grad.bind(resources), chunks);
    }
    const adam = kernel('value_adam');
    const adamOp = dispatchOp('value-adam', adam, adam.bind(resources), Math.ceil(P / ADAM_WG));
    // The same two ops serve every minibatch: c and t advance on the GPU.
    const steps = cfg.vfEpochs * vfMinibatches;
    for (let i = 0; i < steps; i++) this.ops.push(gradOp, adamOp);

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
