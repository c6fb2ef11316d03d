/**
 * Flat f32 vector ops for conjugate gradient and friends, built once as Ops: fill, copy, scale,
 * axpy, xpby, and a guarded scalar divide. Vectors and scalars are views into storage buffers,
 * so a CG workspace can keep all its vectors and scalars in a few buffers.
 *
 * Results are the plain f32 expressions, rounded per operation: y + fl(alpha·x) for axpy,
 * x + fl(beta·y) for xpby, fl(alpha·y) for scale, with alpha = fl(times·scalar) for GPU scalars
 * (fl(times·q), q = fl(scalar / over) guarded as divideOp, for a ratio) and a number alpha (or
 * times) rounded to f32 when the op is built. The product is rounded even
 * where a driver would fuse it into an fma (see vec_ops.wgsl), so results are bit-identical to
 * Math.fround arithmetic on every driver.
 */
import { Kernel, StructLayout, wgsl, type Gpu, type Op } from '../gpu/index.js';
import vecOpsWgsl from './vec_ops.wgsl?raw';

/** A contiguous run of f32 elements: buffer[offset .. offset + length). Offsets count elements. */
export interface VecRef {
  buffer: GPUBuffer;
  offset?: number;
  length: number;
}

/** One f32 element of a storage buffer, e.g. a CG scalar that never leaves the GPU. */
export interface ScalarRef {
  buffer: GPUBuffer;
  index: number;
}

/**
 * A multiplier: a number fixed when the op is built, or times·scalar read when the op runs, or
 * times·(scalar / over) with divideOp's guard (0 when over is ±0 or the quotient not finite).
 */
export type Alpha = number | { scalar: ScalarRef; times?: number; over?: ScalarRef };

/** An Op that owns GPU objects (uniforms, scratch); destroy() frees them. */
export interface BuiltOp extends Op {
  destroy(): void;
}

export interface VecOpOptions {
  /** Invocations per workgroup (power of two). Default 256. */
  workgroupSize?: number;
  /** Upper bound on workgroups per dispatch; invocations loop over the rest. Default 1024. */
  maxWorkgroups?: number;
}

/**
 * Uniforms of vec_copy, vec_scale, vec_axpy and vec_xpby: y[yBase + i] for i < n, x at xBase, the
 * GPU scalar at sBase and its divisor at dBase (element indices in their slots), and alpha the
 * multiplier (alpha of scale and axpy, beta of xpby; `times` where a GPU scalar is the alpha).
 * vec_copy reads n, yBase and xBase.
 */
export const VecParams = new StructLayout('VecParams', [
  ['n', 'u32'],
  ['yBase', 'u32'],
  ['xBase', 'u32'],
  ['sBase', 'u32'],
  ['dBase', 'u32'],
  ['alpha', 'f32'],
  // Always 1.0; see vec_ops.wgsl for why it is not a literal.
  ['one', 'f32'],
] as const);

/** Uniforms of vec_fill: y[yBase + i] ← value for i < n. */
export const VecFillParams = new StructLayout('VecFillParams', [
  ['n', 'u32'],
  ['yBase', 'u32'],
  ['value', 'f32'],
] as const);

/** Uniforms of scalar_divide: out ← num / den, each an element index in its slot. */
export const ScalarDivideParams = new StructLayout('ScalarDivideParams', [
  ['outBase', 'u32'],
  ['numBase', 'u32'],
  ['denBase', 'u32'],
] as const);

/** The uniform binding of each entry point: its name in vec_ops.wgsl and its struct. */
const VEC_UNIFORMS = {
  vec_fill: 'fillParams',
  vec_copy: 'params',
  vec_scale: 'params',
  vec_axpy: 'params',
  vec_xpby: 'params',
  scalar_divide: 'divideParams',
} as const;

/** An operand range in elements, [start, end), of one buffer. */
export interface Operand {
  buffer: GPUBuffer;
  start: number;
  end: number;
}

export interface SlotBinding {
  /** Slot (binding s0, s1, ...) of each operand. */
  slot: number[];
  /** Element index of each operand's start inside its slot's binding. */
  base: number[];
  /** One binding per slot; unused slots get a private dummy buffer. */
  resources: GPUBufferBinding[];
}

export function vecRange(v: VecRef): Operand {
  const start = v.offset ?? 0;
  return { buffer: v.buffer, start, end: start + v.length };
}

export function scalarRange(s: ScalarRef): Operand {
  return { buffer: s.buffer, start: s.index, end: s.index + 1 };
}

export function checkVec(what: string, v: VecRef): void {
  const off = v.offset ?? 0;
  if (!Number.isInteger(off) || off < 0) throw new RangeError(`${what}: offset must be a non-negative integer, got ${off}`);
  if (!Number.isInteger(v.length) || v.length < 0) {
    throw new RangeError(`${what}: length must be a non-negative integer, got ${v.length}`);
  }
  if ((off + v.length) * 4 > v.buffer.size) {
    throw new RangeError(`${what}: elements [${off}, ${off + v.length}) exceed buffer '${v.buffer.label}' of ${v.buffer.size} bytes`);
  }
}

export function checkScalar(what: string, s: ScalarRef): void {
  if (!Number.isInteger(s.index) || s.index < 0 || (s.index + 1) * 4 > s.buffer.size) {
    throw new RangeError(`${what}: index ${s.index} is outside buffer '${s.buffer.label}' of ${s.buffer.size} bytes`);
  }
}

const overlaps = (a: Operand, b: Operand): boolean => a.buffer === b.buffer && a.start < b.end && b.start < a.end;
const sameRange = (a: Operand, b: Operand): boolean => a.buffer === b.buffer && a.start === b.start && a.end === b.end;

/**
 * Binds each distinct buffer once, as a range covering all its operands (offset aligned down to
 * the device's storage offset alignment), because two bindings of one buffer where one is
 * writable are a usage or aliasing error. Operands keep their order: the first is in slot 0.
 */
export function bindOperands(gpu: Gpu, label: string, operands: ReadonlyArray<Operand>, slots: number): SlotBinding {
  const buffers: GPUBuffer[] = [];
  const slot = operands.map((o) => {
    let k = buffers.indexOf(o.buffer);
    if (k < 0) k = buffers.push(o.buffer) - 1;
    return k;
  });
  if (buffers.length > slots) throw new Error(`${label}: ${buffers.length} buffers but only ${slots} slots`);
  const align = gpu.limits.minStorageBufferOffsetAlignment;
  const resources: GPUBufferBinding[] = [];
  const firstElement: number[] = [];
  buffers.forEach((buffer, k) => {
    const mine = operands.filter((_, i) => slot[i] === k);
    const start = Math.min(...mine.map((o) => o.start));
    const end = Math.max(...mine.map((o) => o.end));
    const offset = Math.floor((start * 4) / align) * align;
    const size = Math.min(Math.max(4, end * 4 - offset), buffer.size - offset);
    if (size > gpu.limits.maxStorageBufferBindingSize) {
      throw new RangeError(`${label}: operands in '${buffer.label}' span ${size} bytes, over the ${gpu.limits.maxStorageBufferBindingSize}-byte binding limit`);
    }
    resources.push({ buffer, offset, size });
    firstElement.push(offset / 4);
  });
  for (let k = buffers.length; k < slots; k++) {
    // Each unused slot needs its own buffer: one dummy bound twice would alias writably.
    resources.push({ buffer: gpu.memo(`vec/unused-slot-${k}`, () => gpu.buffer(`vec/unused-slot-${k}`, 16, GPUBufferUsage.STORAGE)) });
  }
  return { slot, base: operands.map((o, i) => o.start - firstElement[slot[i]!]!), resources };
}

type VecEntry = 'vec_fill' | 'vec_copy' | 'vec_scale' | 'vec_axpy' | 'vec_xpby' | 'scalar_divide';

function alphaParts(what: string, a: Alpha): { value: number; scalar?: ScalarRef; over?: ScalarRef } {
  if (typeof a === 'number') {
    if (!Number.isFinite(a)) throw new RangeError(`${what}: alpha must be finite, got ${a}`);
    return { value: a };
  }
  const times = a.times ?? 1;
  if (!Number.isFinite(times)) throw new RangeError(`${what}: times must be finite, got ${times}`);
  checkScalar(what, a.scalar);
  if (a.over) checkScalar(`${what}: over`, a.over);
  return { value: times, scalar: a.scalar, over: a.over };
}

/**
 * Builds one op of vec_ops.wgsl. `y` is written; `x` (optional) and the scalar are read. Rejects
 * a partly overlapping x (elements would race) and a scalar inside y (read while written).
 */
function buildVecOp(
  gpu: Gpu,
  entry: VecEntry,
  y: Operand,
  x: Operand | undefined,
  alpha: { value: number; scalar?: ScalarRef; over?: ScalarRef },
  opts: VecOpOptions,
): BuiltOp {
  const label = entry.replace('_', '-');
  const n = y.end - y.start;
  if (x && overlaps(x, y) && !sameRange(x, y)) throw new RangeError(`${label}: x and y partly overlap`);
  const s = alpha.scalar ? scalarRange(alpha.scalar) : undefined;
  if (s && entry !== 'scalar_divide' && overlaps(s, y)) throw new RangeError(`${label}: the scalar lies inside y, which the op writes`);
  const d = alpha.over ? scalarRange(alpha.over) : undefined;
  if (d && overlaps(d, y)) throw new RangeError(`${label}: the divisor lies inside y, which the op writes`);
  if (n === 0) return { label, encode: () => {}, destroy: () => {} };

  const wg = opts.workgroupSize ?? 256;
  if (!Number.isInteger(Math.log2(wg))) throw new RangeError(`${label}: workgroupSize must be a power of two, got ${wg}`);
  const ops: Operand[] = [y, x ?? y, s ?? y, d ?? y];
  const b = bindOperands(gpu, label, ops, 4);
  const single = entry === 'scalar_divide';
  const constants: Record<string, number> = {};
  if (!single) constants.WG = wg;
  if (entry === 'vec_copy' || entry === 'vec_axpy' || entry === 'vec_xpby' || single) constants.X_SLOT = b.slot[1]!;
  if (s) constants.S_SLOT = b.slot[2]!;
  if (entry === 'vec_scale' || entry === 'vec_axpy' || entry === 'vec_xpby') {
    constants.ALPHA_SCALAR = s ? 1 : 0;
    constants.ALPHA_RATIO = d ? 1 : 0;
    if (d) constants.D_SLOT = b.slot[3]!;
  }
  const uniform = VEC_UNIFORMS[entry];
  const kernel = Kernel.get<string>(gpu, {
    label: 'vec-ops',
    code: wgsl(VecParams.wgsl(), VecFillParams.wgsl(), ScalarDivideParams.wgsl(), vecOpsWgsl),
    entryPoint: entry,
    bindings: [
      [uniform, 'uniform'],
      ['s0', 'storage'],
      ['s1', 'storage'],
      ['s2', 'storage'],
      ['s3', 'storage'],
    ],
    constants,
  });
  const [yBase, xBase, sBase, dBase] = b.base as [number, number, number, number];
  const bytes =
    entry === 'vec_fill'
      ? VecFillParams.pack({ n, yBase, value: alpha.value })
      : entry === 'scalar_divide'
        ? ScalarDivideParams.pack({ outBase: yBase, numBase: xBase, denBase: sBase })
        : VecParams.pack({ n, yBase, xBase, sBase, dBase, alpha: alpha.value, one: 1 });
  const params = gpu.uniform(`${label}/params`, bytes);
  const [s0, s1, s2, s3] = b.resources as [GPUBufferBinding, GPUBufferBinding, GPUBufferBinding, GPUBufferBinding];
  const group = kernel.bind({ [uniform]: params, s0, s1, s2, s3 }, label);
  const groups = single ? 1 : Math.min(Math.ceil(n / wg), opts.maxWorkgroups ?? 1024, gpu.limits.maxComputeWorkgroupsPerDimension);
  return {
    label,
    encode: (pass) => kernel.dispatch(pass, group, groups),
    destroy: () => params.destroy(),
  };
}

/** y ← value. */
export function fillOp(gpu: Gpu, y: VecRef, value: number, opts: VecOpOptions = {}): BuiltOp {
  checkVec('fill: y', y);
  if (Number.isNaN(value)) {
    // The uniform packer refuses NaN (it guards against missing fields); NaN fills are for tests.
    throw new RangeError('fill: value must not be NaN');
  }
  return buildVecOp(gpu, 'vec_fill', vecRange(y), undefined, { value }, opts);
}

/** y ← x (same length). */
export function copyOp(gpu: Gpu, x: VecRef, y: VecRef, opts: VecOpOptions = {}): BuiltOp {
  checkPair('copy', x, y);
  return buildVecOp(gpu, 'vec_copy', vecRange(y), vecRange(x), { value: 0 }, opts);
}

/** y ← alpha·y. */
export function scaleOp(gpu: Gpu, y: VecRef, alpha: Alpha, opts: VecOpOptions = {}): BuiltOp {
  checkVec('scale: y', y);
  return buildVecOp(gpu, 'vec_scale', vecRange(y), undefined, alphaParts('scale', alpha), opts);
}

/** y ← y + alpha·x, e.g. r ← r − α·Ap with alpha = { scalar: α, times: -1 }. */
export function axpyOp(gpu: Gpu, y: VecRef, x: VecRef, alpha: Alpha, opts: VecOpOptions = {}): BuiltOp {
  checkPair('axpy', x, y);
  return buildVecOp(gpu, 'vec_axpy', vecRange(y), vecRange(x), alphaParts('axpy', alpha), opts);
}

/** y ← x + beta·y: the CG direction update p ← r + β·p. */
export function xpbyOp(gpu: Gpu, y: VecRef, x: VecRef, beta: ScalarRef | Alpha, opts: VecOpOptions = {}): BuiltOp {
  checkPair('xpby', x, y);
  const b: Alpha = typeof beta === 'object' && 'buffer' in beta ? { scalar: beta } : beta;
  return buildVecOp(gpu, 'vec_xpby', vecRange(y), vecRange(x), alphaParts('xpby', b), opts);
}

/**
 * out ← num / den, with a guard: out = 0 when den is ±0 or when the quotient is not finite
 * (overflow, or a NaN/infinite input). In CG this turns a breakdown (pᵀAp = 0, or rᵀr = 0 at
 * convergence) into a zero step instead of NaNs that would poison every later iteration.
 * out may be the same element as num or den.
 */
export function divideOp(gpu: Gpu, out: ScalarRef, num: ScalarRef, den: ScalarRef): BuiltOp {
  checkScalar('divide: out', out);
  checkScalar('divide: num', num);
  checkScalar('divide: den', den);
  return buildVecOp(gpu, 'scalar_divide', scalarRange(out), scalarRange(num), { value: 0, scalar: den }, {});
}

function checkPair(what: string, x: VecRef, y: VecRef): void {
  checkVec(`${what}: x`, x);
  checkVec(`${what}: y`, y);
  if (x.length !== y.length) throw new RangeError(`${what}: x has ${x.length} elements but y has ${y.length}`);
}
