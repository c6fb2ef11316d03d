/**
 * Float64 references for the reductions, accurate far beyond f32: sums are kept as an
 * unevaluated double-double (TwoSum in float64), so the reference error is about 2^-105 · Σ|x|
 * plus one float64 rounding, negligible next to an f32 ulp (2^-24 relative).
 */

/** Σ values as a double-double, rounded to the nearest float64. */
export function exactSum(values: ArrayLike<number>): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const s = hi + x;
    const bb = s - hi;
    lo += hi - (s - bb) + (x - bb);
    hi = s;
  }
  return hi + lo;
}

/** Σ x_i·y_i for f32 inputs: each product is exact in float64 (24 + 24 bits < 53). */
export function exactDot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < x.length; i++) {
    const p = x[i]! * y[i]!;
    const s = hi + p;
    const bb = s - hi;
    lo += hi - (s - bb) + (p - bb);
    hi = s;
  }
  return hi + lo;
}

/** Σ |x_i · y_i| (y omitted: Σ |x_i|), the scale of the absolute error term. */
export function sumAbs(x: ArrayLike<number>, y?: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! * (y ? y[i]! : 1));
  return s;
}

export function exactMean(x: ArrayLike<number>): number {
  return exactSum(x) / x.length;
}

/**
 * Σ (x_i − mean)² / (n − ddof), two-pass; the mean's float64 rounding (relative 2^-53) moves
 * the result by far less than an f32 ulp for any data we test.
 */
export function exactVariance(x: ArrayLike<number>, ddof: 0 | 1 = 0): number {
  const m = exactMean(x);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - m;
    const p = d * d;
    const s = hi + p;
    const bb = s - hi;
    lo += hi - (s - bb) + (p - bb);
    hi = s;
  }
  const count = x.length - ddof;
  return count === 0 ? 0 : (hi + lo) / count;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * The spacing of f32 values in the binade of |x| (x a float64): 2^(e − 23) for 2^e ≤ |x| < 2^(e+1),
 * and 2^-149 for subnormal and zero x.
 */
export function ulpF32(x: number): number {
  f64[0] = Math.abs(x);
  const e = ((u32[1]! >>> 20) & 0x7ff) - 1023;
  return 2 ** Math.max(e - 23, -149);
}

/** |got − ref| in f32 ulps of ref. */
export function ulpError(got: number, ref: number): number {
  return Math.abs(got - ref) / ulpF32(ref);
}
