/**
 * Parameter initialization in TS (it runs once per trainer): orthogonal weights with per-layer
 * gains and zero biases, as sb3's TRPO does (gain √2 on hidden layers, 0.01 on the policy output
 * so the initial policy is near-uniform, 1 on the value output). Deterministic from the seed.
 */
import { normal2 } from '../math/rng.js';

/** Stream ids for the init RNG, so policy and value get independent draws from one seed. */
export const INIT_STREAM = { policy: 0x1000, value: 0x2000 } as const;

/** An out×in row-major matrix with orthonormal rows (out ≤ in) or columns (out > in), times gain. */
export function orthogonal(out: number, inp: number, gain: number, seed: number, stream: number): Float64Array {
  const rows = Math.max(out, inp);
  const cols = Math.min(out, inp);
  // Gaussian rows×cols matrix, column-major for Gram-Schmidt.
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i += 2) {
    const [z0, z1] = normal2(seed, stream, i >> 1, 0x494e4954 /* 'INIT' */);
    a[i] = z0;
    if (i + 1 < a.length) a[i + 1] = z1;
  }
  // Modified Gram-Schmidt (twice, for orthogonality to machine precision).
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < cols; c++) {
      const col = a.subarray(c * rows, (c + 1) * rows);
      for (let p = 0; p < c; p++) {
        const prev = a.subarray(p * rows, (p + 1) * rows);
        let d = 0;
        for (let r = 0; r < rows; r++) d += col[r]! * prev[r]!;
        for (let r = 0; r < rows; r++) col[r] = col[r]! - d * prev[r]!;
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += col[r]! * col[r]!;
      norm = Math.sqrt(norm);
      for (let r = 0; r < rows; r++) col[r] = col[r]! / norm;
    }
  }
  const w = new Float64Array(out * inp);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) {
      // out > in: W = Q (columns orthonormal); out ≤ in: W = Qᵀ (rows orthonormal).
      w[o * inp + i] = gain * (out > inp ? a[i * rows + o]! : a[o * rows + i]!);
    }
  }
  return w;
}

/** Initial flat parameters of an MLP with sizes [in, hidden..., out] in the layout of mlpLayout. */
export function initMlp(sizes: readonly number[], outputGain: number, seed: number, stream: number): Float32Array {
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) count += sizes[l + 1]! * sizes[l]! + sizes[l + 1]!;
  const params = new Float32Array(count);
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inp = sizes[l]!;
    const out = sizes[l + 1]!;
    const gain = l + 2 === sizes.length ? outputGain : Math.SQRT2;
    params.set(orthogonal(out, inp, gain, seed, stream + l), off);
    off += out * inp + out; // biases stay 0
  }
  return params;
}
