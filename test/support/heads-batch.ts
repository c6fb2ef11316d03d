/**
 * Batch kernels over the policy heads, for the tests: each applies one function of the heads'
 * WGSL library (src/dist/heads.wgsl) over N samples (one invocation per sample, sample-major
 * buffers), so test/heads.test.ts can check the library the training kernels include against the
 * float64 references. Each batch kernel is an {@link Op} built once (uniform and bind group made
 * up front), plus an async one-shot helper that uploads, runs and reads back.
 *
 * Categorical: logits [N×A]; actions [N] as f32 holding class indices.
 * Diagonal Gaussian: means [N×A]; a state-independent log-std vector of A entries read from a
 * buffer at an element offset (in training it sits at the end of the flat policy parameters).
 */
import { Kernel, StructLayout, grid1d, wgsl, type BindingKind, type Gpu, type Op, runOps } from '../../src/gpu/index.js';
import { headsWgsl } from '../../src/dist/heads.js';
import { rngWgsl } from '../../src/math/rng.js';
import headsBatchWgsl from './heads_batch.wgsl?raw';

/** Largest number of classes / action dimensions the heads handle (`HEAD_MAX` in WGSL). */
export const HEAD_MAX = 16;

export const HeadParams = new StructLayout('HeadParams', [
  /** Number of samples N. */
  ['n', 'u32'],
  /** Classes (categorical) or action dimensions (Gaussian), A. */
  ['a', 'u32'],
  /** Element offset of the log-std vector in its buffer (the old one for KL). */
  ['logStdOffset', 'u32'],
  /** Element offset of the new log-std vector (KL only). */
  ['logStdOffsetNew', 'u32'],
  ['seed', 'u32'],
  ['stream', 'u32'],
  ['counterBase', 'u32'],
] as const);

type HeadParamName = (typeof HeadParams.fields)[number][0];
type HeadParamValues = Record<HeadParamName, number>;

/** Values of a batch op that may change after it is built (each change rewrites its uniform). */
export interface HeadOpUpdate {
  n?: number;
  seed?: number;
  stream?: number;
  counterBase?: number;
}

export interface HeadOp extends Op {
  readonly entryPoint: string;
  /** Current sample count. */
  readonly n: number;
  readonly a: number;
  /**
   * Rewrites the params uniform (queue.writeBuffer): the change applies to command buffers
   * submitted after this call, so two runs inside one submit see the same values.
   */
  update(values: HeadOpUpdate): void;
  /** Destroys the params uniform this op owns (not the caller's buffers). */
  destroy(): void;
}

/** Sample count, classes / action dims, and the workgroup size (default 64). */
export interface HeadShape {
  n: number;
  a: number;
  workgroupSize?: number;
}

/** Counter-based RNG key: see the sample ops for the exact counter mapping. */
export interface RngKey {
  seed: number;
  stream: number;
  /** First counter value used. Default 0. */
  counterBase?: number;
}

// ---------------------------------------------------------------------------------------------

type Slot = readonly [wgslName: string, kind: BindingKind];

/** Binding tables per entry point; slot i is @binding(i) in heads_batch.wgsl. */
const ENTRIES = {
  cat_log_prob_batch: ['cat_logits', 'cat_actions'],
  cat_log_softmax_batch: ['cat_logits'],
  cat_entropy_batch: ['cat_logits'],
  cat_kl_batch: ['cat_logits', 'cat_logits_new'],
  cat_sample_batch: ['cat_logits'],
  cat_sample_uniforms_batch: ['cat_logits', 'cat_u'],
  cat_grad_log_prob_batch: ['cat_logits', 'cat_actions'],
  cat_fisher_mul_batch: ['cat_logits', 'cat_v'],
  gauss_log_prob_batch: ['gauss_log_std', 'gauss_mean', 'gauss_actions'],
  gauss_entropy_batch: ['gauss_log_std'],
  gauss_kl_batch: ['gauss_log_std', 'gauss_mean', 'gauss_log_std_new', 'gauss_mean_new'],
  gauss_sample_batch: ['gauss_log_std', 'gauss_mean'],
  gauss_grad_log_prob_mean_batch: ['gauss_log_std', 'gauss_mean', 'gauss_actions'],
  gauss_grad_log_prob_logstd_batch: ['gauss_log_std', 'gauss_mean', 'gauss_actions'],
  gauss_fisher_mul_mean_batch: ['gauss_log_std', 'gauss_v'],
} as const;

type Entry = keyof typeof ENTRIES;
type InputName<E extends Entry> = (typeof ENTRIES)[E][number];

const CODE = wgsl(HeadParams.wgsl(), rngWgsl, headsWgsl, headsBatchWgsl);

function kernelFor<E extends Entry>(gpu: Gpu, entry: E, wg: number): Kernel<string> {
  const bindings: Slot[] = [
    ['params', 'uniform'],
    ['out', 'storage'],
    ...ENTRIES[entry].map((name): Slot => [name, 'read-only-storage']),
  ];
  return Kernel.get(gpu, { label: `heads/${entry}`, code: CODE, entryPoint: entry, bindings, constants: { WG: wg } });
}

function checkCount(op: string, field: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`heads ${op}: ${field} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  }
}

/** How many f32 elements an input needs: per sample (×n), or a fixed count from an offset. */
type Need = { perSample: number } | { fixed: number };

interface InputSpec {
  buffer: GPUBuffer;
  need: Need;
  /** Caller-facing name, for error messages. */
  arg: string;
}

function elems(need: Need, n: number): number {
  return 'perSample' in need ? need.perSample * n : need.fixed;
}

function checkSize(op: string, arg: string, buffer: GPUBuffer, count: number): void {
  if (buffer.size < count * 4) {
    throw new RangeError(
      `heads ${op}: buffer ${arg} (${buffer.label || 'unlabelled'}) has ${buffer.size} bytes, needs ${count * 4} (${count} f32)`,
    );
  }
}

function buildOp<E extends Entry>(
  gpu: Gpu,
  entry: E,
  shape: HeadShape,
  out: { buffer: GPUBuffer; perSample: number },
  inputs: Record<InputName<E>, InputSpec>,
  init: Partial<HeadParamValues> = {},
): HeadOp {
  const op = entry.replace(/_batch$/, '');
  checkCount(op, 'a (classes or action dims)', shape.a, 1, HEAD_MAX);
  const maxN = Math.floor(0xffffffff / HEAD_MAX);
  checkCount(op, 'n (samples)', shape.n, 1, maxN);
  const wg = shape.workgroupSize ?? 64;
  checkCount(op, 'workgroupSize', wg, 1, gpu.limits.maxComputeInvocationsPerWorkgroup);
  const values: HeadParamValues = {
    n: shape.n,
    a: shape.a,
    logStdOffset: 0,
    logStdOffsetNew: 0,
    seed: 0,
    stream: 0,
    counterBase: 0,
    ...init,
  };
  for (const k of ['seed', 'stream', 'counterBase', 'logStdOffset', 'logStdOffsetNew'] as const) {
    checkCount(op, k, values[k], 0, 0xffffffff);
  }
  const names = ENTRIES[entry] as ReadonlyArray<InputName<E>>;
  const checkSizes = (n: number): void => {
    checkSize(op, 'out', out.buffer, out.perSample * n);
    for (const name of names) {
      const spec = inputs[name];
      checkSize(op, spec.arg, spec.buffer, elems(spec.need, n));
    }
  };
  checkSizes(values.n);

  const kernel = kernelFor(gpu, entry, wg);
  const params = gpu.uniform(`heads/${op}/params`, HeadParams.pack(values));
  const resources: Record<string, GPUBuffer> = { params, out: out.buffer };
  for (const name of names) resources[name] = inputs[name].buffer;
  const group = kernel.bind(resources, `heads/${op}`);
  const maxPerDim = gpu.limits.maxComputeWorkgroupsPerDimension;
  let [x, y] = grid1d(values.n, wg, maxPerDim);

  return {
    label: `heads/${op}`,
    entryPoint: entry,
    get n() {
      return values.n;
    },
    a: shape.a,
    encode(pass) {
      kernel.dispatch(pass, group, x, y);
    },
    update(u) {
      const next = { ...values };
      if (u.n !== undefined) {
        checkCount(op, 'n (samples)', u.n, 1, maxN);
        checkSizes(u.n);
        next.n = u.n;
      }
      for (const k of ['seed', 'stream', 'counterBase'] as const) {
        const v = u[k];
        if (v !== undefined) {
          checkCount(op, k, v, 0, 0xffffffff);
          next[k] = v;
        }
      }
      Object.assign(values, next);
      [x, y] = grid1d(values.n, wg, maxPerDim);
      gpu.device.queue.writeBuffer(params, 0, HeadParams.pack(values));
    },
    destroy() {
      params.destroy();
    },
  };
}

const perSample = (k: number): Need => ({ perSample: k });

function logStdInput(a: number, buffer: GPUBuffer, offset: number | undefined, arg = 'logStd'): InputSpec {
  return { buffer, need: { fixed: (offset ?? 0) + a }, arg };
}

// --- categorical ops ---------------------------------------------------------------------------

/** out[i] = log p(actions[i] | logits[i]). logits [N×A], actions [N] (f32 class indices), out [N]. */
export function catLogProbOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; actions: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_log_prob_batch', o, { buffer: o.out, perSample: 1 }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
    cat_actions: { buffer: o.actions, need: perSample(1), arg: 'actions' },
  });
}

/** out[i, j] = log softmax(logits[i])_j, every class's log-probability. out [N×A]. */
export function catLogSoftmaxOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_log_softmax_batch', o, { buffer: o.out, perSample: o.a }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
  });
}

/** out[i] = H(softmax(logits[i])). out [N]. */
export function catEntropyOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_entropy_batch', o, { buffer: o.out, perSample: 1 }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
  });
}

/** out[i] = KL(softmax(logitsOld[i]) ‖ softmax(logitsNew[i])). out [N]. */
export function catKlOp(gpu: Gpu, o: HeadShape & { logitsOld: GPUBuffer; logitsNew: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_kl_batch', o, { buffer: o.out, perSample: 1 }, {
    cat_logits: { buffer: o.logitsOld, need: perSample(o.a), arg: 'logitsOld' },
    cat_logits_new: { buffer: o.logitsNew, need: perSample(o.a), arg: 'logitsNew' },
  });
}

/**
 * out[i] = class sampled from softmax(logits[i]) by inverse CDF, as f32, with the uniform
 * u_i = rng_uniform2(seed, stream, (counterBase + i, 0)).x (i.e. `uniform2(...)[0]` in rng.ts).
 */
export function catSampleOp(gpu: Gpu, o: HeadShape & RngKey & { logits: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(
    gpu,
    'cat_sample_batch',
    o,
    { buffer: o.out, perSample: 1 },
    { cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' } },
    { seed: o.seed, stream: o.stream, counterBase: o.counterBase ?? 0 },
  );
}

/** out[i] = class sampled from softmax(logits[i]) by inverse CDF with the given uniform u[i] in [0, 1), as f32. */
export function catSampleWithUniformsOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; u: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_sample_uniforms_batch', o, { buffer: o.out, perSample: 1 }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
    cat_u: { buffer: o.u, need: perSample(1), arg: 'u' },
  });
}

/** out[i] = ∂ log p(actions[i]) / ∂ logits[i] = onehot − softmax. out [N×A]. */
export function catGradLogProbOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; actions: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_grad_log_prob_batch', o, { buffer: o.out, perSample: o.a }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
    cat_actions: { buffer: o.actions, need: perSample(1), arg: 'actions' },
  });
}

/** out[i] = (diag(p_i) − p_i p_iᵀ) v[i] with p_i = softmax(logits[i]). v, out [N×A]. */
export function catFisherMulOp(gpu: Gpu, o: HeadShape & { logits: GPUBuffer; v: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(gpu, 'cat_fisher_mul_batch', o, { buffer: o.out, perSample: o.a }, {
    cat_logits: { buffer: o.logits, need: perSample(o.a), arg: 'logits' },
    cat_v: { buffer: o.v, need: perSample(o.a), arg: 'v' },
  });
}

// --- Gaussian ops --------------------------------------------------------------------------------

/** The log-std vector: elements [logStdOffset, logStdOffset + A) of `logStd`. */
export interface LogStdRef {
  logStd: GPUBuffer;
  /** Element (not byte) offset. Default 0. */
  logStdOffset?: number;
}

/** out[i] = Σ_j log N(actions[i,j]; mean[i,j], exp(s_j)²). mean, actions [N×A], out [N]. */
export function gaussLogProbOp(gpu: Gpu, o: HeadShape & LogStdRef & { mean: GPUBuffer; actions: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(
    gpu,
    'gauss_log_prob_batch',
    o,
    { buffer: o.out, perSample: 1 },
    {
      gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset),
      gauss_mean: { buffer: o.mean, need: perSample(o.a), arg: 'mean' },
      gauss_actions: { buffer: o.actions, need: perSample(o.a), arg: 'actions' },
    },
    { logStdOffset: o.logStdOffset ?? 0 },
  );
}

/** out[i] = Σ_j s_j + ½(1 + log 2π), the same for every sample. out [N]. */
export function gaussEntropyOp(gpu: Gpu, o: HeadShape & LogStdRef & { out: GPUBuffer }): HeadOp {
  return buildOp(
    gpu,
    'gauss_entropy_batch',
    o,
    { buffer: o.out, perSample: 1 },
    { gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset) },
    { logStdOffset: o.logStdOffset ?? 0 },
  );
}

/** out[i] = KL(N(meanOld[i], σ_old²) ‖ N(meanNew[i], σ_new²)), summed over dims. out [N]. */
export function gaussKlOp(
  gpu: Gpu,
  o: HeadShape & {
    meanOld: GPUBuffer;
    logStdOld: GPUBuffer;
    logStdOldOffset?: number;
    meanNew: GPUBuffer;
    logStdNew: GPUBuffer;
    logStdNewOffset?: number;
    out: GPUBuffer;
  },
): HeadOp {
  return buildOp(
    gpu,
    'gauss_kl_batch',
    o,
    { buffer: o.out, perSample: 1 },
    {
      gauss_log_std: logStdInput(o.a, o.logStdOld, o.logStdOldOffset, 'logStdOld'),
      gauss_mean: { buffer: o.meanOld, need: perSample(o.a), arg: 'meanOld' },
      gauss_log_std_new: logStdInput(o.a, o.logStdNew, o.logStdNewOffset, 'logStdNew'),
      gauss_mean_new: { buffer: o.meanNew, need: perSample(o.a), arg: 'meanNew' },
    },
    { logStdOffset: o.logStdOldOffset ?? 0, logStdOffsetNew: o.logStdNewOffset ?? 0 },
  );
}

/**
 * out[i,j] = mean[i,j] + exp(s_j)·z_ij, where z_ij is component (j mod 2) (.x for even j, .y
 * for odd) of rng_normal2(seed, stream, (counterBase + i·ceil(A/2) + floor(j/2), 0)), i.e.
 * `normal2(seed, stream, counterBase + i*ceil(A/2) + (j >> 1))[j & 1]` in rng.ts. Counters wrap
 * modulo 2^32. Sample i owns ceil(A/2) consecutive counters. out [N×A].
 */
export function gaussSampleOp(gpu: Gpu, o: HeadShape & RngKey & LogStdRef & { mean: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(
    gpu,
    'gauss_sample_batch',
    o,
    { buffer: o.out, perSample: o.a },
    {
      gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset),
      gauss_mean: { buffer: o.mean, need: perSample(o.a), arg: 'mean' },
    },
    { seed: o.seed, stream: o.stream, counterBase: o.counterBase ?? 0, logStdOffset: o.logStdOffset ?? 0 },
  );
}

/** out[i,j] = (actions[i,j] − mean[i,j]) / σ_j². out [N×A]. */
export function gaussGradLogProbMeanOp(
  gpu: Gpu,
  o: HeadShape & LogStdRef & { mean: GPUBuffer; actions: GPUBuffer; out: GPUBuffer },
): HeadOp {
  return buildOp(
    gpu,
    'gauss_grad_log_prob_mean_batch',
    o,
    { buffer: o.out, perSample: o.a },
    {
      gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset),
      gauss_mean: { buffer: o.mean, need: perSample(o.a), arg: 'mean' },
      gauss_actions: { buffer: o.actions, need: perSample(o.a), arg: 'actions' },
    },
    { logStdOffset: o.logStdOffset ?? 0 },
  );
}

/** out[i,j] = ((actions[i,j] − mean[i,j]) / σ_j)² − 1, per sample (sum over i for ∂/∂s). out [N×A]. */
export function gaussGradLogProbLogStdOp(
  gpu: Gpu,
  o: HeadShape & LogStdRef & { mean: GPUBuffer; actions: GPUBuffer; out: GPUBuffer },
): HeadOp {
  return buildOp(
    gpu,
    'gauss_grad_log_prob_logstd_batch',
    o,
    { buffer: o.out, perSample: o.a },
    {
      gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset),
      gauss_mean: { buffer: o.mean, need: perSample(o.a), arg: 'mean' },
      gauss_actions: { buffer: o.actions, need: perSample(o.a), arg: 'actions' },
    },
    { logStdOffset: o.logStdOffset ?? 0 },
  );
}

/**
 * out[i,j] = v[i,j] / σ_j² (Fisher of the mean block). The log-std block is 2·v per sample (and
 * 2·v for the batch mean): no kernel is needed for it. v, out [N×A].
 */
export function gaussFisherMulMeanOp(gpu: Gpu, o: HeadShape & LogStdRef & { v: GPUBuffer; out: GPUBuffer }): HeadOp {
  return buildOp(
    gpu,
    'gauss_fisher_mul_mean_batch',
    o,
    { buffer: o.out, perSample: o.a },
    {
      gauss_log_std: logStdInput(o.a, o.logStd, o.logStdOffset),
      gauss_v: { buffer: o.v, need: perSample(o.a), arg: 'v' },
    },
    { logStdOffset: o.logStdOffset ?? 0 },
  );
}

// --- one-shot helpers (upload, run, read back) ---------------------------------------------------

function samplesOf(op: string, a: number, arr: Float32Array, what: string): number {
  checkCount(op, 'a (classes or action dims)', a, 1, HEAD_MAX);
  if (arr.length === 0 || arr.length % a !== 0) {
    throw new RangeError(`heads ${op}: ${what} has ${arr.length} elements, not a positive multiple of a = ${a}`);
  }
  return arr.length / a;
}

function sameLength(op: string, what: string, arr: Float32Array, expected: number): void {
  if (arr.length !== expected) throw new RangeError(`heads ${op}: ${what} has ${arr.length} elements, expected ${expected}`);
}

/**
 * Uploads the inputs, runs the op once on an output poisoned with NaN, reads the output back and
 * frees everything it made.
 */
async function oneShot<K extends string>(
  gpu: Gpu,
  op: string,
  inputs: Record<K, Float32Array>,
  outLength: number,
  build: (bufs: Record<K, GPUBuffer>, out: GPUBuffer) => HeadOp,
): Promise<Float32Array> {
  const made: GPUBuffer[] = [];
  let headOp: HeadOp | undefined;
  try {
    const bufs = {} as Record<K, GPUBuffer>;
    for (const k of Object.keys(inputs) as K[]) {
      const b = gpu.upload(`heads/${op}/${k}`, inputs[k]);
      made.push(b);
      bufs[k] = b;
    }
    const out = gpu.upload(`heads/${op}/out`, new Float32Array(outLength).fill(Number.NaN));
    made.push(out);
    headOp = build(bufs, out);
    runOps(gpu, `heads/${op}`, [headOp]);
    return await gpu.readF32(out, 0, outLength);
  } finally {
    headOp?.destroy();
    for (const b of made) b.destroy();
  }
}

export function catLogProb(gpu: Gpu, a: number, logits: Float32Array, actions: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_log_prob', a, logits, 'logits');
  sameLength('cat_log_prob', 'actions', actions, n);
  return oneShot(gpu, 'cat_log_prob', { logits, actions }, n, (b, out) => catLogProbOp(gpu, { n, a, ...b, out }));
}

export function catLogSoftmax(gpu: Gpu, a: number, logits: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_log_softmax', a, logits, 'logits');
  return oneShot(gpu, 'cat_log_softmax', { logits }, n * a, (b, out) => catLogSoftmaxOp(gpu, { n, a, ...b, out }));
}

export function catEntropy(gpu: Gpu, a: number, logits: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_entropy', a, logits, 'logits');
  return oneShot(gpu, 'cat_entropy', { logits }, n, (b, out) => catEntropyOp(gpu, { n, a, ...b, out }));
}

export function catKl(gpu: Gpu, a: number, logitsOld: Float32Array, logitsNew: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_kl', a, logitsOld, 'logitsOld');
  sameLength('cat_kl', 'logitsNew', logitsNew, n * a);
  return oneShot(gpu, 'cat_kl', { logitsOld, logitsNew }, n, (b, out) => catKlOp(gpu, { n, a, ...b, out }));
}

export function catSample(gpu: Gpu, a: number, logits: Float32Array, key: RngKey): Promise<Float32Array> {
  const n = samplesOf('cat_sample', a, logits, 'logits');
  return oneShot(gpu, 'cat_sample', { logits }, n, (b, out) => catSampleOp(gpu, { n, a, ...key, ...b, out }));
}

export function catSampleWithUniforms(gpu: Gpu, a: number, logits: Float32Array, u: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_sample_uniforms', a, logits, 'logits');
  sameLength('cat_sample_uniforms', 'u', u, n);
  return oneShot(gpu, 'cat_sample_uniforms', { logits, u }, n, (b, out) => catSampleWithUniformsOp(gpu, { n, a, ...b, out }));
}

export function catGradLogProb(gpu: Gpu, a: number, logits: Float32Array, actions: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_grad_log_prob', a, logits, 'logits');
  sameLength('cat_grad_log_prob', 'actions', actions, n);
  return oneShot(gpu, 'cat_grad_log_prob', { logits, actions }, n * a, (b, out) =>
    catGradLogProbOp(gpu, { n, a, ...b, out }),
  );
}

export function catFisherMul(gpu: Gpu, a: number, logits: Float32Array, v: Float32Array): Promise<Float32Array> {
  const n = samplesOf('cat_fisher_mul', a, logits, 'logits');
  sameLength('cat_fisher_mul', 'v', v, n * a);
  return oneShot(gpu, 'cat_fisher_mul', { logits, v }, n * a, (b, out) => catFisherMulOp(gpu, { n, a, ...b, out }));
}

/** logStd: exactly A entries here (use the Op for an offset into a larger buffer). */
export function gaussLogProb(gpu: Gpu, mean: Float32Array, logStd: Float32Array, actions: Float32Array): Promise<Float32Array> {
  const a = logStd.length;
  const n = samplesOf('gauss_log_prob', a, mean, 'mean');
  sameLength('gauss_log_prob', 'actions', actions, n * a);
  return oneShot(gpu, 'gauss_log_prob', { mean, logStd, actions }, n, (b, out) => gaussLogProbOp(gpu, { n, a, ...b, out }));
}

export function gaussEntropy(gpu: Gpu, n: number, logStd: Float32Array): Promise<Float32Array> {
  const a = logStd.length;
  checkCount('gauss_entropy', 'a (classes or action dims)', a, 1, HEAD_MAX);
  checkCount('gauss_entropy', 'n (samples)', n, 1, Math.floor(0xffffffff / HEAD_MAX));
  return oneShot(gpu, 'gauss_entropy', { logStd }, n, (b, out) => gaussEntropyOp(gpu, { n, a, ...b, out }));
}

export function gaussKl(
  gpu: Gpu,
  meanOld: Float32Array,
  logStdOld: Float32Array,
  meanNew: Float32Array,
  logStdNew: Float32Array,
): Promise<Float32Array> {
  const a = logStdOld.length;
  const n = samplesOf('gauss_kl', a, meanOld, 'meanOld');
  sameLength('gauss_kl', 'meanNew', meanNew, n * a);
  sameLength('gauss_kl', 'logStdNew', logStdNew, a);
  return oneShot(gpu, 'gauss_kl', { meanOld, logStdOld, meanNew, logStdNew }, n, (b, out) =>
    gaussKlOp(gpu, { n, a, ...b, out }),
  );
}

export function gaussSample(gpu: Gpu, mean: Float32Array, logStd: Float32Array, key: RngKey): Promise<Float32Array> {
  const a = logStd.length;
  const n = samplesOf('gauss_sample', a, mean, 'mean');
  return oneShot(gpu, 'gauss_sample', { mean, logStd }, n * a, (b, out) => gaussSampleOp(gpu, { n, a, ...key, ...b, out }));
}

export function gaussGradLogProbMean(
  gpu: Gpu,
  mean: Float32Array,
  logStd: Float32Array,
  actions: Float32Array,
): Promise<Float32Array> {
  const a = logStd.length;
  const n = samplesOf('gauss_grad_log_prob_mean', a, mean, 'mean');
  sameLength('gauss_grad_log_prob_mean', 'actions', actions, n * a);
  return oneShot(gpu, 'gauss_grad_log_prob_mean', { mean, logStd, actions }, n * a, (b, out) =>
    gaussGradLogProbMeanOp(gpu, { n, a, ...b, out }),
  );
}

export function gaussGradLogProbLogStd(
  gpu: Gpu,
  mean: Float32Array,
  logStd: Float32Array,
  actions: Float32Array,
): Promise<Float32Array> {
  const a = logStd.length;
  const n = samplesOf('gauss_grad_log_prob_logstd', a, mean, 'mean');
  sameLength('gauss_grad_log_prob_logstd', 'actions', actions, n * a);
  return oneShot(gpu, 'gauss_grad_log_prob_logstd', { mean, logStd, actions }, n * a, (b, out) =>
    gaussGradLogProbLogStdOp(gpu, { n, a, ...b, out }),
  );
}

export function gaussFisherMulMean(gpu: Gpu, logStd: Float32Array, v: Float32Array): Promise<Float32Array> {
  const a = logStd.length;
  const n = samplesOf('gauss_fisher_mul_mean', a, v, 'v');
  return oneShot(gpu, 'gauss_fisher_mul_mean', { logStd, v }, n * a, (b, out) => gaussFisherMulMeanOp(gpu, { n, a, ...b, out }));
}
