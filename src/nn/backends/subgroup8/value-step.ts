/**
 * The value fit's minibatch gradient as one weight-stationary kernel (the design of
 * stationary.ts, applied to value_step.wgsl's value_grad), generated per network shape.
 *
 * Why: at the minibatch sizes of the value fit (128–256 samples) the row-broadcast value_grad_sg
 * spends most of a step on arithmetic held back by per-lane weight loads, which the MLP's
 * stationary kernels avoid (docs/performance-log.md).
 * Here a workgroup is one subgroup of 8 lanes and takes a chunk of the minibatch through the
 * whole network in phases separated by barriers: each lane holds R rows of a layer's W (for the
 * forward pass), R columns (for the backward deltas) or R rows of ∂W (for the gradient), and the
 * chunk's samples stream past 8 at a time with subgroupShuffle. The output layer (one unit) runs
 * sample by sample, the lanes splitting its inputs and subgroupAdd summing V. The chunk's gradient
 * goes to one of two slots in the parameter layout, alternating by minibatch.
 *
 * Adam is fused in: before its gradient, each workgroup applies Adam's step on the previous
 * minibatch's gradient (the sum of every chunk's, in the other slot) to its own replica of the
 * state [θ | m | v] (in `acts`, vec4s of 4 parameters), and reads its weights from that replica.
 * Replicas (identical, each written only by its own workgroup) instead of one shared state
 * because workgroups of a dispatch cannot wait for each other: whoever wrote θ would race with
 * whoever still reads it.
 * A minibatch is then one step of one kernel instead of two dispatches, for an Adam step over
 * the P parameters per workgroup (~1/10 of a 64-sample chunk's arithmetic). A dispatch takes
 * p.steps minibatches one after the other, with a barrier between them: all of the fit's where
 * one workgroup takes whole minibatches (the default, value-fit.ts: a dispatch has a fixed cost
 * on lavapipe whatever it does), one where a minibatch is split across workgroups. The first
 * minibatch of a fit (its counter c is 0) copies theta and moments into the replica instead; the
 * entry point `last` applies the last step and writes theta and moments.
 *
 * A network shape's kernel takes lavapipe 31–37 s to compile on a cold shader cache (28 s before
 * the minibatch loop; each 64 × 64 phase 2–3 s alone; LLVM's time grows faster than the
 * function); Mesa caches it on disk.
 *
 * Layout of `acts` (vec4), per chunk of p.chunkSize samples: for each layer's input (the observation,
 * zero-padded to a multiple of 4, then each hidden layer's tanh output) a block [CHUNK][width],
 * then for each hidden layer a block of ∂loss/∂z in the same shape. Samples past the minibatch
 * (in its last chunk, rounded up to 8) repeat its last sample with a zero loss gradient. After
 * the chunks: two gradient slots [2][chunks][⌈P/4⌉] at p.partialBase and the replicas
 * [chunks][θ | m | v][⌈P/4⌉] at p.replicaBase (value-fit.ts sizes them).
 */
import valueAdamWgsl from '../../adam.wgsl?raw';
import { VALUE_MAX_LAYERS, ValueStepParams } from '../../value-step-params.js';
import { STATIONARY_LANES, accumulateGrad, each, holdRows, quad, range, stationaryRows, streamSamples, sums } from './stationary.js';

export interface ValueGradStationaryShape {
  /**
   * Layer sizes [obsDim, hidden..., 1]. The code depends on the observation's size only through
   * its padding to a multiple of 4: the size itself (p.obsDim) and the layers' offsets in the
   * parameters (the layer table) are uniforms, so networks that differ only there (CartPole's 4
   * inputs, Pendulum's 3) share one kernel, and one compile. The samples per workgroup (the
   * chunk, a multiple of 8) are a uniform too, p.chunkSize.
   */
  sizes: readonly number[];
}

/** One phase's rows per lane, or null: the phases that hold a matrix. */
interface Phases {
  forward: Array<4 | 8>;
  delta: Array<4 | 8 | null>;
  grad: Array<4 | 8>;
}

const ceil4 = (n: number) => Math.ceil(n / 4) * 4;

/** Invocations per workgroup of the entry point `last` (one vec4 of parameters each). */
export const LAST_WG = 64;

/** Widths as the kernel sees them: each layer's input, the observation padded to a multiple of 4. */
const inputWidths = (sizes: readonly number[]) => sizes.slice(0, -1).map((s, l) => (l === 0 ? ceil4(s) : s));

/**
 * The blocks of `acts` in a chunk, in vec4 per sample of the chunk (offset × chunk size):
 * act[l] (input of layer l) and del[l] (∂loss/∂z of the hidden layer whose output is act[l],
 * l ≥ 1), and the vec4s per sample.
 */
function actsLayout(sizes: readonly number[]) {
  const a = inputWidths(sizes);
  const act: number[] = [];
  const del: number[] = [];
  let at = 0;
  for (const w of a) (act.push(at), (at += w / 4));
  for (const [l, w] of a.entries()) (del.push(l === 0 ? -1 : at), (at += l === 0 ? 0 : w / 4));
  return { a, act, del, perSample: at };
}

/** Floats of `acts` per chunk of `chunk` samples. */
export function valueGradStationaryFloats(sizes: readonly number[], chunk: number): number {
  return 4 * chunk * actsLayout(sizes).perSample;
}

/**
 * Rows per lane of each phase, or null where the network does not fit the kernel: at least one
 * hidden layer, every hidden width a multiple of 32 with its matrices within what a lane holds
 * (stationary.ts's stationaryRows), one output.
 */
export function valueGradStationaryPhases(sizes: readonly number[]): Phases | null {
  const L = sizes.length - 1;
  if (L < 2 || sizes[L] !== 1) return null;
  const a = [...inputWidths(sizes), 1];
  const forward: Array<4 | 8> = [];
  const delta: Array<4 | 8 | null> = [null];
  const grad: Array<4 | 8> = [];
  for (let l = 0; l < L - 1; l++) {
    const f = stationaryRows('forward', a[l + 1]!, a[l]!);
    const g = stationaryRows('grad', a[l + 1]!, a[l]!);
    if (f === null || g === null) return null;
    forward.push(f);
    grad.push(g);
    if (l > 0) {
      const d = stationaryRows('delta', a[l]!, a[l + 1]!);
      if (d === null) return null;
      delta.push(d);
    }
  }
  // The output layer's lanes take 8 of every 32 features (implied by the rows of the layer before).
  if (a[L - 1]! % 32 !== 0) return null;
  return { forward, delta, grad };
}

export const VALUE_GRAD_STATIONARY_BINDINGS = [
  ['p', 'uniform'],
  ['theta', 'storage'],
  ['obs', 'read-only-storage'],
  ['returns', 'read-only-storage'],
  ['perm', 'read-only-storage'],
  ['counter', 'storage'],
  ['acts', 'storage'],
  ['table', 'uniform'],
  ['moments', 'storage'],
] as const;

const DECLARATIONS = `// value_step.wgsl's layer table: l[2i] = (inDim, outDim, W offset, b offset) of layer i.
struct LayerTable {
  l: array<vec4<u32>, ${2 * VALUE_MAX_LAYERS}>,
}
@group(0) @binding(0) var<uniform> p: ValueStepParams;
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;
@group(0) @binding(2) var<storage, read> obs: array<f32>;
@group(0) @binding(3) var<storage, read> returns: array<f32>;
@group(0) @binding(4) var<storage, read> perm: array<u32>;
@group(0) @binding(5) var<storage, read_write> counter: array<u32>;
@group(0) @binding(6) var<storage, read_write> acts: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> table: LayerTable;
@group(0) @binding(8) var<storage, read_write> moments: array<f32>;`;

/** The WGSL module of the kernel (entry point `main`); the shape must pass valueGradStationaryPhases. */
export function valueGradStationaryWgsl(shape: ValueGradStationaryShape): string {
  const { sizes } = shape;
  const phases = valueGradStationaryPhases(sizes);
  if (!phases) throw new Error(`value grad: no stationary kernel for sizes [${sizes.join(', ')}]`);
  const L = sizes.length - 1;
  const { a, act, del, perSample } = actsLayout(sizes);
  /** Parameter `i` of the vec4 block at `base` (the replica's θ, or a gradient slot). */
  const word = (base: string, i: string) => `acts[${base} + (${i}) / 4u][(${i}) % 4u]`;
  /** vec4 c of sample `q` in the block at `block` (vec4 offset) of width w. */
  const row = (block: string, w: number, q: string, c: number) => `acts[${block} + (${q}) * ${w / 4}u + ${c}u]`;
  const samples = { start: '0u', end: 'end', step: '8u' };
  /** Feature k of sample n's observation, 0 in the padding (p.obsDim ≤ k). */
  const obsAt = (k: number) => `select(0.0, obs[n * p.obsDim + min(${k}u, p.obsDim - 1u)], ${k}u < p.obsDim)`;
  /** `body` for each block of 8·R rows (lane j's rows start at row0), then a barrier if asked. */
  const rowBlocks = (R: number, rows: number, body: string, barrier = true) =>
    `  for (var rb = 0u; rb < ${rows / (STATIONARY_LANES * R)}u; rb++) {\n    let row0 = (rb * ${STATIONARY_LANES}u + lane) * ${R}u;\n${body}\n  }${barrier ? '\n  storageBarrier();' : ''}`;

  const gather = `  for (var base = 0u; base < end; base += 8u) {
    let q = base + lane;
    let n = perm[mb + min(first + q, p.batch - 1u)];
${range(a[0]! / 4)
  .map((c) => `    ${row('A0', a[0]!, 'q', c)} = vec4<f32>(${range(4).map((k) => obsAt(4 * c + k)).join(', ')});`)
  .join('\n')}
  }
  storageBarrier();`;

  // Hidden layer l: act[l + 1] = tanh(W_l act[l] + b_l).
  const forward = (l: number) => {
    const R = phases.forward[l]!;
    const [inW, rows] = [a[l]!, a[l + 1]!];
    const C = inW / 4;
    // The observation's padding columns multiply zero weights (never loaded past the row).
    const w = (r: string, col: string) =>
      l === 0 ? `select(0.0, ${word('tb', `W0 + ${r} * p.obsDim + min(${col}, p.obsDim - 1u)`)}, ${col} < p.obsDim)` : word('tb', `W${l} + ${r} * ${inW}u + ${col}`);
    return rowBlocks(
      R,
      rows,
      [
        holdRows('w', R, C, w),
        range(R)
          .map((r) => `    let b${r} = ${word('tb', `B${l} + row0 + ${r}u`)};`)
          .join('\n'),
        streamSamples(
          C,
          [{ name: 'x', shuffled: 's', load: (c) => row(`A${l}`, inW, 'n', c) }],
          samples,
          [
            sums(R, C, (r) => `b${r}`, (r, c) => `dot(w${r}_${c}, s${c})`),
            range(R / 4)
              .map((k) => `      acts[A${l + 1} + (base + q) * ${rows / 4}u + row0 / 4u + ${k}u] = ${quad('a', k, (v) => `tanh(${v})`)};`)
              .join('\n'),
          ].join('\n'),
        ),
      ].join('\n'),
    );
  };

  // The output layer: V = w·h + b per sample, ∂loss/∂V = 2 (V − R) / B, its gradient and the
  // delta of the last hidden layer, δ = w ∂loss/∂V (1 − h²). Lane j takes features 4j .. 4j + 3
  // (and on, by 32) of every sample, and subgroupAdd sums V's partial dots: few load sites, which
  // is what lavapipe's compile time grows with (a version looping over 16 vec4 per lane took 3–5 s
  // to compile, for little arithmetic).
  const output = () => {
    const inW = a[L - 1]!;
    const [wOut, bOut] = [`W${L - 1}`, `B${L - 1}`];
    // The lane's vec4s: i < inW / 32, features 32·i + 4·lane .. + 3.
    const v4 = range(inW / 32);
    const f = (i: number) => `${32 * i}u + 4u * lane`;
    return `  {
${v4.map((i) => `    let w${i} = vec4<f32>(${range(4).map((k) => word('tb', `${wOut} + ${f(i)} + ${k}u`)).join(', ')});`).join('\n')}
${v4.map((i) => `    var gw${i} = vec4<f32>();`).join('\n')}
    let bo = ${word('tb', bOut)};
    var gb = 0.0;
    for (var q = 0u; q < end; q++) {
${v4.map((i) => `      let h${i} = acts[A${L - 1} + q * ${inW / 4}u + (${f(i)}) / 4u];`).join('\n')}
      let v = bo + subgroupAdd(${v4.map((i) => `dot(w${i}, h${i})`).join(' + ')});
      let n = perm[mb + min(first + q, p.batch - 1u)];
      let dv = select(0.0, 2.0 * (v - returns[n]) / f32(p.batch), q < live);
      gb += dv;
${v4.map((i) => `      gw${i} += dv * h${i};\n      acts[D${L - 1} + q * ${inW / 4}u + (${f(i)}) / 4u] = dv * w${i} * (vec4<f32>(1.0) - h${i} * h${i});`).join('\n')}
    }
${v4.map((i) => range(4).map((k) => `    ${word('pb', `${wOut} + ${f(i)} + ${k}u`)} = gw${i}[${k}];`).join('\n')).join('\n')}
    if (lane == 0u) { ${word('pb', bOut)} = gb; }
  }
  storageBarrier();`;
  };

  // The chunk's ∂W_l = Σ_q δ_{l+1}[q] act[l][q]ᵀ and ∂b_l = Σ_q δ_{l+1}[q] (lanes hold rows of ∂W).
  const grad = (l: number) => {
    const R = phases.grad[l]!;
    const [inW, rows] = [a[l]!, a[l + 1]!];
    const C = inW / 4;
    // Row stride of W: the observation's size for the first layer (its padding is not stored).
    const inDim = l === 0 ? 'p.obsDim' : `${inW}u`;
    const store = (k: number) => `        ${word('pb', `W${l} + (row0 + i / ${C}u) * ${inDim} + col + ${k}u`)} = held[i][${k}];`;
    // No barrier after it: the phases after read nothing it writes (the next dispatch does).
    return rowBlocks(
      R,
      rows,
      `${each(R, C, (r, c) => `    var d${r}_${c} = vec4<f32>();`)}
${range(R)
  .map((r) => `    var e${r} = 0.0;`)
  .join('\n')}
${streamSamples(
  C,
  [{ name: 'x', shuffled: 's', load: (c) => row(`A${l}`, inW, 'n', c) }],
  samples,
  accumulateGrad(R, C, (k) => `acts[D${l + 1} + (base + q) * ${rows / 4}u + row0 / 4u + ${k}u]`),
)}
    var held: array<vec4<f32>, ${R * C}>;
${each(R, C, (r, c) => `    held[${r * C + c}u] = d${r}_${c};`)}
    for (var i = 0u; i < ${R * C}u; i++) {
      let col = (i % ${C}u) * 4u;
${range(4)
  .map((k) => (l > 0 || k === 0 ? store(k) : `      if (col + ${k}u < p.obsDim) {\n${store(k)}\n      }`))
  .join('\n')}
    }
${range(R)
  .map((r) => `    ${word('pb', `B${l} + row0 + ${r}u`)} = e${r};`)
  .join('\n')}
`,
      false,
    );
  };

  // δ_l = (W_lᵀ δ_{l+1}) ⊙ (1 − act[l]²), for a hidden layer's input (lanes hold columns of W_l).
  const delta = (l: number) => {
    const R = phases.delta[l]!;
    const [rows, sumW] = [a[l]!, a[l + 1]!];
    const C = sumW / 4;
    return rowBlocks(
      R,
      rows,
      [
        holdRows('w', R, C, (r, col) => word('tb', `W${l} + (${col}) * ${rows}u + ${r}`)),
        streamSamples(
          C,
          [{ name: 'x', shuffled: 's', load: (c) => row(`D${l + 1}`, sumW, 'n', c) }],
          samples,
          [
            sums(R, C, () => '0.0', (r, c) => `dot(w${r}_${c}, s${c})`),
            range(R / 4)
              .map((k) => {
                const at = (block: string) => `acts[${block} + (base + q) * ${rows / 4}u + row0 / 4u + ${k}u]`;
                return `      let h${k} = ${at(`A${l}`)};\n      ${at(`D${l}`)} = ${quad('a', k)} * (vec4<f32>(1.0) - h${k} * h${k});`;
              })
              .join('\n'),
          ].join('\n'),
        ),
      ].join('\n'),
    );
  };

  const body: string[] = [gather];
  for (let l = 0; l < L - 1; l++) body.push(forward(l));
  body.push(output());
  for (let l = L - 2; l >= 0; l--) {
    body.push(grad(l));
    if (l > 0) body.push(delta(l));
  }
  return `enable subgroups;
${ValueStepParams.wgsl()}
${DECLARATIONS}
${valueAdamWgsl}
// Vec4s of 4 parameters each (the last padded with zeros) in a replica's θ, m and v and in a
// gradient slot.
fn quads() -> u32 {
  return (p.paramCount + 3u) / 4u;
}

// Parameters 4i .. 4i + 3 of a flat vector (theta, or moments from \`at\`), zero past its end.
fn theta4(i: u32) -> vec4<f32> {
  let P = p.paramCount;
  return vec4<f32>(${range(4).map((k) => `select(0.0, theta[min(4u * i + ${k}u, P - 1u)], 4u * i + ${k}u < P)`).join(', ')});
}
fn moments4(at: u32, i: u32) -> vec4<f32> {
  let P = p.paramCount;
  return vec4<f32>(${range(4).map((k) => `select(0.0, moments[at + min(4u * i + ${k}u, P - 1u)], 4u * i + ${k}u < P)`).join(', ')});
}

// Parameters 4i .. 4i + 3 of the minibatch's gradient: the sum of the chunks' in slot \`slot\`.
fn minibatch_grad4(slot: u32, i: u32) -> vec4<f32> {
  let Q = quads();
  var g = vec4<f32>();
  for (var c = 0u; c < p.chunks; c++) { g += acts[p.partialBase + (slot * p.chunks + c) * Q + i]; }
  return g;
}

// Replica r's state at parameters 4i .. 4i + 3.
fn replica(r: u32, i: u32) -> AdamState {
  let Q = quads();
  let b = p.replicaBase + r * 3u * Q + i;
  return AdamState(acts[b], acts[b + Q], acts[b + 2u * Q]);
}

@compute @workgroup_size(${STATIONARY_LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let chunk = wid.x;
  let Q = quads();
  // The workgroup's replica of Adam's state [θ | m | v] in acts.
  let tb = p.replicaBase + chunk * 3u * Q;
  // p.steps minibatches, one after the other: Adam's step on the one before (or the fit's
  // starting state), then this one's gradient into slot c % 2; the barrier at the end of a step
  // orders them. (The body inline: as a function called here, LLVM took ~3 s longer to compile.)
  for (var step = 0u; step < p.steps; step++) {
  // The workgroup's counters: c minibatches done and t Adam steps applied (prepare() zeroes c
  // before each fit).
  let c = counter[2u + chunk];
  var t = counter[2u + p.chunks + chunk];
  if (c == 0u) {
    // The fit's first minibatch: the state from theta, moments and the step count.
    t = counter[1];
    for (var i = lane; i < Q; i += ${STATIONARY_LANES}u) {
      acts[tb + i] = theta4(i);
      acts[tb + Q + i] = moments4(0u, i);
      acts[tb + 2u * Q + i] = moments4(p.paramCount, i);
    }
  } else {
    // Adam's step on the previous minibatch, whose gradient every chunk left in slot (c − 1) % 2.
    t += 1u;
    let k = adam_corrections(t);
    for (var i = lane; i < Q; i += ${STATIONARY_LANES}u) {
      let s = adam_step(replica(chunk, i), minibatch_grad4((c - 1u) % 2u, i), k);
      acts[tb + i] = s.theta;
      acts[tb + Q + i] = s.m;
      acts[tb + 2u * Q + i] = s.v;
    }
  }
  storageBarrier();
  let cs = p.chunkSize;
  let first = chunk * cs;
  let mb = c * p.batch;
  // Samples of the minibatch in this chunk, and the loops' end (whole groups of 8).
  let live = min(cs, p.batch - first);
  let end = (live + 7u) / 8u * 8u;
  // This chunk's blocks of acts: A_l the input of layer l, D_l its ∂loss/∂z (vec4 offsets).
  let cb = chunk * cs * ${perSample}u;
${a.map((_, l) => `  let A${l} = cb + cs * ${act[l]!}u;`).join('\n')}
${a.map((_, l) => (l === 0 ? '' : `  let D${l} = cb + cs * ${del[l]!}u;`)).filter(Boolean).join('\n')}
  // This minibatch's gradient goes to slot c % 2, while the slot before is still being read.
  let pb = p.partialBase + ((c % 2u) * p.chunks + chunk) * Q;
  // Each layer's W and b in the parameters.
${range(L)
  .map((l) => `  let W${l} = table.l[${2 * l}u].z;\n  let B${l} = table.l[${2 * l}u].w;`)
  .join('\n')}
${body.join('\n')}
  storageBarrier();
  if (lane == 0u) {
    counter[2u + chunk] = c + 1u;
    counter[2u + p.chunks + chunk] = t;
  }
  storageBarrier();
  } // step
}

// The fit's last Adam step: the last minibatch's gradient applied to replica 0's state, written
// to theta and moments, LAST_WG vec4s per workgroup. The counters end as value_step.wgsl's
// kernels leave them: [minibatches done, Adam's step count].
@compute @workgroup_size(${LAST_WG})
fn last(@builtin(global_invocation_id) gid: vec3<u32>) {
  let P = p.paramCount;
  // Replica 0's counters: minibatches done, steps applied.
  let c = counter[2u];
  let t = counter[2u + p.chunks] + 1u;
  let i = gid.x;
  if (i == 0u) {
    counter[0] = c;
    counter[1] = t;
  }
  if (i >= quads()) { return; }
  let s = adam_step(replica(0u, i), minibatch_grad4((c - 1u) % 2u, i), adam_corrections(t));
  for (var k = 0u; k < 4u; k++) {
    let j = 4u * i + k;
    if (j < P) {
      theta[j] = s.theta[k];
      moments[j] = s.m[k];
      moments[P + j] = s.v[k];
    }
  }
}`;
}
