/**
 * Compensated reductions whose result stays on the GPU in a ScalarRef: dot, sum, mean, variance,
 * and mean + std for advantage normalization. Each is two dispatches (partials, finish) per pass
 * over the data, or one where a workgroup takes it all (at most WG·256 elements, as CG's vectors
 * and most per-batch means) and the output lies in another buffer; variance and std take two
 * passes (mean first, then Σ(x − mean)²).
 *
 * Accuracy (reduce.wgsl): sums run in double-float (hi, lo) arithmetic built on the
 * error-free TwoSum and Dekker TwoProduct, and are rounded to f32 once, at the end. With
 * u = 2^-24, the double-float value differs from the exact sum by at most K·u²·Σ|terms| (for dot
 * the terms are the exact products x_i·y_i), where K = 3·65 (four chains of ≤ 65 additions per
 * invocation) + 8 (joining the chains) + 8·log2(WG) (two workgroup trees) + 4·⌈G/WG⌉ (the finish
 * loop over G partials). With the default WG = 64: K ≤ 291 (2^-39.8 · Σ|terms|) for n ≤ 10^7 and
 * K ≤ 379 (2^-39.4) up to n = 2^25, the 128 MiB binding limit. So the f32 result is within
 * 1/2 ulp of the exact value plus that term; for terms of one sign, within 1 ulp (and correctly
 * rounded unless the exact value is within ~2^-39 relative of a rounding boundary). Measured
 * errors are far smaller than the bound (test/reduce.test.ts). Inputs must stay below 2^115 in
 * magnitude (the product split); values below ~2^-100 lose the low word where the driver
 * flushes denormals.
 */
import { Kernel, StructLayout, wgsl, type Gpu } from '../gpu/index.js';
import reduceWgsl from './reduce.wgsl?raw';
import {
  bindOperands,
  checkScalar,
  checkVec,
  scalarRange,
  vecRange,
  type BuiltOp,
  type Operand,
  type ScalarRef,
  type VecRef,
} from './vec.js';

export interface ReduceOptions {
  /**
   * Invocations per workgroup (power of two). Default 64: on lavapipe it was as fast as 256 for
   * 10^7 elements and faster for the small vectors of CG (fewer barrier steps per workgroup).
   */
  workgroupSize?: number;
}

export interface VarianceOptions extends ReduceOptions {
  /** Divide by n − ddof: 0 for the population variance (default), 1 for the sample variance. */
  ddof?: 0 | 1;
}

export interface MeanStdOptions extends VarianceOptions {
  /** Added to the std, so callers can divide by it: (A − mean) / std. Default 0. */
  eps?: number;
}

export const ReduceParams = new StructLayout('ReduceParams', [
  ['n', 'u32'],
  // Pass 1: elements before the first whole quad, and the number of whole quads after them.
  ['head', 'u32'],
  ['quads', 'u32'],
  // Pass 1: where x and y start in their scalar (xs, ys) and quad (x4, y4) views.
  ['xs0', 'u32'],
  ['x40', 'u32'],
  ['ys0', 'u32'],
  ['y40', 'u32'],
  ['groups', 'u32'],
  // The finish (reduce_finish, or pass 1 with FINISH_IN_PASS1): bits FINISH_* of
  // reduce.wgsl, and the output element.
  ['mode', 'u32'],
  ['outBase', 'u32'],
  ['countHi', 'f32'],
  ['countLo', 'f32'],
  ['eps', 'f32'],
  // Always 1.0; see reduce.wgsl for why it is not a literal.
  ['one', 'f32'],
] as const);

type ParamName = (typeof ReduceParams.fields)[number][0];

/** Elements per invocation in pass 1 at most (four chains of 64; see reduce.wgsl). */
const CHUNK = 256;

/** The FINISH_* bits of reduce.wgsl. */
const FINISH = { divide: 1, keep: 2, sqrt: 4, write: 8, inPass1: 16 } as const;

type PartialsEntry = 'reduce_sum' | 'reduce_dot' | 'reduce_sqdev';

interface FinishMode {
  /** Divide by this count (0 gives 0). */
  count?: number;
  keep?: boolean;
  sqrtPlusEps?: number;
  out?: ScalarRef;
}

/** Read-only scalar and quad views of one operand for pass 1 (see reduce.wgsl). */
interface Views {
  scalar: GPUBufferBinding;
  quads: GPUBufferBinding;
  s0: number;
  q0: number;
}

/**
 * One reduction over x (and y): its scratch, and the dispatches that use it. Pass 1 only reads
 * its inputs, so x and y may be bound any number of times, overlapping or not.
 */
class Reduction {
  readonly wg: number;
  readonly groups: number;
  readonly part: GPUBuffer;
  private readonly n: number;
  private readonly head: number;
  private readonly quads: number;
  private readonly owned: GPUBuffer[] = [];
  private readonly steps: Array<(pass: GPUComputePassEncoder) => void> = [];
  private pending: PartialsEntry | undefined;

  constructor(
    private readonly gpu: Gpu,
    readonly label: string,
    private readonly x: Operand,
    private readonly y: Operand | undefined,
    opts: ReduceOptions,
  ) {
    this.wg = opts.workgroupSize ?? 64;
    if (!Number.isInteger(Math.log2(this.wg))) throw new RangeError(`${label}: workgroupSize must be a power of two, got ${this.wg}`);
    this.n = x.end - x.start;
    if (y && (y.start - x.start) % 4 !== 0) {
      // x and y quads would not line up: everything goes through the scalar views.
      this.head = this.n;
      this.quads = 0;
    } else {
      this.head = Math.min((4 - (x.start % 4)) % 4, this.n);
      this.quads = Math.floor((this.n - this.head) / 4);
    }
    this.groups = Math.max(1, Math.min(Math.ceil(this.n / (this.wg * CHUNK)), gpu.limits.maxComputeWorkgroupsPerDimension));
    // One (hi, lo) pair per workgroup, plus one for the mean that reduce_sqdev reads.
    this.part = gpu.buffer(`${label}/partials`, (this.groups + 1) * 8, GPUBufferUsage.STORAGE);
    this.owned.push(this.part);
  }

  private views(o: Operand): Views {
    const { gpu } = this;
    const align = gpu.limits.minStorageBufferOffsetAlignment;
    const sOff = Math.floor((o.start * 4) / align) * align;
    const scalar = { buffer: o.buffer, offset: sOff, size: o.end * 4 - sOff };
    // Quads start 16-byte aligned in the buffer; aligning the binding to a multiple of 16 too
    // keeps them whole vec4 elements of the view.
    const qStart = (o.start + this.head) * 4;
    const qOff = Math.floor(qStart / Math.max(align, 16)) * Math.max(align, 16);
    const quads =
      this.quads > 0
        ? { buffer: o.buffer, offset: qOff, size: qStart + 16 * this.quads - qOff }
        : { buffer: gpu.memo('reduce/no-quads', () => gpu.buffer('reduce/no-quads', 16, GPUBufferUsage.STORAGE)) };
    for (const v of [scalar, quads]) {
      if ((v.size ?? 0) > gpu.limits.maxStorageBufferBindingSize) {
        throw new RangeError(`${this.label}: ${v.size} bytes of '${o.buffer.label}' exceed the ${gpu.limits.maxStorageBufferBindingSize}-byte binding limit`);
      }
    }
    return { scalar, quads, s0: o.start - sOff / 4, q0: this.quads > 0 ? (qStart - qOff) / 16 : 0 };
  }

  private params(values: Partial<Record<ParamName, number>>): GPUBuffer {
    const all: Record<ParamName, number> = {
      n: this.n,
      head: this.head,
      quads: this.quads,
      xs0: 0,
      x40: 0,
      ys0: 0,
      y40: 0,
      groups: this.groups,
      mode: 0,
      outBase: 0,
      countHi: 0,
      countLo: 0,
      eps: 0,
      one: 1,
    };
    const buf = this.gpu.uniform(`${this.label}/params`, ReduceParams.pack({ ...all, ...values }));
    this.owned.push(buf);
    return buf;
  }

  /** Pass 1 over x (and y); the finish() that follows says what becomes of its partial sums. */
  partials(entry: PartialsEntry): this {
    if (this.pending) throw new Error(`${this.label}: partials() twice without finish()`);
    this.pending = entry;
    return this;
  }

  /**
   * Pass 2 of the pending pass 1: divide, keep, sqrt, write. Where pass 1 is one workgroup and
   * the output is not in an input's buffer (a writable binding may not alias a read-only one),
   * pass 1 finishes the reduction itself: one dispatch instead of two, same operations.
   */
  finish(how: FinishMode): this {
    const entry = this.pending;
    if (!entry) throw new Error(`${this.label}: finish() without partials()`);
    this.pending = undefined;
    const b = bindOperands(this.gpu, this.label, how.out ? [scalarRange(how.out)] : [], 1);
    const count = how.count ?? 0;
    const countHi = Math.fround(count);
    const finishValues = {
      outBase: b.base[0] ?? 0,
      mode:
        (how.count === undefined ? 0 : FINISH.divide) |
        (how.keep ? FINISH.keep : 0) |
        (how.sqrtPlusEps === undefined ? 0 : FINISH.sqrt) |
        (how.out ? FINISH.write : 0),
      // The count as an unevaluated f32 sum, exact for any count below 2^48.
      countHi,
      countLo: count - countHi,
      eps: how.sqrtPlusEps ?? 0,
    };
    const out = how.out?.buffer;
    const onePass = this.groups === 1 && out !== this.x.buffer && out !== this.y?.buffer;
    const xv = this.views(this.x);
    // Without y (sum, sqdev) y's bindings repeat x's: read-only bindings may alias.
    const yv = this.y ? this.views(this.y) : xv;
    const pass1 = Kernel.get(this.gpu, { ...this.spec(entry), bindings: PASS1_BINDINGS });
    const unused = this.gpu.memo('reduce/no-out', () => this.gpu.buffer('reduce/no-out', 16, GPUBufferUsage.STORAGE));
    const params = this.params({
      xs0: xv.s0,
      x40: xv.q0,
      ys0: yv.s0,
      y40: yv.q0,
      ...(onePass ? { ...finishValues, mode: finishValues.mode | FINISH.inPass1 } : {}),
    });
    const resources = { params, part: this.part, x4: xv.quads, xs: xv.scalar, y4: yv.quads, ys: yv.scalar };
    const group1 = pass1.bind({ ...resources, out1: onePass && b.resources[0] ? b.resources[0] : { buffer: unused } }, `${this.label}/${entry}`);
    this.steps.push((pass) => pass1.dispatch(pass, group1, this.groups));
    if (onePass) return this;
    const finish = Kernel.get(this.gpu, { ...this.spec('reduce_finish'), bindings: FINISH_BINDINGS });
    const group2 = finish.bind({ params: this.params(finishValues), part: this.part, out: b.resources[0]! }, `${this.label}/finish`);
    this.steps.push((pass) => finish.dispatch(pass, group2, 1));
    return this;
  }

  private spec(entryPoint: string) {
    return { label: 'reduce', code: wgsl(ReduceParams.wgsl(), reduceWgsl), entryPoint, constants: { WG: this.wg } };
  }

  op(): BuiltOp {
    const steps = [...this.steps];
    const owned = [...this.owned];
    return {
      label: this.label,
      encode: (pass) => {
        for (const s of steps) s(pass);
      },
      destroy: () => {
        for (const b of owned) b.destroy();
      },
    };
  }
}

const PASS1_BINDINGS = [
  ['params', 'uniform'],
  ['part', 'storage'],
  ['x4', 'read-only-storage'],
  ['xs', 'read-only-storage'],
  ['y4', 'read-only-storage'],
  ['ys', 'read-only-storage'],
  ['out1', 'storage'],
] as const;
const FINISH_BINDINGS = [
  ['params', 'uniform'],
  ['part', 'storage'],
  ['out', 'storage'],
] as const;

function checkReduceInput(what: string, x: VecRef): void {
  checkVec(what, x);
  if (x.length < 1) throw new RangeError(`${what}: a reduction needs at least one element, got ${x.length}`);
}

/** out ← Σ x_i·y_i, compensated (see the module comment for the error bound). */
export function dotOp(gpu: Gpu, x: VecRef, y: VecRef, out: ScalarRef, opts: ReduceOptions = {}): BuiltOp {
  checkReduceInput('dot: x', x);
  checkVec('dot: y', y);
  checkScalar('dot: out', out);
  if (x.length !== y.length) throw new RangeError(`dot: x has ${x.length} elements but y has ${y.length}`);
  // x and y may share a buffer, overlapping or not (x·x included): pass 1 only reads them.
  return new Reduction(gpu, 'dot', vecRange(x), vecRange(y), opts).partials('reduce_dot').finish({ out }).op();
}

/** out ← Σ x_i, compensated. */
export function sumOp(gpu: Gpu, x: VecRef, out: ScalarRef, opts: ReduceOptions = {}): BuiltOp {
  checkReduceInput('sum: x', x);
  checkScalar('sum: out', out);
  return new Reduction(gpu, 'sum', vecRange(x), undefined, opts).partials('reduce_sum').finish({ out }).op();
}

/** out ← (Σ x_i) / n, the division done in double-float before the one rounding. */
export function meanOp(gpu: Gpu, x: VecRef, out: ScalarRef, opts: ReduceOptions = {}): BuiltOp {
  checkReduceInput('mean: x', x);
  checkScalar('mean: out', out);
  return new Reduction(gpu, 'mean', vecRange(x), undefined, opts).partials('reduce_sum').finish({ out, count: x.length }).op();
}

function varianceCount(what: string, n: number, ddof: number | undefined): number {
  const d = ddof ?? 0;
  if (d !== 0 && d !== 1) throw new RangeError(`${what}: ddof must be 0 or 1, got ${String(ddof)}`);
  return n - d;
}

/**
 * out ← Σ (x_i − mean)² / (n − ddof), two-pass: the mean is computed first in double-float and
 * subtracted in double-float, so a large common offset (x = 1e4 + noise) costs no accuracy.
 * A length-1 vector gives 0, also with ddof = 1 (n − ddof = 0): no NaN, callers guard n.
 */
export function varianceOp(gpu: Gpu, x: VecRef, out: ScalarRef, opts: VarianceOptions = {}): BuiltOp {
  checkReduceInput('variance: x', x);
  checkScalar('variance: out', out);
  const count = varianceCount('variance', x.length, opts.ddof);
  return new Reduction(gpu, 'variance', vecRange(x), undefined, opts)
    .partials('reduce_sum')
    .finish({ count: x.length, keep: true })
    .partials('reduce_sqdev')
    .finish({ out, count })
    .op();
}

/**
 * outMean ← mean(x), outStd ← sqrt(variance(x, ddof)) + eps, for advantage normalization
 * (A − mean) / std. The std of a length-1 vector is 0 (+ eps) for ddof 0, and also for ddof 1
 * where it is undefined: we return 0 rather than NaN and leave the guard to callers (eps > 0,
 * or check n). Four dispatches, one op.
 */
export function meanStdOp(gpu: Gpu, x: VecRef, outMean: ScalarRef, outStd: ScalarRef, opts: MeanStdOptions = {}): BuiltOp {
  checkReduceInput('meanStd: x', x);
  checkScalar('meanStd: outMean', outMean);
  checkScalar('meanStd: outStd', outStd);
  const count = varianceCount('meanStd', x.length, opts.ddof);
  const xr = vecRange(x);
  if (outMean.buffer === x.buffer && outMean.index >= xr.start && outMean.index < xr.end) {
    // The mean is written before the second pass reads x again.
    throw new RangeError('meanStd: outMean lies inside x');
  }
  const eps = opts.eps ?? 0;
  if (!Number.isFinite(eps) || eps < 0) throw new RangeError(`meanStd: eps must be finite and ≥ 0, got ${eps}`);
  return new Reduction(gpu, 'mean-std', xr, undefined, opts)
    .partials('reduce_sum')
    .finish({ out: outMean, count: x.length, keep: true })
    .partials('reduce_sqdev')
    .finish({ out: outStd, count, sqrtPlusEps: eps })
    .op();
}
