/**
 * Weight-stationary dense-layer kernels, generated per layer shape, for CPU Vulkan drivers
 * (lavapipe: subgroups of exactly 8, one SIMD vector).
 *
 * Why: on lavapipe a storage load whose address is not a compile-time constant runs once per SIMD
 * lane, so the row-broadcast kernels (*_sg.wgsl) stay bound by their loads. Here a workgroup is one subgroup of 8 lanes, and lane j loads R rows of the layer's
 * matrix once (R·sum floats) and keeps them in registers for the whole dispatch. Samples stream
 * past 8 at a time: lane q loads sample q's input row, and subgroupShuffle hands it to the other
 * lanes, so per 8 samples a lane makes sum/4 vector loads for 8·R·sum multiply-adds (measurements:
 * docs/performance-log.md).
 *
 * What keeps the compile time down: lavapipe compiles with LLVM at the first dispatch, and each
 * load site of a non-constant address becomes a per-lane loop. With the R·sum/4 row loads
 * written out one by one, a 64×64 layer took 15–30 s to compile (JVP: minutes); loaded in a loop
 * into a private array and then copied out at constant indices, it takes ~2 s and runs as fast.
 *
 * Registers do not hold 512 floats on a CPU: LLVM spills most of them to the stack, which is
 * still far cheaper than the driver's bounds-checked per-lane loads. On a GPU with 32-wide
 * subgroups this design would spill to memory instead, so MlpKernels uses it only where the
 * subgroup size is exactly 8.
 *
 * Layouts are those of mlp.ts (activations, deltas and tangents sample-major; W row-major
 * [outDim][inDim]); the kernels read activations as vec4, so every base offset and the widths
 * involved must be multiples of 4 (stationaryAligned). Uniforms are MlpParams; a workgroup is
 * (parameter set, slice of the samples, block of 8·R rows): g = pset·groupsPerSet +
 * slice·rowBlocks + rowBlock, with `chunks` slices per set (for the parameter gradient, slice c
 * is the c-th chunk of chunkLen samples, and its partial sums go where mlp_sum_chunks reads them).
 */
import { MLP_BINDINGS, MlpParams } from '../../mlp-params.js';

export type StationaryKind = 'forward' | 'jvp' | 'delta' | 'grad';

/** Lanes of the subgroup (and of the workgroup) the kernels are written for. */
export const STATIONARY_LANES = 8;
/** Most matrix floats one lane keeps (R·sum, twice that for the JVP's two matrices). */
const MAX_HELD = 512;

/**
 * Rows per lane R for a layer whose stationary matrix is [rows][sum], or null where the kernel
 * does not apply: sum must be a multiple of 4 (vec4 input loads), rows a multiple of 32 (8 lanes
 * × R rows, R a multiple of 4 for vec4 stores), and the matrices held must fit MAX_HELD floats.
 */
export function stationaryRows(kind: StationaryKind, rows: number, sum: number): 4 | 8 | null {
  if (sum % 4 !== 0 || rows % 32 !== 0) return null;
  const held = (r: number) => r * sum * (kind === 'jvp' ? 2 : 1);
  if (rows % 64 === 0 && held(8) <= MAX_HELD) return 8;
  if (held(4) <= MAX_HELD) return 4;
  return null;
}

/** Whether every offset and stride (in floats) allows vec4 access. */
export function stationaryAligned(...values: number[]): boolean {
  return values.every((v) => v % 4 === 0);
}

export interface StationaryShape {
  kind: StationaryKind;
  /** Rows of the matrix the lanes hold (outputs; for `delta`, the layer's inputs). */
  rows: number;
  /** Length of the sums (for `delta`, the layer's outputs). */
  sum: number;
  R: 4 | 8;
  /** The layer input is the network input (`input`), not a hidden layer's activations. */
  first: boolean;
  /** forward/jvp: tanh layer writing acts/dacts; else the output layer writing the user buffer. */
  hidden: boolean;
  /** delta, grad: the upstream gradient is the user's gradOutput (last layer), not the deltas scratch. */
  fromUser: boolean;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** One statement per (r, c): `f(r, c)`, joined into lines. */
export const each = (R: number, C: number, f: (r: number, c: number) => string): string =>
  range(R)
    .flatMap((r) => range(C).map((c) => f(r, c)))
    .join('\n');

/** The binding table (MLP_BINDINGS) each kind's kernel shares with the other MLP kernels. */
export const STATIONARY_FAMILY = { forward: 'forward', jvp: 'jvp', delta: 'backward', grad: 'backward' } as const;

/**
 * The binding declarations of a kernel of `kind`'s family (MLP_BINDINGS): the bindings named in
 * `scalars` as f32 arrays, the other storage buffers as vec4 arrays.
 */
export function declarations(kind: StationaryKind, scalars: ReadonlySet<string>): string {
  return bindingDeclarations(STATIONARY_FAMILY[kind], scalars);
}

/** The binding declarations of a family of MLP_BINDINGS: `scalars` as f32 arrays, other storage as vec4. */
export function bindingDeclarations(family: keyof typeof MLP_BINDINGS, scalars: ReadonlySet<string>): string {
  return MLP_BINDINGS[family]
    .map(([name, access], i) => {
      if (access === 'uniform') return `@group(0) @binding(${i}) var<uniform> ${name}: MlpParams;`;
      const mode = access === 'storage' ? 'read_write' : 'read';
      return `@group(0) @binding(${i}) var<storage, ${mode}> ${name}: array<${scalars.has(name) ? 'f32' : 'vec4<f32>'}>;`;
    })
    .join('\n');
}

/**
 * Lets `${name}${r}_${k}` (r < rows, k < per) of WGSL type `type`, each the value `load(r, k)`
 * (r and k as WGSL u32 expressions), loaded in a loop into a private array and then copied out
 * at constant indices. Held weights are read this way in every generated kernel: written out one
 * load at a time, each load site of a computed address is a per-lane loop in lavapipe's compiler,
 * and hundreds of them took it 15–260 s per kernel (see the file comment); the loop takes ~2 s.
 */
export function holdLoop(name: string, rows: number, per: number, type: string, load: (r: string, k: string) => string): string {
  const arr = `${name}_held`;
  return [
    `  var ${arr}: array<${type}, ${rows * per}>;`,
    `  for (var i = 0u; i < ${rows * per}u; i++) {`,
    `    let r = i / ${per}u;`,
    `    let k = i % ${per}u;`,
    `    ${arr}[i] = ${load('r', 'k')};`,
    `  }`,
    each(rows, per, (r, k) => `  let ${name}${r}_${k} = ${arr}[${r * per + k}u];`),
  ].join('\n');
}

/**
 * Loads rows row0..row0+R-1 of a [rows][sum] matrix into lets named `${name}${r}_${c}` (vec4 c
 * of row r). `at(row, col)` is the WGSL load of element (row, col), given the WGSL expressions
 * for both.
 */
export function holdRows(name: string, R: number, C: number, at: (row: string, col: string) => string): string {
  return holdLoop(name, R, C, 'vec4<f32>', (r, c) => `vec4<f32>(${range(4)
    .map((k) => at(`(row0 + ${r})`, `(${c} * 4u + ${k}u)`))
    .join(', ')})`);
}

/** The workgroup's parameter set, slice of the samples and first row; spare workgroups leave. */
export const PROLOGUE = (R: number) => `
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.groups) { return; }
  let pset = g / p.groupsPerSet;
  let rem = g - pset * p.groupsPerSet;
  let slice = rem / p.rowBlocks;
  let row0 = ((rem - slice * p.rowBlocks) * ${STATIONARY_LANES}u + lane) * ${R}u;`;

/** The entry point's header (workgroup = one subgroup); a prologue and the body follow. */
export const ENTRY = `@compute @workgroup_size(${STATIONARY_LANES})
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
) {`;

/** vec4 k (of R/4) of the lane's R results for one sample, from the scalars `${v}${r}`. */
export const quad = (v: string, k: number, wrap = (s: string) => s): string =>
  wrap(`vec4<f32>(${range(4)
    .map((i) => `${v}${4 * k + i}`)
    .join(', ')})`);

/** A row streamed through the sample loop: vec4 c of sample n's row is `load(c)` (n in WGSL). */
export interface Streamed {
  /** Prefix of the lane's own loads (`${name}${c}`) and of the shuffled values (`${shuffled}${c}`). */
  name: string;
  shuffled: string;
  load: (c: number) => string;
}

/**
 * The loop over the samples, 8 at a time: lane j loads sample base + j's rows (clamped into the
 * range; the clamped lanes' values are never used), then for each q of the 8, subgroupShuffle
 * hands every lane sample base + q's rows and `body` runs on them. `range` is the first sample,
 * the end (exclusive) and the step between groups, in WGSL; all uniform, so the shuffles run in
 * uniform control flow.
 */
export function streamSamples(C: number, inputs: Streamed[], range_: { start: string; end: string; step: string }, body: string): string {
  const { start, end, step } = range_;
  return `  for (var base = ${start}; base < ${end}; base += ${step}) {
    let n = min(base + lane, ${end} - 1u);
${inputs.map(({ name, load }) => range(C).map((c) => `    let ${name}${c} = ${load(c)};`).join('\n')).join('\n')}
    for (var q = 0u; q < 8u; q++) {
      if (base + q >= ${end}) { break; }
${inputs.map(({ name, shuffled }) => range(C).map((c) => `      let ${shuffled}${c} = subgroupShuffle(${name}${c}, q);`).join('\n')).join('\n')}
${body}
    }
  }`;
}

/** Slice `slice` of the batch: groups slice, slice + chunks, ... of 8 samples. */
const SLICE = { start: 'slice * 8u', end: 'p.batch', step: 'p.chunks * 8u' };

/** The lane's R sums a_r = init(r) + Σ_c terms(r, c) for sample base + q. */
export function sums(R: number, C: number, init: (r: number) => string, terms: (r: number, c: number) => string): string {
  return [...range(R).map((r) => `      var a${r} = ${init(r)};`), each(R, C, (r, c) => `      a${r} += ${terms(r, c)};`)].join('\n');
}

/** Stores vec4 k of the lane's sums for sample base + q: `to(k)` = value, times 1 − h² of `h(k)`. */
function storeSums(R: number, to: (k: number) => string, h?: (k: number) => string): string {
  return range(R / 4)
    .map((k) =>
      h
        ? `      let h${k} = ${h(k)};\n      ${to(k)} = ${quad('a', k)} * (vec4<f32>(1.0) - h${k} * h${k});`
        : `      ${to(k)} = ${quad('a', k)};`,
    )
    .join('\n');
}

/** Offset (in vec4) of vec4 k of the lane's rows of sample base + q, in a [batch][rows] block at `base`. */
const rowsAt = (base: string, rows: number, k: number) => `(${base} + (base + q) * ${rows}u + row0) / 4u + ${k}u`;

function forward(s: StationaryShape): string {
  const { R, rows, sum, first, hidden } = s;
  const C = sum / 4;
  const x = first ? 'input' : 'acts';
  const xBase = first ? '0u' : '(p.xBase + pset * p.xSetStride) / 4u';
  const out = hidden ? 'acts' : 'output';
  return `${ENTRY}${PROLOGUE(R)}
  let wb = p.wBase + pset * p.paramStride;
${holdRows('w', R, C, (row, col) => `theta[wb + ${row} * ${sum}u + ${col}]`)}
${range(R)
  .map((r) => `  let b${r} = theta[p.bBase + pset * p.paramStride + row0 + ${r}u];`)
  .join('\n')}
  let yb = p.yBase + pset * p.ySetStride;
${streamSamples(
  C,
  [{ name: 'x', shuffled: 's', load: (c) => `${x}[${xBase} + n * ${C}u + ${c}u]` }],
  SLICE,
  [
    sums(R, C, (r) => `b${r}`, (r, c) => `dot(w${r}_${c}, s${c})`),
    range(R / 4)
      .map((k) => `      ${out}[${rowsAt('yb', rows, k)}] = ${quad('a', k, hidden ? (v) => `tanh(${v})` : undefined)};`)
      .join('\n'),
  ].join('\n'),
)}
}`;
}

function jvp(s: StationaryShape): string {
  const { R, rows, sum, first, hidden } = s;
  const C = sum / 4;
  // y' = W x' + W' x + b', times 1 − y² for a tanh layer; x' = 0 for the first layer.
  const x = first ? 'input' : 'acts';
  const xBase = first ? '0u' : 'p.hBase / 4u';
  const inputs: Streamed[] = [{ name: 'x', shuffled: 's', load: (c) => `${x}[${xBase} + n * ${C}u + ${c}u]` }];
  if (!first) inputs.push({ name: 't', shuffled: 'u', load: (c) => `dacts[p.xBase / 4u + n * ${C}u + ${c}u]` });
  const out = hidden ? 'dacts' : 'outputTangent';
  return `${ENTRY}${PROLOGUE(R)}
${holdRows('w', R, C, (row, col) => `theta[p.wBase + ${row} * ${sum}u + ${col}]`)}
${holdRows('v', R, C, (row, col) => `tangent[p.w2Base + ${row} * ${sum}u + ${col}]`)}
${range(R)
  .map((r) => `  let b${r} = tangent[p.b2Base + row0 + ${r}u];`)
  .join('\n')}
${streamSamples(
  C,
  inputs,
  SLICE,
  [
    sums(R, C, (r) => `b${r}`, (r, c) => `${first ? '' : `dot(w${r}_${c}, u${c}) + `}dot(v${r}_${c}, s${c})`),
    storeSums(R, (k) => `${out}[${rowsAt('p.yBase', rows, k)}]`, hidden ? (k) => `acts[${rowsAt('p.h2Base', rows, k)}]` : undefined),
  ].join('\n'),
)}
}`;
}

function delta(s: StationaryShape): string {
  const { R, rows, sum, fromUser, hidden } = s;
  const C = sum / 4;
  // Lane rows are the layer's inputs k: row k of Wᵀ is column k of W [sum][rows].
  // g_in[n][k] = (Σ_o W[o][k] g[n][o]) · (1 − h[n][k]²), or without the factor for dL/dinput.
  const g = fromUser ? 'gradOutput' : 'deltas';
  const gBase = fromUser ? '0u' : 'p.xBase / 4u';
  return `${ENTRY}${PROLOGUE(R)}
${holdRows('w', R, C, (row, col) => `theta[p.wBase + (${col}) * ${rows}u + ${row}]`)}
${streamSamples(
  C,
  [{ name: 'x', shuffled: 's', load: (c) => `${g}[${gBase} + n * ${C}u + ${c}u]` }],
  SLICE,
  [
    sums(R, C, () => '0.0', (r, c) => `dot(w${r}_${c}, s${c})`),
    hidden
      ? storeSums(R, (k) => `deltas[${rowsAt('p.yBase', rows, k)}]`, (k) => `acts[${rowsAt('p.hBase', rows, k)}]`)
      : storeSums(R, (k) => `result[${rowsAt('0u', rows, k)}]`),
  ].join('\n'),
)}
}`;
}

/**
 * The parameter gradient's work on sample base + q: the lane's R deltas (vec4 k of them is
 * `g(k)`) added to e_r (∂b) and, times the shuffled input s_c, to d_r_c (its rows of ∂W).
 */
export function accumulateGrad(R: number, C: number, g: (k: number) => string): string {
  const gr = (r: number) => `g${Math.floor(r / 4)}[${r % 4}]`;
  return [
    range(R / 4)
      .map((k) => `      let g${k} = ${g(k)};`)
      .join('\n'),
    range(R)
      .map((r) => `      e${r} += ${gr(r)};`)
      .join('\n'),
    each(R, C, (r, c) => `      d${r}_${c} += ${gr(r)} * s${c};`),
  ].join('\n');
}

function grad(s: StationaryShape): string {
  const { R, rows, sum, first, fromUser } = s;
  const C = sum / 4;
  // Lane rows are rows o of dW [rows][sum]: dW[o][k] = Σ_n g[n][o] x[n][k], db[o] = Σ_n g[n][o]
  // over the chunk's samples; written where mlp_sum_chunks adds the chunks up.
  const x = first ? 'input' : 'acts';
  const xBase = first ? '0u' : 'p.hBase / 4u';
  const g = fromUser ? 'gradOutput' : 'deltas';
  const gBase = fromUser ? '0u' : 'p.xBase';
  return `${ENTRY}${PROLOGUE(R)}
${each(R, C, (r, c) => `  var d${r}_${c} = vec4<f32>();`)}
${range(R)
  .map((r) => `  var e${r} = 0.0;`)
  .join('\n')}
  let end = min(p.batch, (slice + 1u) * p.chunkLen);
${streamSamples(
  C,
  [{ name: 'x', shuffled: 's', load: (c) => `${x}[${xBase} + n * ${C}u + ${c}u]` }],
  { start: 'slice * p.chunkLen', end: 'end', step: '8u' },
  accumulateGrad(R, C, (k) => `${g}[${rowsAt(gBase, rows, k)}]`),
)}
  var held: array<vec4<f32>, ${R * C}>;
${each(R, C, (r, c) => `  held[${r * C + c}u] = d${r}_${c};`)}
  let pb = slice * p.paramCount + p.wBase;
  for (var i = 0u; i < ${R * C}u; i++) {
    let at = pb + (row0 + i / ${C}u) * ${sum}u + (i % ${C}u) * 4u;
${range(4)
  .map((k) => `    result[at + ${k}u] = held[i][${k}];`)
  .join('\n')}
  }
${range(R)
  .map((r) => `  result[slice * p.paramCount + p.bBase + row0 + ${r}u] = e${r};`)
  .join('\n')}
}`;
}

/** The WGSL module of one stationary kernel (entry point `main`). */
export function stationaryWgsl(s: StationaryShape): string {
  const body = { forward, jvp, delta, grad }[s.kind](s);
  // Parameters (and the gradient's partial sums, in the parameter layout) are scalars;
  // activations, deltas and the network's inputs and outputs vec4.
  const scalars = new Set(['theta', 'tangent', ...(s.kind === 'grad' ? ['result'] : [])]);
  return ['enable subgroups;', MlpParams.wgsl(), declarations(s.kind, scalars), body].join('\n');
}
