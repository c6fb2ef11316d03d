/**
 * Weight-stationary kernels for the Gauss-Newton product Jᵀ M J v through a precomputed output
 * Jacobian, generated per layer shape (the design and the helpers of stationary.ts).
 *
 * Why: with forward mode, J v costs two matrix products per hidden layer (W ẋ and Ẇ x) and Jᵀ(·)
 * two more (Wᵀ δ and the outer product for ∂W), about four forward passes per Fisher-vector
 * product. But the network's outputs are few (a policy's logits or means: D ≤ 8), and J is the
 * same for every product of a conjugate-gradient run. So once per run we keep, per sample n and
 * hidden layer l, G_{n,l} = ∂out_n / ∂z_{n,l} (D × width_l; the backward deltas of the unit
 * gradients e_j, one backward pass per output), and then
 *
 *   J_n v    = Ẇ_L a_{n,L-1} + ḃ_L + Σ_l G_{n,l} (Ẇ_l a_{n,l-1} + ḃ_l)
 *   Jᵀ g     : ∂W_l = Σ_n (G_{n,l}ᵀ g_n) a_{n,l-1}ᵀ,   ∂b_l = Σ_n G_{n,l}ᵀ g_n
 *
 * which is one matrix product per layer each way: about half the arithmetic of forward mode, and
 * the same F v up to the order of the sums (tests compare both with float64).
 *
 * `tangent` kernel (jvp bindings): lane j holds R rows of Ẇ_l; samples stream past as in the
 * forward kernel; the lane's R values of Ẇ_l a + ḃ_l are dotted with its R entries of each row of
 * G_{n,l} and subgroupAdd sums the lanes, so one workgroup must hold all the layer's rows
 * (rowBlocks = 1): lane 0 then adds the D sums to outputTangent[n], which the output layer's
 * kernel wrote first. `cotangent` kernel (backward bindings): the parameter-gradient kernel of
 * stationary.ts with the deltas G_{n,l}ᵀ g_n formed on the fly from gradOutput (g, [N][D]).
 *
 * G lives in `dacts` / `deltas` in the layout of the activations, output j's copy at
 * p.yBase + j·p.ySetStride (p.yBase: layer l's offset in that layout). A first layer whose input
 * width is not a multiple of 4 (Pendulum's 3) reads the input as scalars, padded with zeros.
 */
import { MlpParams } from '../../mlp-params.js';
import { ENTRY, PROLOGUE, STATIONARY_LANES, accumulateGrad, bindingDeclarations, holdLoop, quad, range, streamSamples, sums, type Streamed } from './stationary.js';

export interface JacobianShape {
  kind: 'tangent' | 'cotangent';
  /** The layer's outputs (held rows) and inputs. */
  rows: number;
  inDim: number;
  R: 4 | 8;
  /** The layer input is the network input. */
  first: boolean;
  /** The network's outputs D. */
  outputs: number;
}

/** The most network outputs the kernels take (one subgroupAdd each per sample). */
export const JACOBIAN_MAX_OUTPUTS = 8;

const ceil4 = (n: number) => Math.ceil(n / 4) * 4;

/** The streamed layer input: hidden activations as vec4, or the network input (padded if need be). */
function layerInput(s: JacobianShape): Streamed {
  const C = ceil4(s.inDim) / 4;
  if (!s.first) return { name: 'x', shuffled: 's', load: (c) => `acts[p.hBase / 4u + n * ${C}u + ${c}u]` };
  if (s.inDim % 4 === 0) return { name: 'x', shuffled: 's', load: (c) => `input[n * ${C}u + ${c}u]` };
  return {
    name: 'x',
    shuffled: 's',
    load: (c) => `vec4<f32>(${range(4)
      .map((k) => (4 * c + k < s.inDim ? `input[n * ${s.inDim}u + ${4 * c + k}u]` : '0.0'))
      .join(', ')})`,
  };
}

/** Offset (vec4) of vec4 k of the lane's rows of output j's G for sample base + q. */
const gAt = (rows: number, j: number, k: number) => `(p.yBase + ${j}u * p.ySetStride + (base + q) * ${rows}u + row0) / 4u + ${k}u`;

function tangent(s: JacobianShape): string {
  const { R, rows, inDim, outputs: D } = s;
  const C = ceil4(inDim) / 4;
  // Rows of Ẇ, zero-padded past inDim (the padded input is zero there too).
  const held = holdLoop('w', R, C, 'vec4<f32>', (r, c) => `vec4<f32>(${range(4)
    .map((k) => {
      const col = `(${c} * 4u + ${k}u)`;
      const load = `tangent[p.w2Base + (row0 + ${r}) * ${inDim}u + ${col}]`;
      return inDim % 4 === 0 ? load : `select(0.0, ${load}, ${col} < ${inDim}u)`;
    })
    .join(', ')})`);
  return `${ENTRY}${PROLOGUE(R)}
${held}
${range(R)
  .map((r) => `  let b${r} = tangent[p.b2Base + row0 + ${r}u];`)
  .join('\n')}
${streamSamples(
  C,
  [layerInput(s)],
  { start: 'slice * 8u', end: 'p.batch', step: 'p.chunks * 8u' },
  [
    sums(R, C, (r) => `b${r}`, (r, c) => `dot(w${r}_${c}, s${c})`),
    ...range(D).map(
      (j) => `      let c${j} = subgroupAdd(${range(R / 4)
        .map((k) => `dot(${quad('a', k)}, dacts[${gAt(rows, j, k)}])`)
        .join(' + ')});`,
    ),
    `      if (lane == 0u) {`,
    ...range(D).map((j) => `        outputTangent[(base + q) * ${D}u + ${j}u] += c${j};`),
    `      }`,
  ].join('\n'),
)}
}`;
}

function cotangent(s: JacobianShape): string {
  const { R, rows, inDim, outputs: D } = s;
  const C = ceil4(inDim) / 4;
  // δ = G_{n,l}ᵀ g_n for the lane's rows, vec4 k of them.
  const delta = (k: number) =>
    `(${range(D)
      .map((j) => `gradOutput[(base + q) * ${D}u + ${j}u] * deltas[${gAt(rows, j, k)}]`)
      .join(' + ')})`;
  // Columns past an unaligned input's width are padding: not stored (they are the next row's).
  const store = (k: number) => {
    const st = `result[at + ${k}u] = held[i][${k}];`;
    return inDim % 4 === 0 ? st : `if ((i % ${C}u) * 4u + ${k}u < ${inDim}u) { ${st} }`;
  };
  return `${ENTRY}${PROLOGUE(R)}
${range(R)
  .flatMap((r) => range(C).map((c) => `  var d${r}_${c} = vec4<f32>();`))
  .join('\n')}
${range(R)
  .map((r) => `  var e${r} = 0.0;`)
  .join('\n')}
  let end = min(p.batch, (slice + 1u) * p.chunkLen);
${streamSamples(C, [layerInput(s)], { start: 'slice * p.chunkLen', end: 'end', step: '8u' }, accumulateGrad(R, C, delta))}
  var held: array<vec4<f32>, ${R * C}>;
${range(R)
  .flatMap((r) => range(C).map((c) => `  held[${r * C + c}u] = d${r}_${c};`))
  .join('\n')}
  let pb = slice * p.paramCount + p.wBase;
  for (var i = 0u; i < ${R * C}u; i++) {
    let at = pb + (row0 + i / ${C}u) * ${inDim}u + (i % ${C}u) * 4u;
${range(4)
  .map((k) => `    ${store(k)}`)
  .join('\n')}
  }
${range(R)
  .map((r) => `  result[slice * p.paramCount + p.bBase + row0 + ${r}u] = e${r};`)
  .join('\n')}
}`;
}

/** The WGSL module of one kernel (entry point `main`). */
export function jacobianWgsl(s: JacobianShape): string {
  if (s.outputs < 1 || s.outputs > JACOBIAN_MAX_OUTPUTS) throw new Error(`jacobian kernels: ${s.outputs} outputs, allowed 1..${JACOBIAN_MAX_OUTPUTS}`);
  if (s.rows !== STATIONARY_LANES * s.R) throw new Error(`jacobian kernels: ${s.rows} rows need one workgroup of ${STATIONARY_LANES} lanes × R = ${s.R}`);
  const tangentKind = s.kind === 'tangent';
  // Parameters, the network's per-sample outputs and (for the gradient) its partial sums are
  // scalars; activations and G vec4; an unaligned network input scalars.
  const scalars = new Set(['theta', 'tangent', 'outputTangent', 'gradOutput', ...(tangentKind ? [] : ['result'])]);
  if (s.first && s.inDim % 4 !== 0) scalars.add('input');
  const body = tangentKind ? tangent(s) : cotangent(s);
  return ['enable subgroups;', MlpParams.wgsl(), bindingDeclarations(tangentKind ? 'jvp' : 'backward', scalars), body].join('\n');
}
