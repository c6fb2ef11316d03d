/**
 * Batched MLP kernels over a flat f32 parameter buffer: forward (several parameter vectors in one
 * dispatch), reverse mode (parameter gradient summed over the batch, optional input gradient) and
 * forward mode (Jacobian-vector product). Hidden layers use tanh, the output layer is identity.
 *
 * Parameter layout, layer after layer: W_l row-major [outDim][inDim] at wOffset, then b_l [outDim]
 * at bOffset = wOffset + outDim·inDim.
 *
 * Every op is a few dispatches in one compute pass: forward one per layer; backward one per layer
 * for the deltas (plus one for dL/dinput), one per layer for the parameter gradient by chunks of
 * the batch, and one summing the chunks; JVP one per layer. Uniforms and scratch buffers are made
 * when the op is built, so encoding it allocates nothing.
 *
 * `acts` is private to this module; for the record it holds, per set, the outputs of the hidden
 * layers one after the other, each sample-major: h_l[n][j] at set·actsLength + batch·(sum of the
 * widths of the hidden layers before l) + n·width_l + j.
 *
 * The backend (nn/backend.ts) decides the kernels. Generic, with subgroups (subgroups of at least
 * 8 invocations): the dense-layer products of forward, JVP and backward deltas run the *_sg
 * kernels, which share weight loads across a subgroup; without, the per-invocation kernels. Both compute the same sums in the same
 * layout. Speed on a CPU Vulkan driver (lavapipe) is set by loads, not arithmetic: see
 * mlp_common.wgsl, mlp_common_sg.wgsl and subgroup_loads.wgsl.
 *
 * Subgroup8 (subgroups exactly 8 wide, a CPU driver's SIMD vector): the layers whose shape fits
 * (backends/subgroup8/stationary.ts: both widths multiples of 4 and the rows of 32 or 64, 64×64 included) run
 * weight-stationary kernels instead, generated per layer shape: each lane keeps its rows of W in
 * registers for the whole dispatch, about twice as fast again on lavapipe. A thin output layer
 * (at most 8 outputs, inputs a multiple of 32) runs the kernels of backends/subgroup8/thin.ts, in which the lanes
 * split its inputs instead. Other layers (odd widths) keep the kernels above; every path is
 * tested against float64.
 */
import { Kernel, grid1d, wgsl, type BindingKind, type Gpu, type Op } from '../gpu/index.js';
import { MLP_BINDINGS, MlpParams } from './mlp-params.js';
import type { MlpLayer, MlpLayout } from './layout.js';
import { backendForWorkgroup, pickBackend, type BackendChoice, type KernelBackend } from './backend.js';
import {
  STATIONARY_FAMILY,
  STATIONARY_LANES,
  range,
  stationaryAligned,
  stationaryRows,
  stationaryWgsl,
  type StationaryShape,
} from './backends/subgroup8/stationary.js';
import { thinFits, thinWgsl } from './backends/subgroup8/thin.js';
import { JACOBIAN_MAX_OUTPUTS, jacobianWgsl, type JacobianShape } from './backends/subgroup8/output-jacobian.js';
import accumulateWgsl from './backends/generic/mlp_accumulate.wgsl?raw';
import backwardWgsl from './backends/generic/mlp_backward.wgsl?raw';
import commonWgsl from './backends/generic/mlp_common.wgsl?raw';
import backwardDeltaSgWgsl from './backends/generic/mlp_backward_delta_sg.wgsl?raw';
import commonSgWgsl from './backends/generic/mlp_common_sg.wgsl?raw';
import rowsSgWgsl from './backends/generic/mlp_rows_sg.wgsl?raw';
import subgroupLoadsWgsl from './backends/generic/subgroup_loads.wgsl?raw';
import forwardSgWgsl from './backends/generic/mlp_forward_sg.wgsl?raw';
import forwardWgsl from './backends/generic/mlp_forward.wgsl?raw';
import jvpSgWgsl from './backends/generic/mlp_jvp_sg.wgsl?raw';
import jvpWgsl from './backends/generic/mlp_jvp.wgsl?raw';

export { MlpParams };

export { MLP_MAX_WIDTH, mlpLayout, type MlpLayer, type MlpLayout } from './layout.js';


type MlpParamName = (typeof MlpParams.fields)[number][0];
type MlpParamValues = Partial<Record<MlpParamName, number>>;

/** An Op that owns GPU memory (uniforms, scratch); destroy() frees it. */
export interface MlpOp extends Op {
  destroy(): void;
}

export interface MlpForwardArgs {
  params: GPUBuffer;
  /** Element offset of set 0's parameter vector. Default 0. */
  paramOffset?: number;
  /** [batch][in], sample-major. */
  input: GPUBuffer;
  /** [sets][batch][out], sample-major. */
  output: GPUBuffer;
  /** Receives the activations that backwardOp and jvpOp need: actsLength(batch) floats per set. */
  acts?: GPUBuffer;
  batch: number;
  /** Parameter vectors evaluated over the same input, in one dispatch per layer. Default 1. */
  sets?: number;
  /** Elements between consecutive sets' parameter vectors (≥ paramCount). Default paramCount. */
  paramStride?: number;
}

export interface MlpBackwardArgs {
  params: GPUBuffer;
  paramOffset?: number;
  /** [batch][in], the input the forward pass ran on. */
  input: GPUBuffer;
  /** Activations written by forwardOp (set 0) for this input and these parameters. */
  acts: GPUBuffer;
  /** [batch][out]: dL/doutput. */
  gradOutput: GPUBuffer;
  /** Receives Σ over the batch of dL/dθ (overwritten), paramCount floats at gradParamsOffset. */
  gradParams: GPUBuffer;
  gradParamsOffset?: number;
  /** Receives dL/dinput, [batch][in]. */
  gradInput?: GPUBuffer;
  batch: number;
}

export interface MlpJvpArgs {
  params: GPUBuffer;
  paramOffset?: number;
  input: GPUBuffer;
  /** Activations written by forwardOp (set 0) for this input and these parameters. */
  acts: GPUBuffer;
  /** A vector in the parameter layout, paramCount floats at tangentOffset. */
  tangent: GPUBuffer;
  tangentOffset?: number;
  /** Receives J_n · tangent for every sample n, [batch][out]. */
  outputTangent: GPUBuffer;
  batch: number;
}

/**
 * The output Jacobian G (backends/subgroup8/output-jacobian.ts): for each network output j and hidden layer l,
 * ∂out_j/∂z_l per sample, in the layout of acts, output j's copy at j·actsLength(batch).
 */
export interface MlpJacobianArgs {
  params: GPUBuffer;
  paramOffset?: number;
  /** Activations written by forwardOp (set 0) for these parameters. */
  acts: GPUBuffer;
  /** Receives G: jacobianLength(batch) floats. */
  jacobian: GPUBuffer;
  batch: number;
}

/** J_n · tangent for every sample n through G (same result as jvpOp). */
export interface MlpJacobianVectorArgs {
  input: GPUBuffer;
  acts: GPUBuffer;
  jacobian: GPUBuffer;
  tangent: GPUBuffer;
  tangentOffset?: number;
  /** Receives [batch][out]. */
  outputTangent: GPUBuffer;
  batch: number;
}

/** Σ_n J_nᵀ gradOutput_n through G (the parameter gradient of backwardOp, same result). */
export interface MlpJacobianTransposeArgs {
  input: GPUBuffer;
  acts: GPUBuffer;
  jacobian: GPUBuffer;
  /** [batch][out]. */
  gradOutput: GPUBuffer;
  /** Receives paramCount floats at gradParamsOffset (overwritten). */
  gradParams: GPUBuffer;
  gradParamsOffset?: number;
  batch: number;
}

export interface MlpKernelsOptions {
  /**
   * Invocations per workgroup of the per-sample kernels. Default 64; dense-layer kernels halve it
   * (down to 8) for batches that would otherwise run fewer than 4 workgroups.
   */
  workgroupSize?: number;
  /**
   * Samples per invocation in the dense-layer kernels, 1, 2, 4 or 8 (each weight load then feeds
   * that many products). Default 8 (the subgroup kernels take at most 4, which keeps their 8
   * accumulators in registers); batches too small for 4 workgroups use less.
   */
  samplesPerInvocation?: number;
  /** Outputs per pass of a dense-layer kernel, in vec4 accumulators per sample, 1..4. Default 2. */
  accumulators?: number;
  /** Rows of [W | b] per invocation in the parameter-gradient kernel, 1..16. Default 16. */
  gradRows?: number;
  /** Columns of [W | b] per invocation in the parameter-gradient kernel, 1..8. Default 4. */
  gradCols?: number;
  /** Samples per chunk of the parameter-gradient reduction. Default max(256, batch / 64). */
  gradChunk?: number;
  /**
   * Which kernels run (nn/backend.ts): a backend from pickBackend, or a choice for it. Default
   * 'auto', the device's best. 'generic' keeps the row-broadcast subgroup kernels everywhere,
   * 'generic-no-subgroups' the per-invocation kernels; both are for comparisons and tests.
   */
  backend?: KernelBackend | BackendChoice;
  /**
   * Let jacobianVectorOp and jacobianTransposeOp run where they fit (see jacobianRows), so that
   * the Fisher-vector product goes through the output Jacobian. Default true; false keeps forward
   * mode (jvpOp, backwardOp) there too, for comparisons.
   */
  outputJacobian?: boolean;
}

const F32 = 4;
const MAX_S = 8;
const MAX_ACC = 16;
const MIN_GROUPS = 4;
const MAX_ROWS = 16;
const MAX_TILE = 64;
const MAX_COLS = 8;
/** Samples per invocation of the subgroup kernels (4 with 8 accumulators keeps them in registers; docs/performance-log.md). */
const SG_SAMPLES = 4;
/** Lanes that share one broadcast group in the subgroup kernels. */
/** Floats past the end of every scratch activation buffer: the subgroup kernels read 4 at a time. */
const ACTS_PAD = 4;

function checkInt(field: string, v: unknown, min: number, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`mlp: ${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function checkBuffer(op: string, field: string, buf: GPUBuffer | undefined, elements: number): GPUBuffer {
  if (!buf || typeof buf !== 'object' || typeof buf.size !== 'number') {
    throw new Error(`mlp ${op}: ${field} must be a GPUBuffer, got ${String(buf)}`);
  }
  if (buf.size < elements * F32) {
    throw new Error(
      `mlp ${op}: ${field} '${buf.label}' has ${buf.size} bytes, needs at least ${elements * F32} (${elements} f32)`,
    );
  }
  return buf;
}

/** WebGPU forbids a buffer that is written in a dispatch from being bound there a second time. */
function checkDistinct(op: string, written: Record<string, GPUBuffer | undefined>, read: Record<string, GPUBuffer | undefined>): void {
  const w = Object.entries(written).filter((e): e is [string, GPUBuffer] => !!e[1]);
  const all = [...w, ...Object.entries(read).filter((e): e is [string, GPUBuffer] => !!e[1])];
  for (const [name, buf] of w) {
    for (const [other, b] of all) {
      if (other !== name && b === buf) throw new Error(`mlp ${op}: ${name} and ${other} must be different buffers`);
    }
  }
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

interface Step {
  kernel: Kernel<string>;
  group: GPUBindGroup;
  grid: readonly [number, number];
}

export class MlpKernels {
  readonly wg: number;
  readonly samples: number;
  readonly accumulators: number;
  readonly gradRows: number;
  readonly gradCols: number;
  /** Whether the dense-layer products run the subgroup kernels (see the class comment). */
  readonly subgroups: boolean;
  /** The kernels this instance runs (nn/backend.ts), for its workgroup size. */
  readonly backend: KernelBackend;
  private readonly outputJacobian: boolean;
  private readonly gradChunkOption: number | undefined;
  private readonly owned = new Set<GPUBuffer>();
  /** Bound where a kernel's binding is unused; one per access mode, as a buffer may not be both. */
  private readonly dummyRead: GPUBuffer;
  private readonly dummyWrite: GPUBuffer;

  constructor(
    readonly gpu: Gpu,
    readonly layout: MlpLayout,
    options: MlpKernelsOptions = {},
  ) {
    const maxWg = gpu.limits.maxComputeInvocationsPerWorkgroup;
    this.wg = checkInt('workgroupSize', options.workgroupSize ?? 64, 1, Math.min(maxWg, gpu.limits.maxComputeWorkgroupSizeX));
    this.samples = checkInt('samplesPerInvocation', options.samplesPerInvocation ?? 8, 1, MAX_S);
    if (![1, 2, 4, 8].includes(this.samples)) {
      throw new Error(`mlp: samplesPerInvocation must be 1, 2, 4 or 8, got ${this.samples}`);
    }
    this.accumulators = checkInt('accumulators', options.accumulators ?? 2, 1, 4);
    this.gradRows = checkInt('gradRows', options.gradRows ?? 16, 1, MAX_ROWS);
    this.gradCols = checkInt('gradCols', options.gradCols ?? 4, 1, MAX_COLS);
    this.gradChunkOption = options.gradChunk === undefined ? undefined : checkInt('gradChunk', options.gradChunk, 1);
    const picked = typeof options.backend === 'object' ? options.backend : pickBackend(gpu, options.backend ?? 'auto');
    // The workgroup must hold whole subgroups (see blocking()).
    this.backend = backendForWorkgroup(picked, this.wg);
    this.subgroups = this.backend.subgroups !== null;
    if (options.outputJacobian !== undefined && typeof options.outputJacobian !== 'boolean') {
      throw new Error(`mlp: outputJacobian must be true or false, got ${String(options.outputJacobian)}`);
    }
    this.outputJacobian = options.outputJacobian ?? true;
    this.dummyRead = this.track(gpu.buffer('mlp/unused-read', 16, GPUBufferUsage.STORAGE));
    this.dummyWrite = this.track(gpu.buffer('mlp/unused-write', 16, GPUBufferUsage.STORAGE));
  }

  /**
   * Floats of `acts` per set: every hidden layer's activations, sample-major, and a few floats of
   * padding (the subgroup kernels read 4 consecutive floats, past a row's end at the last one).
   */
  actsLength(batch: number): number {
    return batch * sum(this.layout.sizes.slice(1, -1)) + ACTS_PAD;
  }

  /** Element offset, inside one set's acts, of the output of layer l (l < L-1). */
  private actsOffset(l: number, batch: number): number {
    return batch * sum(this.layout.sizes.slice(1, l + 1));
  }

  private track(buf: GPUBuffer): GPUBuffer {
    this.owned.add(buf);
    return buf;
  }

  private release(bufs: GPUBuffer[]): void {
    for (const b of bufs) {
      if (this.owned.delete(b)) b.destroy();
    }
  }

  private uniform(label: string, values: MlpParamValues, into: GPUBuffer[]): GPUBuffer {
    const full = Object.fromEntries(MlpParams.fields.map(([k]) => [k, values[k] ?? 0])) as Record<MlpParamName, number>;
    const buf = this.track(this.gpu.uniform(label, MlpParams.pack(full)));
    into.push(buf);
    return buf;
  }

  private scratch(label: string, elements: number, into: GPUBuffer[]): GPUBuffer {
    const buf = this.track(this.gpu.buffer(label, elements * F32, GPUBufferUsage.STORAGE));
    into.push(buf);
    return buf;
  }

  private grid(groups: number): [number, number] {
    return grid1d(groups, 1, this.gpu.limits.maxComputeWorkgroupsPerDimension);
  }

  /**
   * Register blocking of a dense layer with `outDim` outputs over `batch` samples: WG invocations
   * of S samples each. Small batches first get smaller workgroups (down to 8, a SIMD vector of
   * a CPU driver), then fewer samples per invocation, so that at least MIN_GROUPS workgroups share
   * the cores. That order keeps each weight load feeding S products; halving S first instead made
   * Fisher-vector products of small batches much slower (docs/performance-log.md).
   */
  private blocking(outDim: number, batch: number): { S: number; NACC: number; WG: number } {
    let S = this.subgroups ? Math.min(this.samples, SG_SAMPLES) : this.samples;
    let WG = this.wg;
    // Subgroup kernels need whole subgroups in a workgroup.
    const minWg = this.subgroups ? Math.max(8, this.gpu.subgroups!.max) : 8;
    while (WG > minWg && WG % 2 === 0 && Math.ceil(batch / (WG * S)) < MIN_GROUPS) WG /= 2;
    while (S > 1 && Math.ceil(batch / (WG * S)) < MIN_GROUPS) S /= 2;
    const NACC = Math.min(this.accumulators, Math.ceil(outDim / 4), Math.floor(MAX_ACC / S));
    return { S, NACC, WG };
  }

  private denseKernel(
    name: 'forward' | 'backward-delta' | 'jvp',
    outDim: number,
    batch: number,
    flags: Record<string, boolean>,
  ): Kernel<string> {
    const { S, NACC, WG } = this.blocking(outDim, batch);
    const sg = this.subgroups;
    // The subgroup row kernels (forward, JVP) take 8 outputs per pass (NB = 1), in 2 vec4 each.
    const constants: Record<string, number> = sg && name !== 'backward-delta' ? { WG, S, NB: 1 } : { WG, S, NACC };
    for (const [k, v] of Object.entries(flags)) constants[k] = v ? 1 : 0;
    // A subgroup kernel file adds its entry point to the per-invocation kernel's module, whose
    // bindings, overrides and store functions it uses.
    const header = sg
      ? wgsl('enable subgroups;', MlpParams.wgsl(), commonWgsl, accumulateWgsl, subgroupLoadsWgsl, commonSgWgsl)
      : wgsl(MlpParams.wgsl(), commonWgsl, accumulateWgsl);
    const suffix = sg ? '_sg' : '';
    if (name === 'forward') {
      return Kernel.get(this.gpu, {
        label: `mlp-forward${suffix}`,
        entryPoint: `mlp_forward${suffix}`,
        bindings: MLP_BINDINGS.forward,
        code: sg ? wgsl(header, rowsSgWgsl, forwardWgsl, forwardSgWgsl) : wgsl(header, forwardWgsl),
        constants,
      });
    }
    if (name === 'jvp') {
      return Kernel.get(this.gpu, {
        label: `mlp-jvp${suffix}`,
        entryPoint: `mlp_jvp${suffix}`,
        bindings: MLP_BINDINGS.jvp,
        code: sg ? wgsl(header, rowsSgWgsl, jvpWgsl, jvpSgWgsl) : wgsl(header, jvpWgsl),
        constants,
      });
    }
    if (sg) return this.backwardKernel('mlp_backward_delta_sg', constants, wgsl(header, backwardWgsl, backwardDeltaSgWgsl));
    return this.backwardKernel('mlp_backward_delta', constants);
  }

  private backwardKernel(
    entryPoint: string,
    constants: Record<string, number>,
    code = wgsl(MlpParams.wgsl(), commonWgsl, accumulateWgsl, backwardWgsl),
  ): Kernel<string> {
    return Kernel.get(this.gpu, {
      label: `mlp-${entryPoint.slice(4).replace(/_/g, '-')}`,
      entryPoint,
      bindings: MLP_BINDINGS.backward,
      code,
      constants,
    });
  }

  /**
   * The step of a weight-stationary or thin-layer kernel for one layer, or null where neither
   * applies (this device, the layer's shape, or an activation offset that is not a multiple of
   * 4), in which case the caller builds the other kernel's step. `values` are the uniforms the
   * other kernel would get; `offsets` the float offsets and strides the stationary kernel reads
   * as vec4.
   */
  private stationaryStep(s: {
    shape: Omit<StationaryShape, 'R'>;
    offsets: number[];
    batch: number;
    sets: number;
    label: string;
    values: MlpParamValues;
    resources: Record<string, GPUBuffer>;
    owned: GPUBuffer[];
  }): Step | null {
    const { shape, offsets, batch, sets, label, values, resources, owned } = s;
    if (this.backend.name !== 'subgroup8') return null;
    const kernel = this.stationaryKernel(shape, offsets, values);
    if (!kernel) return null;
    const { rowBlocks } = kernel;
    // Slices of the batch per set: the gradient's are its chunks; elsewhere at least 64 samples
    // per workgroup (its row loads amortized) and at most 64 slices.
    const chunks = shape.kind === 'grad' ? values.chunks! : Math.min(Math.ceil(batch / 64), 64);
    const groupsPerSet = chunks * rowBlocks;
    const groups = groupsPerSet * sets;
    const p = this.uniform(`${label}/params`, { ...values, batch, rowBlocks, chunks, groupsPerSet, groups }, owned);
    return { kernel: kernel.kernel, group: kernel.kernel.bind({ p, ...resources }, label), grid: this.grid(groups) };
  }

  /**
   * The weight-stationary kernel for a layer (backends/subgroup8/stationary.ts), else for a thin output layer
   * (backends/subgroup8/thin.ts), with its blocks of rows per slice of the batch; null if neither fits.
   */
  private stationaryKernel(
    shape: Omit<StationaryShape, 'R'>,
    offsets: number[],
    values: MlpParamValues,
  ): { kernel: Kernel<string>; rowBlocks: number } | null {
    const bindings = MLP_BINDINGS[STATIONARY_FAMILY[shape.kind]] as ReadonlyArray<readonly [string, BindingKind]>;
    const R = stationaryRows(shape.kind, shape.rows, shape.sum);
    if (R !== null && stationaryAligned(...offsets)) {
      const code = stationaryWgsl({ ...shape, R });
      return { kernel: Kernel.get(this.gpu, { label: `mlp-${shape.kind}-stationary`, entryPoint: 'main', bindings, code }), rowBlocks: shape.rows / (STATIONARY_LANES * R) };
    }
    // The network's output layer: its rows are outputs (for the deltas, its inputs).
    const output = shape.kind === 'forward' || shape.kind === 'jvp' ? !shape.hidden : shape.fromUser;
    const [outDim, inDim] = shape.kind === 'delta' ? [shape.sum, shape.rows] : [shape.rows, shape.sum];
    // The offsets a thin kernel reads as vec4 (its outputs and gradOutput are the user's, scalar).
    const vec4Offsets = [values.xBase, values.xSetStride, values.hBase, values.yBase].filter((v): v is number => v !== undefined);
    if (!output || !thinFits(shape.kind, outDim, inDim) || !stationaryAligned(...vec4Offsets)) return null;
    const code = thinWgsl({ kind: shape.kind, outDim, inDim, first: shape.first || (shape.kind === 'delta' && !shape.hidden) });
    return { kernel: Kernel.get(this.gpu, { label: `mlp-${shape.kind}-thin`, entryPoint: 'main', bindings, code }), rowBlocks: 1 };
  }

  /** Workgroups of a dense-layer dispatch over `sets` × batch samples. */
  private denseGroups(batch: number, outDim: number, sets = 1): { groupsPerSet: number; groups: number; grid: [number, number] } {
    const { S, WG } = this.blocking(outDim, batch);
    const groupsPerSet = Math.ceil(batch / (WG * S));
    const groups = groupsPerSet * sets;
    return { groupsPerSet, groups, grid: this.grid(groups) };
  }

  private op(label: string, steps: Step[], owned: GPUBuffer[]): MlpOp {
    return {
      label,
      encode: (pass) => {
        for (const s of steps) s.kernel.dispatch(pass, s.group, s.grid[0], s.grid[1]);
      },
      destroy: () => this.release(owned),
    };
  }

  /** Layer l of the forward pass over `sets` parameter vectors: tanh into acts, or the output layer into `output`. */
  private forwardStep(
    l: number,
    a: { params: GPUBuffer; paramOffset: number; paramStride: number; input: GPUBuffer; acts: GPUBuffer; output: GPUBuffer; batch: number; sets: number; label: string; owned: GPUBuffer[] },
  ): Step {
    const { batch, sets, owned } = a;
    const L = this.layout.layers.length;
    const layer = this.layout.layers[l]!;
    const actsLen = this.actsLength(batch);
    const first = l === 0;
    const last = l === L - 1;
    const values = {
      batch,
      inDim: layer.inDim,
      outDim: layer.outDim,
      wBase: a.paramOffset + layer.wOffset,
      bBase: a.paramOffset + layer.bOffset,
      paramStride: a.paramStride,
      xBase: first ? 0 : this.actsOffset(l - 1, batch),
      xSetStride: actsLen,
      yBase: last ? 0 : this.actsOffset(l, batch),
      ySetStride: last ? batch * layer.outDim : actsLen,
    };
    const resources = {
      theta: a.params,
      input: first ? a.input : this.dummyRead,
      acts: a.acts,
      output: last ? a.output : this.dummyWrite,
    };
    const label = `${a.label}/layer${l}`;
    const stationary = this.stationaryStep({
      shape: { kind: 'forward', rows: layer.outDim, sum: layer.inDim, first, hidden: !last, fromUser: false },
      offsets: [values.xBase, values.xSetStride, values.yBase, values.ySetStride],
      batch,
      sets,
      label,
      values,
      resources,
      owned,
    });
    if (stationary) return stationary;
    const kernel = this.denseKernel('forward', layer.outDim, batch, { HIDDEN: !last, FIRST: first });
    const { groupsPerSet, groups, grid } = this.denseGroups(batch, layer.outDim, sets);
    const p = this.uniform(`${label}/params`, { ...values, groupsPerSet, groups }, owned);
    return { kernel, group: kernel.bind({ p, ...resources }, label), grid };
  }

  forwardOp(args: MlpForwardArgs): MlpOp {
    const { layout } = this;
    const batch = checkInt('batch', args.batch, 1);
    const sets = checkInt('sets', args.sets ?? 1, 1);
    const paramOffset = checkInt('paramOffset', args.paramOffset ?? 0, 0);
    const paramStride = checkInt('paramStride', args.paramStride ?? layout.paramCount, layout.paramCount);
    const L = layout.layers.length;
    const actsLen = this.actsLength(batch);
    checkBuffer('forward', 'params', args.params, paramOffset + (sets - 1) * paramStride + layout.paramCount);
    checkBuffer('forward', 'input', args.input, batch * layout.sizes[0]!);
    checkBuffer('forward', 'output', args.output, sets * batch * layout.sizes[L]!);
    if (args.acts) checkBuffer('forward', 'acts', args.acts, sets * actsLen);
    checkDistinct('forward', { output: args.output, acts: args.acts }, { params: args.params, input: args.input });

    const owned: GPUBuffer[] = [];
    const acts = args.acts ?? (L > 1 ? this.scratch('mlp-forward/acts', sets * actsLen, owned) : this.dummyWrite);
    const steps = layout.layers.map((_, l) =>
      this.forwardStep(l, { params: args.params, paramOffset, paramStride, input: args.input, acts, output: args.output, batch, sets, label: 'mlp-forward', owned }),
    );
    return this.op('mlp-forward', steps, owned);
  }

  /**
   * Tile of [W | b] per invocation of the parameter-gradient kernel: `cols` columns spaced
   * `colWidth` apart (the workgroup width, a multiple of 8 so no SIMD vector straddles two
   * workgroups' columns) and `rows` rows, rows·cols ≤ 64 accumulators.
   */
  private gradTile(layer: MlpLayer): { rows: number; cols: number; colWidth: number } {
    const n = layer.inDim + 1;
    const colWidth = Math.min(Math.ceil(Math.ceil(n / this.gradCols) / 8) * 8, 64);
    const cols = Math.min(this.gradCols, Math.ceil(n / colWidth));
    const rows = Math.min(this.gradRows, layer.outDim, Math.floor(MAX_TILE / cols));
    return { rows, cols, colWidth };
  }

  /** Samples per chunk of the parameter-gradient reduction. */
  gradChunk(batch: number): number {
    return this.gradChunkOption ?? Math.max(256, Math.ceil(batch / 64));
  }

  backwardOp(args: MlpBackwardArgs): MlpOp {
    const { layout } = this;
    const batch = checkInt('batch', args.batch, 1);
    const paramOffset = checkInt('paramOffset', args.paramOffset ?? 0, 0);
    const gradParamsOffset = checkInt('gradParamsOffset', args.gradParamsOffset ?? 0, 0);
    const L = layout.layers.length;
    const inDim = layout.sizes[0]!;
    const outDim = layout.sizes[L]!;
    const P = layout.paramCount;
    checkBuffer('backward', 'params', args.params, paramOffset + P);
    checkBuffer('backward', 'input', args.input, batch * inDim);
    checkBuffer('backward', 'acts', args.acts, this.actsLength(batch));
    checkBuffer('backward', 'gradOutput', args.gradOutput, batch * outDim);
    checkBuffer('backward', 'gradParams', args.gradParams, gradParamsOffset + P);
    if (args.gradInput) checkBuffer('backward', 'gradInput', args.gradInput, batch * inDim);
    checkDistinct(
      'backward',
      { gradParams: args.gradParams, gradInput: args.gradInput },
      { params: args.params, input: args.input, acts: args.acts, gradOutput: args.gradOutput },
    );

    const owned: GPUBuffer[] = [];
    const deltas = L > 1 ? this.scratch('mlp-backward/deltas', this.actsLength(batch), owned) : this.dummyWrite;
    const chunkLen = this.gradChunk(batch);
    const chunks = Math.ceil(batch / chunkLen);
    const partial = this.scratch('mlp-backward/partial-sums', chunks * P, owned);
    const steps: Step[] = [];
    // Deltas, top down: g_{l-1} from g_l (layer l's matrix transposed), then dL/dinput.
    steps.push(
      ...this.deltaSteps({ params: args.params, paramOffset, acts: args.acts, gradOutput: args.gradOutput, gradInput: args.gradInput, deltas, deltasBase: 0, batch, label: 'mlp-backward', owned }),
    );

    // Parameter gradients per chunk of the batch, then the sum over chunks.
    layout.layers.forEach((_, l) =>
      steps.push(this.gradStep(l, { input: args.input, acts: args.acts, gradOutput: args.gradOutput, deltas, partial, chunkLen, chunks, batch, label: 'mlp-backward', owned })),
    );
    steps.push(this.sumChunksStep({ partial, chunks, gradParams: args.gradParams, gradParamsOffset, label: 'mlp-backward', owned }));
    return this.op('mlp-backward', steps, owned);
  }

  /**
   * Layer l's parameter gradient over chunks of the batch into `partial` ([chunks][paramCount]):
   * from the user's gradOutput for the output layer, from `deltas` (the layout of acts) below it.
   */
  private gradStep(
    l: number,
    a: { input: GPUBuffer; acts: GPUBuffer; gradOutput: GPUBuffer; deltas: GPUBuffer; partial: GPUBuffer; chunkLen: number; chunks: number; batch: number; label: string; owned: GPUBuffer[] },
  ): Step {
    const { batch, chunkLen, chunks, owned } = a;
    const L = this.layout.layers.length;
    const layer = this.layout.layers[l]!;
    const fromUser = l === L - 1;
    const values = {
      batch,
      inDim: layer.inDim,
      outDim: layer.outDim,
      wBase: layer.wOffset,
      bBase: layer.bOffset,
      xBase: fromUser ? 0 : this.actsOffset(l, batch),
      hBase: l === 0 ? 0 : this.actsOffset(l - 1, batch),
      chunkLen,
      chunks,
      paramCount: this.layout.paramCount,
    };
    const resources = {
      theta: this.dummyRead,
      input: l === 0 ? a.input : this.dummyRead,
      gradOutput: fromUser ? a.gradOutput : this.dummyRead,
      acts: l === 0 ? this.dummyRead : a.acts,
      deltas: fromUser ? this.dummyWrite : a.deltas,
      result: a.partial,
    };
    const label = `${a.label}/params${l}`;
    const stationary = this.stationaryStep({
      shape: { kind: 'grad', rows: layer.outDim, sum: layer.inDim, first: l === 0, hidden: false, fromUser },
      offsets: [values.xBase, values.hBase],
      batch,
      sets: 1,
      label,
      values,
      resources,
      owned,
    });
    if (stationary) return stationary;
    const { rows, cols, colWidth } = this.gradTile(layer);
    const colBlocks = Math.ceil((layer.inDim + 1) / (colWidth * cols));
    const rowBlocks = Math.ceil(layer.outDim / rows);
    const groups = colBlocks * rowBlocks * chunks;
    const kernel = this.backwardKernel('mlp_backward_params', {
      WG: colWidth,
      ROWS: rows,
      COLS: cols,
      G_FROM_USER: fromUser ? 1 : 0,
      X_FROM_USER: l === 0 ? 1 : 0,
    });
    const p = this.uniform(`${label}/params`, { ...values, groups, colBlocks, rowBlocks }, owned);
    return { kernel, group: kernel.bind({ p, ...resources }, label), grid: this.grid(groups) };
  }

  /** gradParams[gradParamsOffset..] = the sum over chunks of `partial` ([chunks][paramCount]). */
  private sumChunksStep(a: { partial: GPUBuffer; chunks: number; gradParams: GPUBuffer; gradParamsOffset: number; label: string; owned: GPUBuffer[] }): Step {
    const P = this.layout.paramCount;
    const kernel = this.backwardKernel('mlp_sum_chunks', { WG: this.wg });
    const p = this.uniform(`${a.label}/sum/params`, { chunks: a.chunks, paramCount: P, outBase: a.gradParamsOffset }, a.owned);
    const [sx, sy] = grid1d(P, this.wg, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const resources = { theta: this.dummyRead, input: this.dummyRead, gradOutput: this.dummyRead, acts: this.dummyRead, deltas: a.partial, result: a.gradParams };
    return { kernel, group: kernel.bind({ p, ...resources }, `${a.label}/sum`), grid: [sx, sy] };
  }

  /**
   * The backward deltas, top down: g_{l-1} from g_l (layer l's matrix transposed), into `deltas`
   * (the layout of acts, from float deltasBase), then dL/dinput if `gradInput` is given.
   */
  private deltaSteps(a: {
    params: GPUBuffer;
    paramOffset: number;
    acts: GPUBuffer;
    gradOutput: GPUBuffer;
    gradInput?: GPUBuffer | undefined;
    deltas: GPUBuffer;
    deltasBase: number;
    batch: number;
    label: string;
    owned: GPUBuffer[];
  }): Step[] {
    const { layout } = this;
    const { batch, deltas, deltasBase, owned } = a;
    const L = layout.layers.length;
    const steps: Step[] = [];
    for (let l = L - 1; l >= 0; l--) {
      const inputGrad = l === 0;
      if (inputGrad && !a.gradInput) break;
      const layer = layout.layers[l]!;
      const fromUser = l === L - 1;
      const values = {
        batch,
        inDim: layer.outDim,
        outDim: layer.inDim,
        wBase: a.paramOffset + layer.wOffset,
        xBase: fromUser ? 0 : deltasBase + this.actsOffset(l, batch),
        hBase: inputGrad ? 0 : this.actsOffset(l - 1, batch),
        yBase: inputGrad ? 0 : deltasBase + this.actsOffset(l - 1, batch),
      };
      const resources = {
        theta: a.params,
        input: this.dummyRead,
        gradOutput: fromUser ? a.gradOutput : this.dummyRead,
        acts: inputGrad ? this.dummyRead : a.acts,
        deltas,
        result: inputGrad ? a.gradInput! : this.dummyWrite,
      };
      const label = `${a.label}/delta${l}`;
      const stationary = this.stationaryStep({
        shape: { kind: 'delta', rows: layer.inDim, sum: layer.outDim, first: false, hidden: !inputGrad, fromUser },
        offsets: [values.xBase, values.hBase, values.yBase],
        batch,
        sets: 1,
        label,
        values,
        resources,
        owned,
      });
      if (stationary) {
        steps.push(stationary);
        continue;
      }
      const kernel = this.denseKernel('backward-delta', layer.inDim, batch, { G_FROM_USER: fromUser, INPUT_GRAD: inputGrad });
      const { groupsPerSet, groups, grid } = this.denseGroups(batch, layer.inDim);
      const p = this.uniform(`${label}/params`, { ...values, groupsPerSet, groups }, owned);
      steps.push({ kernel, group: kernel.bind({ p, ...resources }, label), grid });
    }
    return steps;
  }

  /** Floats of the output Jacobian (MlpJacobianArgs) for `batch` samples. */
  jacobianLength(batch: number): number {
    return this.layout.sizes[this.layout.layers.length]! * this.actsLength(batch);
  }

  /**
   * Rows per lane of each hidden layer's kernels in backends/subgroup8/output-jacobian.ts, or null where they do not
   * run (then the Fisher-vector product keeps forward mode: jvpOp, backwardOp): they need the
   * option outputJacobian, the stationary kernels' device, at least one hidden layer, at most JACOBIAN_MAX_OUTPUTS outputs,
   * and each hidden layer's rows held by the 8 lanes of one workgroup (32 or 64 units).
   */
  get jacobianRows(): Array<4 | 8> | null {
    const { layers, sizes } = this.layout;
    if (!this.outputJacobian || this.backend.name !== 'subgroup8' || layers.length < 2 || sizes[layers.length]! > JACOBIAN_MAX_OUTPUTS) return null;
    const rows: Array<4 | 8> = [];
    for (const layer of layers.slice(0, -1)) {
      const R = stationaryRows('grad', layer.outDim, Math.ceil(layer.inDim / 4) * 4);
      if (R === null || layer.outDim !== STATIONARY_LANES * R) return null;
      rows.push(R);
    }
    return rows;
  }

  /** G for the batch: one backward pass of deltas per output j, from the unit gradient e_j. */
  outputJacobianOp(args: MlpJacobianArgs): MlpOp {
    const { layout } = this;
    const batch = checkInt('batch', args.batch, 1);
    const paramOffset = checkInt('paramOffset', args.paramOffset ?? 0, 0);
    const L = layout.layers.length;
    const D = layout.sizes[L]!;
    if (L < 2) throw new Error('outputJacobian: the network has no hidden layer, so G is empty');
    checkBuffer('outputJacobian', 'params', args.params, paramOffset + layout.paramCount);
    checkBuffer('outputJacobian', 'acts', args.acts, this.actsLength(batch));
    checkBuffer('outputJacobian', 'jacobian', args.jacobian, this.jacobianLength(batch));
    checkDistinct('outputJacobian', { jacobian: args.jacobian }, { params: args.params, acts: args.acts });
    const owned: GPUBuffer[] = [];
    const steps = range(D).flatMap((j) => {
      const unit = new Float32Array(batch * D);
      for (let n = 0; n < batch; n++) unit[n * D + j] = 1;
      const gradOutput = this.track(this.gpu.upload(`mlp-jacobian/unit${j}`, unit));
      owned.push(gradOutput);
      const deltasBase = j * this.actsLength(batch);
      return this.deltaSteps({ params: args.params, paramOffset, acts: args.acts, gradOutput, deltas: args.jacobian, deltasBase, batch, label: `mlp-jacobian/out${j}`, owned });
    });
    return this.op('mlp-jacobian', steps, owned);
  }

  /** The checks both products through G share: available here, batch, input, acts and G. */
  private checkJacobianArgs(op: string, args: { input: GPUBuffer; acts: GPUBuffer; jacobian: GPUBuffer; batch: number }) {
    const { layout } = this;
    const rows = this.jacobianRows;
    if (!rows) throw new Error(`${op}Op: not available for this network on this device (see jacobianRows)`);
    const batch = checkInt('batch', args.batch, 1);
    const L = layout.layers.length;
    checkBuffer(op, 'input', args.input, batch * layout.sizes[0]!);
    checkBuffer(op, 'acts', args.acts, this.actsLength(batch));
    checkBuffer(op, 'jacobian', args.jacobian, this.jacobianLength(batch));
    return { rows, batch, L, D: layout.sizes[L]! };
  }

  /** outputTangent = J tangent through G: the output layer's Ẇ a + ḃ, then each hidden layer adds G (Ẇ a + ḃ). */
  jacobianVectorOp(args: MlpJacobianVectorArgs): MlpOp {
    const { layout } = this;
    const { rows, batch, L, D } = this.checkJacobianArgs('jacobianVector', args);
    const tangentOffset = checkInt('tangentOffset', args.tangentOffset ?? 0, 0);
    checkBuffer('jacobianVector', 'tangent', args.tangent, tangentOffset + layout.paramCount);
    checkBuffer('jacobianVector', 'outputTangent', args.outputTangent, batch * D);
    checkDistinct('jacobianVector', { outputTangent: args.outputTangent }, { input: args.input, acts: args.acts, jacobian: args.jacobian, tangent: args.tangent });
    const owned: GPUBuffer[] = [];
    // The output layer is a forward layer with the tangent as its parameters (no activation).
    const steps = [
      this.forwardStep(L - 1, {
        params: args.tangent,
        paramOffset: tangentOffset,
        paramStride: layout.paramCount,
        input: args.input,
        acts: args.acts,
        output: args.outputTangent,
        batch,
        sets: 1,
        label: 'mlp-jacobian-vector',
        owned,
      }),
    ];
    layout.layers.slice(0, -1).forEach((layer, l) => {
      const shape = { kind: 'tangent' as const, rows: layer.outDim, inDim: layer.inDim, R: rows[l]!, first: l === 0, outputs: D };
      const values = {
        batch,
        w2Base: tangentOffset + layer.wOffset,
        b2Base: tangentOffset + layer.bOffset,
        hBase: l === 0 ? 0 : this.actsOffset(l - 1, batch),
        yBase: this.actsOffset(l, batch),
        ySetStride: this.actsLength(batch),
      };
      const resources = { theta: this.dummyRead, tangent: args.tangent, input: args.input, acts: args.acts, dacts: args.jacobian, outputTangent: args.outputTangent };
      steps.push(this.jacobianStep(shape, values, resources, `mlp-jacobian-vector/layer${l}`, owned));
    });
    return this.op('mlp-jacobian-vector', steps, owned);
  }

  /** gradParams = Σ_n J_nᵀ gradOutput_n through G: each hidden layer's ∂W, ∂b from Gᵀ g, the output layer's from g. */
  jacobianTransposeOp(args: MlpJacobianTransposeArgs): MlpOp {
    const { layout } = this;
    const { rows, batch, L, D } = this.checkJacobianArgs('jacobianTranspose', args);
    const gradParamsOffset = checkInt('gradParamsOffset', args.gradParamsOffset ?? 0, 0);
    const P = layout.paramCount;
    checkBuffer('jacobianTranspose', 'gradOutput', args.gradOutput, batch * D);
    checkBuffer('jacobianTranspose', 'gradParams', args.gradParams, gradParamsOffset + P);
    checkDistinct('jacobianTranspose', { gradParams: args.gradParams }, { input: args.input, acts: args.acts, jacobian: args.jacobian, gradOutput: args.gradOutput });
    const owned: GPUBuffer[] = [];
    const chunkLen = this.gradChunk(batch);
    const chunks = Math.ceil(batch / chunkLen);
    const partial = this.scratch('mlp-jacobian-transpose/partial-sums', chunks * P, owned);
    const steps = layout.layers.slice(0, -1).map((layer, l) => {
      const shape = { kind: 'cotangent' as const, rows: layer.outDim, inDim: layer.inDim, R: rows[l]!, first: l === 0, outputs: D };
      const values = {
        batch,
        wBase: layer.wOffset,
        bBase: layer.bOffset,
        hBase: l === 0 ? 0 : this.actsOffset(l - 1, batch),
        yBase: this.actsOffset(l, batch),
        ySetStride: this.actsLength(batch),
        chunkLen,
        chunks,
        paramCount: P,
      };
      const resources = { theta: this.dummyRead, input: args.input, gradOutput: args.gradOutput, acts: args.acts, deltas: args.jacobian, result: partial };
      return this.jacobianStep(shape, values, resources, `mlp-jacobian-transpose/params${l}`, owned);
    });
    const label = 'mlp-jacobian-transpose';
    steps.push(this.gradStep(L - 1, { input: args.input, acts: args.acts, gradOutput: args.gradOutput, deltas: this.dummyWrite, partial, chunkLen, chunks, batch, label, owned }));
    steps.push(this.sumChunksStep({ partial, chunks, gradParams: args.gradParams, gradParamsOffset, label, owned }));
    return this.op(label, steps, owned);
  }

  /** A kernel of backends/subgroup8/output-jacobian.ts over the batch: slices of 8-sample groups (tangent) or chunks (cotangent). */
  private jacobianStep(shape: JacobianShape, values: MlpParamValues, resources: Record<string, GPUBuffer>, label: string, owned: GPUBuffer[]): Step {
    const family = shape.kind === 'tangent' ? 'jvp' : 'backward';
    const bindings = MLP_BINDINGS[family] as ReadonlyArray<readonly [string, BindingKind]>;
    const kernel = Kernel.get(this.gpu, { label: `mlp-jacobian-${shape.kind}`, entryPoint: 'main', bindings, code: jacobianWgsl(shape) });
    const batch = values.batch!;
    const chunks = shape.kind === 'cotangent' ? values.chunks! : Math.min(Math.ceil(batch / 64), 64);
    const p = this.uniform(`${label}/params`, { ...values, rowBlocks: 1, chunks, groupsPerSet: chunks, groups: chunks }, owned);
    return { kernel, group: kernel.bind({ p, ...resources }, label), grid: this.grid(chunks) };
  }

  jvpOp(args: MlpJvpArgs): MlpOp {
    const { layout } = this;
    const batch = checkInt('batch', args.batch, 1);
    const paramOffset = checkInt('paramOffset', args.paramOffset ?? 0, 0);
    const tangentOffset = checkInt('tangentOffset', args.tangentOffset ?? 0, 0);
    const L = layout.layers.length;
    const P = layout.paramCount;
    checkBuffer('jvp', 'params', args.params, paramOffset + P);
    checkBuffer('jvp', 'input', args.input, batch * layout.sizes[0]!);
    checkBuffer('jvp', 'acts', args.acts, this.actsLength(batch));
    checkBuffer('jvp', 'tangent', args.tangent, tangentOffset + P);
    checkBuffer('jvp', 'outputTangent', args.outputTangent, batch * layout.sizes[L]!);
    checkDistinct(
      'jvp',
      { outputTangent: args.outputTangent },
      { params: args.params, input: args.input, acts: args.acts, tangent: args.tangent },
    );

    const owned: GPUBuffer[] = [];
    const dacts = L > 1 ? this.scratch('mlp-jvp/tangent-acts', this.actsLength(batch), owned) : this.dummyWrite;
    const steps = layout.layers.map((layer, l): Step => {
      const first = l === 0;
      const last = l === L - 1;
      const values = {
        batch,
        inDim: layer.inDim,
        outDim: layer.outDim,
        wBase: paramOffset + layer.wOffset,
        w2Base: tangentOffset + layer.wOffset,
        b2Base: tangentOffset + layer.bOffset,
        xBase: first ? 0 : this.actsOffset(l - 1, batch),
        hBase: first ? 0 : this.actsOffset(l - 1, batch),
        h2Base: last ? 0 : this.actsOffset(l, batch),
        yBase: last ? 0 : this.actsOffset(l, batch),
      };
      const resources = {
        theta: args.params,
        tangent: args.tangent,
        input: first ? args.input : this.dummyRead,
        acts: L > 1 ? args.acts : this.dummyRead,
        dacts,
        outputTangent: last ? args.outputTangent : this.dummyWrite,
      };
      const label = `mlp-jvp/layer${l}`;
      const stationary = this.stationaryStep({
        shape: { kind: 'jvp', rows: layer.outDim, sum: layer.inDim, first, hidden: !last, fromUser: false },
        offsets: [values.xBase, values.h2Base, values.yBase],
        batch,
        sets: 1,
        label,
        values,
        resources,
        owned,
      });
      if (stationary) return stationary;
      const kernel = this.denseKernel('jvp', layer.outDim, batch, { HIDDEN: !last, FIRST: first });
      const { groupsPerSet, groups, grid } = this.denseGroups(batch, layer.outDim);
      const p = this.uniform(`${label}/params`, { ...values, groupsPerSet, groups }, owned);
      return { kernel, group: kernel.bind({ p, ...resources }, label), grid };
    });
    return this.op('mlp-jvp', steps, owned);
  }

  /** Frees every buffer this object made (uniforms and scratch of all ops built from it). */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
  }
}
