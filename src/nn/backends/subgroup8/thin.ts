/**
 * Kernels for an MLP's thin output layer (a few outputs: a policy's logits or means, a value), on
 * the devices of the weight-stationary kernels (stationary.ts: subgroups of exactly 8).
 *
 * Why: the row-broadcast kernels give each of 8 lanes a row of W, so a layer of 1 or 2 rows
 * leaves most lanes computing clamped copies, and each lane still loads whole input rows. In the
 * Fisher-vector products at batch 16,384 the policy's 64 → 2 layer took a quarter of the time for
 * 3% of the arithmetic. Here the lanes split the layer's inputs instead: lane j keeps columns
 * 32i + 4j .. 32i + 4j + 3 of every row of W (rows·inDim/8 floats) for the whole dispatch, loads
 * the same columns of each sample's input, and subgroupAdd sums the lanes' partial dot products.
 * The deltas into the layer's input need no sum (lane j computes its own columns), and the
 * parameter gradient accumulates lane j's columns of ∂W over a chunk.
 *
 * Only the network's last layer, with at most THIN_MAX_ROWS outputs and inDim a multiple of 32:
 * its outputs and gradOutput are the user's buffers ([batch][outDim], read and written as
 * scalars), the activations are vec4 as in stationary.ts. Uniforms are MlpParams; a workgroup
 * is (parameter set, slice of the samples): g = pset·groupsPerSet + slice.
 */
import { MlpParams } from '../../mlp-params.js';
import { ENTRY, STATIONARY_LANES, declarations, holdLoop, range, type StationaryKind } from './stationary.js';

/** Most outputs a thin layer has (its per-sample sums are subgroupAdds, one per output). */
export const THIN_MAX_ROWS = 8;
/** Most floats of W (twice for the JVP) one lane keeps. */
const MAX_HELD = 128;

export interface ThinShape {
  kind: StationaryKind;
  /** The layer's outputs and inputs. */
  outDim: number;
  inDim: number;
  /**
   * The layer input is the network input: forward, JVP and gradient read `input`, and the deltas
   * are dL/dinput (no tanh'), written to `result`.
   */
  first: boolean;
}

/** Whether the thin kernels take a last layer of this shape. */
export function thinFits(kind: StationaryKind, outDim: number, inDim: number): boolean {
  const held = (outDim * inDim * (kind === 'jvp' ? 2 : 1)) / STATIONARY_LANES;
  return outDim <= THIN_MAX_ROWS && inDim % 32 === 0 && held <= MAX_HELD;
}

/** The workgroup's parameter set and slice of the samples; spare workgroups leave. */
const PROLOGUE = `
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.groups) { return; }
  let pset = g / p.groupsPerSet;
  let slice = g - pset * p.groupsPerSet;`;

/**
 * Lets `${name}${r}_${i}` = the lane's vec4 i of row r of a [rows][inDim] matrix at `base` (WGSL):
 * columns 32i + 4·lane .. + 3.
 */
const holdColumns = (name: string, rows: number, inDim: number, buffer: string, base: string): string =>
  holdLoop(name, rows, inDim / 32, 'vec4<f32>', (r, i) => {
    const at = `${base} + ${r} * ${inDim}u + ${i} * 32u + 4u * lane`;
    return `vec4<f32>(${range(4)
      .map((k) => `${buffer}[${at} + ${k}u]`)
      .join(', ')})`;
  });

/** Lets `${name}${i}` = the lane's vec4s of sample `n`'s row of width inDim, vec4 array `buffer` from vec4 `base`. */
const loadColumns = (name: string, inDim: number, buffer: string, base: string, n: string) =>
  range(inDim / 32)
    .map((i) => `      let ${name}${i} = ${buffer}[${base} + ${n} * ${inDim / 4}u + ${8 * i}u + lane];`)
    .join('\n');

/** Σ over the lane's columns of row r: `terms(r, i)` summed over i. */
const partial = (K: number, r: number, terms: (r: number, i: number) => string) => range(K).map((i) => terms(r, i)).join(' + ');

/**
 * forward / jvp: for each sample of the slice, every lane's partial sums of the rows, subgroupAdd,
 * and lane q keeps sample base + q's outputs, stored once per 8 samples.
 */
function outputs(s: ThinShape): string {
  const { kind, outDim: rows, inDim, first } = s;
  const K = inDim / 32;
  const jvp = kind === 'jvp';
  const x = first ? 'input' : 'acts';
  const xBase = first ? '0u' : jvp ? 'p.hBase / 4u' : '(p.xBase + pset * p.xSetStride) / 4u';
  // y = W x + b; ẏ = W ẋ + Ẇ x + ḃ (ẋ = 0 for the first layer).
  const term = (r: number, i: number) => (jvp ? `${first ? '' : `dot(w${r}_${i}, u${i}) + `}dot(v${r}_${i}, x${i})` : `dot(w${r}_${i}, x${i})`);
  const out = jvp ? 'outputTangent' : 'output';
  const yBase = jvp ? '0u' : 'p.yBase + pset * p.ySetStride';
  return `${ENTRY}${PROLOGUE}
${holdColumns('w', rows, inDim, 'theta', jvp ? 'p.wBase' : 'p.wBase + pset * p.paramStride')}
${jvp ? holdColumns('v', rows, inDim, 'tangent', 'p.w2Base') : ''}
${range(rows)
  .map((r) => `  let b${r} = ${jvp ? `tangent[p.b2Base + ${r}u]` : `theta[p.bBase + pset * p.paramStride + ${r}u]`};`)
  .join('\n')}
  let xb = ${xBase};
  let yb = ${yBase};
  for (var base = slice * 8u; base < p.batch; base += p.chunks * 8u) {
${range(rows)
  .map((r) => `    var o${r} = 0.0;`)
  .join('\n')}
    for (var q = 0u; q < 8u; q++) {
      if (base + q >= p.batch) { break; }
${loadColumns('x', inDim, x, 'xb', '(base + q)')}
${jvp && !first ? loadColumns('u', inDim, 'dacts', 'p.xBase / 4u', '(base + q)') : ''}
${range(rows)
  .map((r) => `      let t${r} = subgroupAdd(${partial(K, r, term)});\n      o${r} = select(o${r}, t${r} + b${r}, lane == q);`)
  .join('\n')}
    }
    let n = base + lane;
    if (n < p.batch) {
${range(rows)
  .map((r) => `      ${out}[yb + n * ${rows}u + ${r}u] = o${r};`)
  .join('\n')}
    }
  }
}`;
}

/** delta: lane j's columns of Wᵀ g for each sample (times 1 − h², or dL/dinput for a first layer). */
function delta(s: ThinShape): string {
  const { outDim: rows, inDim, first } = s;
  const K = inDim / 32;
  const store = first
    ? (i: number) => `      result[n * ${inDim / 4}u + ${8 * i}u + lane] = d${i};`
    : (i: number) =>
        `      let h${i} = acts[p.hBase / 4u + n * ${inDim / 4}u + ${8 * i}u + lane];\n      deltas[p.yBase / 4u + n * ${inDim / 4}u + ${8 * i}u + lane] = d${i} * (vec4<f32>(1.0) - h${i} * h${i});`;
  return `${ENTRY}${PROLOGUE}
${holdColumns('w', rows, inDim, 'theta', 'p.wBase')}
  for (var base = slice * 8u; base < p.batch; base += p.chunks * 8u) {
    let own = min(base + lane, p.batch - 1u);
${range(rows)
  .map((r) => `    let g${r} = gradOutput[own * ${rows}u + ${r}u];`)
  .join('\n')}
    for (var q = 0u; q < 8u; q++) {
      if (base + q >= p.batch) { break; }
      let n = base + q;
${range(rows)
  .map((r) => `      let s${r} = subgroupShuffle(g${r}, q);`)
  .join('\n')}
${range(K)
  .map((i) => `      let d${i} = ${range(rows)
    .map((r) => `s${r} * w${r}_${i}`)
    .join(' + ')};\n${store(i)}`)
  .join('\n')}
    }
  }
}`;
}

/** grad: lane j's columns of ∂W = Σ_n g[n] x[n]ᵀ over the chunk, and ∂b (every lane has it; lane 0 writes). */
function grad(s: ThinShape): string {
  const { outDim: rows, inDim, first } = s;
  const K = inDim / 32;
  const x = first ? 'input' : 'acts';
  const xBase = first ? '0u' : 'p.hBase / 4u';
  return `${ENTRY}${PROLOGUE}
${range(rows)
  .flatMap((r) => [...range(K).map((i) => `  var d${r}_${i} = vec4<f32>();`), `  var e${r} = 0.0;`])
  .join('\n')}
  let end = min(p.batch, (slice + 1u) * p.chunkLen);
  for (var base = slice * p.chunkLen; base < end; base += 8u) {
    let own = min(base + lane, end - 1u);
${range(rows)
  .map((r) => `    let g${r} = gradOutput[own * ${rows}u + ${r}u];`)
  .join('\n')}
    for (var q = 0u; q < 8u; q++) {
      if (base + q >= end) { break; }
${range(rows)
  .map((r) => `      let s${r} = subgroupShuffle(g${r}, q);`)
  .join('\n')}
${loadColumns('x', inDim, x, xBase, '(base + q)')}
${range(rows)
  .flatMap((r) => [`      e${r} += s${r};`, ...range(K).map((i) => `      d${r}_${i} += s${r} * x${i};`)])
  .join('\n')}
    }
  }
  let pb = slice * p.paramCount;
${range(rows)
  .flatMap((r) => range(K).map((i) => range(4).map((k) => `  result[pb + p.wBase + ${r * inDim + 32 * i + k}u + 4u * lane] = d${r}_${i}[${k}];`).join('\n')))
  .join('\n')}
  if (lane == 0u) {
${range(rows)
  .map((r) => `    result[pb + p.bBase + ${r}u] = e${r};`)
  .join('\n')}
  }
}`;
}

/** The WGSL module of one thin-layer kernel (entry point `main`). */
export function thinWgsl(s: ThinShape): string {
  const body = { forward: outputs, jvp: outputs, delta, grad }[s.kind](s);
  // The user's per-sample outputs (and gradOutput) and the parameters are scalars, activations
  // vec4; dL/dinput (the deltas of a one-layer network) is [batch][inDim], vec4.
  const scalars = new Set(['theta', 'tangent', 'output', 'outputTangent', 'gradOutput', ...(s.kind === 'grad' ? ['result'] : [])]);
  return ['enable subgroups;', MlpParams.wgsl(), declarations(s.kind, scalars), body].join('\n');
}
