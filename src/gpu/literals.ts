/** Numbers written into generated WGSL. */

/** A WGSL f32 literal of `v` rounded to f32 (±Infinity as ±f32::MAX, which WGSL can spell). */
export function f32Literal(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '3.4028234e38' : '-3.4028234e38';
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}
