/**
 * Float64 reference of the MLP over a flat parameter vector (tests only). Same layout as
 * src/kernels/mlp.ts: per layer W [outDim][inDim] row-major at wOffset, then b [outDim] at bOffset;
 * tanh on hidden layers, identity on the output layer. Arrays are sample-major ([batch][dim]).
 *
 * Every result comes with an error scale of the same shape: the same computation with every
 * operand replaced by its absolute value (and tanh' by its bound 1). A float32 evaluation that
 * sums K terms per step has an error of about u·sqrt(K)·scale (u = 2^-24 per rounding, random
 * signs), so tests compare |gpu − ref| against a multiple of ε·sqrt(K)·scale. Hidden activations
 * add 1 to their scale: tanh's own rounding error is absolute (≈ ε), not relative to its argument.
 */
import type { MlpLayout } from '../../src/nn/mlp.js';

type Vec = ArrayLike<number>;

export interface RefForward {
  /** [batch][out] */
  output: Float64Array;
  outputScale: Float64Array;
  /** h[l] = input of layer l, sample-major [batch][inDim]; h[0] is the network input. */
  h: Float64Array[];
  /** Error scale of h[l]. */
  hScale: Float64Array[];
}

export function refForward(layout: MlpLayout, theta: Vec, input: Vec, batch: number, thetaOffset = 0): RefForward {
  const in0 = layout.sizes[0]!;
  const h: Float64Array[] = [Float64Array.from({ length: batch * in0 }, (_, k) => input[k]!)];
  const hScale: Float64Array[] = [h[0]!.map(Math.abs)];
  const L = layout.layers.length;
  for (let l = 0; l < L; l++) {
    const { inDim, outDim, wOffset, bOffset } = layout.layers[l]!;
    const x = h[l]!;
    const xs = hScale[l]!;
    const y = new Float64Array(batch * outDim);
    const ys = new Float64Array(batch * outDim);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < outDim; o++) {
        const b = theta[thetaOffset + bOffset + o]!;
        let z = b;
        let zs = Math.abs(b);
        for (let i = 0; i < inDim; i++) {
          const w = theta[thetaOffset + wOffset + o * inDim + i]!;
          z += w * x[n * inDim + i]!;
          zs += Math.abs(w) * xs[n * inDim + i]!;
        }
        const hidden = l < L - 1;
        y[n * outDim + o] = hidden ? Math.tanh(z) : z;
        ys[n * outDim + o] = hidden ? zs + 1 : zs;
      }
    }
    h.push(y);
    hScale.push(ys);
  }
  return { output: h.pop()!, outputScale: hScale.pop()!, h, hScale };
}

export interface RefBackward {
  /** Σ over the batch of dL/dθ, in the parameter layout. */
  gradParams: Float64Array;
  gradParamsScale: Float64Array;
  /** [batch][in] */
  gradInput: Float64Array;
  gradInputScale: Float64Array;
}

/** Reverse mode: gradOutput is dL/doutput, [batch][out]. */
export function refBackward(layout: MlpLayout, theta: Vec, input: Vec, gradOutput: Vec, batch: number): RefBackward {
  const { h, hScale } = refForward(layout, theta, input, batch);
  const L = layout.layers.length;
  const gradParams = new Float64Array(layout.paramCount);
  const gradParamsScale = new Float64Array(layout.paramCount);
  const out = layout.sizes[L]!;
  // g = dL/dz of the current layer, [batch][outDim]; gs its error scale.
  let g = Float64Array.from({ length: batch * out }, (_, k) => gradOutput[k]!);
  let gs = g.map(Math.abs);
  for (let l = L - 1; l >= 0; l--) {
    const { inDim, outDim, wOffset, bOffset } = layout.layers[l]!;
    const x = h[l]!;
    const xs = hScale[l]!;
    const gx = new Float64Array(batch * inDim);
    const gxs = new Float64Array(batch * inDim);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < outDim; o++) {
        const go = g[n * outDim + o]!;
        const gos = gs[n * outDim + o]!;
        gradParams[bOffset + o]! += go;
        gradParamsScale[bOffset + o]! += gos;
        for (let i = 0; i < inDim; i++) {
          const w = theta[wOffset + o * inDim + i]!;
          gradParams[wOffset + o * inDim + i]! += go * x[n * inDim + i]!;
          gradParamsScale[wOffset + o * inDim + i]! += gos * xs[n * inDim + i]!;
          gx[n * inDim + i]! += go * w;
          gxs[n * inDim + i]! += gos * Math.abs(w);
        }
      }
    }
    if (l > 0) for (let k = 0; k < gx.length; k++) gx[k]! *= 1 - x[k]! * x[k]!;
    g = gx;
    gs = gxs;
  }
  return { gradParams, gradParamsScale, gradInput: g, gradInputScale: gs };
}

export interface RefJvp {
  /** [batch][out] */
  outputTangent: Float64Array;
  outputTangentScale: Float64Array;
}

/** Forward mode: output tangent [batch][out] = J_n · tangent, tangent in the parameter layout. */
export function refJvp(layout: MlpLayout, theta: Vec, input: Vec, tangent: Vec, batch: number): RefJvp {
  const { h, hScale } = refForward(layout, theta, input, batch);
  const L = layout.layers.length;
  let dh = new Float64Array(batch * layout.sizes[0]!);
  let dhs = new Float64Array(batch * layout.sizes[0]!);
  for (let l = 0; l < L; l++) {
    const { inDim, outDim, wOffset, bOffset } = layout.layers[l]!;
    const x = h[l]!;
    const xs = hScale[l]!;
    const dz = new Float64Array(batch * outDim);
    const dzs = new Float64Array(batch * outDim);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < outDim; o++) {
        const tb = tangent[bOffset + o]!;
        let s = tb;
        let ss = Math.abs(tb);
        for (let i = 0; i < inDim; i++) {
          const w = theta[wOffset + o * inDim + i]!;
          const t = tangent[wOffset + o * inDim + i]!;
          s += w * dh[n * inDim + i]! + t * x[n * inDim + i]!;
          ss += Math.abs(w) * dhs[n * inDim + i]! + Math.abs(t) * xs[n * inDim + i]!;
        }
        dz[n * outDim + o] = s;
        dzs[n * outDim + o] = ss;
      }
    }
    if (l < L - 1) {
      const y = h[l + 1]!;
      for (let k = 0; k < dz.length; k++) dz[k]! *= 1 - y[k]! * y[k]!;
    }
    dh = dz;
    dhs = dzs;
  }
  return { outputTangent: dh, outputTangentScale: dhs };
}
