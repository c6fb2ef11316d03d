/**
 * The rollout's entry point for devices whose subgroups are exactly 8 wide (lavapipe), generated
 * per policy shape: a workgroup is one subgroup stepping 8 envs, and the policy's weights stay in
 * the lanes for the whole rollout (the design of stationary.ts).
 *
 * Why: rollout.wgsl's `rollout` evaluates the policy per invocation (mlp_sample.wgsl), so every
 * weight of every step is a per-lane load and every activation a dynamically indexed private
 * array, which made the rollout the largest phase of an iteration on lavapipe
 * (docs/performance-log.md). Here lane j keeps rows jR .. jR + R − 1 of each hidden layer (R = width / 8) and columns
 * jR .. of the output layer, loaded once. Per step, for each env q of the 8: subgroupShuffle
 * hands every lane env q's observation, each lane computes its R rows of a layer, the lanes'
 * rows are the next layer's input (subgroupBroadcast from each lane), and subgroupAdd sums the
 * output layer's partial dot products; lane q keeps env q's output. Sampling and the env step
 * are rollout.wgsl's act_and_step, per lane. Lanes past nEnvs compute on zeros and write nothing.
 */
import { mlpLayout } from '../../mlp.js';
import { STATIONARY_LANES, holdLoop, range } from './stationary.js';

/** Most weights a lane keeps for one layer. */
const MAX_HELD = 512;

/**
 * Whether the policy fits the kernel: hidden widths multiples of 32 (R = width / 8 rows per lane,
 * a multiple of 4 for vec4 broadcasts) and every layer's held weights within MAX_HELD.
 */
export function rolloutSgFits(sizes: readonly number[]): boolean {
  const L = sizes.length - 1;
  if (L < 2) return false;
  for (let l = 1; l < L; l++) {
    const w = sizes[l]!;
    if (w % 32 !== 0 || (w / STATIONARY_LANES) * sizes[l - 1]! > MAX_HELD) return false;
  }
  return (sizes[L]! * sizes[L - 1]!) / STATIONARY_LANES <= MAX_HELD;
}

/**
 * Lets `${name}${r}_${k}` for r < rows, k < count: the lane's held weights, element (r, k) at
 * `policy[at(r, k)]` (WGSL, with `lane`). `vec` groups k by 4 into vec4 (count a multiple of 4).
 */
function hold(name: string, rows: number, count: number, at: (r: string, k: string) => string, vec: boolean): string {
  if (!vec) return holdLoop(name, rows, count, 'f32', (r, k) => `policy[${at(r, k)}]`);
  return holdLoop(name, rows, count / 4, 'vec4<f32>', (r, k) => `vec4<f32>(${range(4).map((i) => `policy[${at(r, `${k} * 4u + ${i}u`)}]`).join(', ')})`);
}

/** The entry point `rollout_sg` (appended after rollout.wgsl; `enable subgroups;` must lead the module). */
export function rolloutSgWgsl(sizes: readonly number[]): string {
  if (!rolloutSgFits(sizes)) throw new Error(`rollout: no subgroup kernel for policy sizes [${sizes.join(', ')}]`);
  const { layers } = mlpLayout(sizes);
  const L = layers.length;
  const obsDim = sizes[0]!;
  const heads = sizes[L]!;
  const lanes = STATIONARY_LANES;
  const R = (l: number) => sizes[l + 1]! / lanes; // rows per lane of hidden layer l

  const held: string[] = [];
  // Hidden layer 0: scalars, rows lane·R + r of W₀ [w][obsDim].
  held.push(hold('w0_', R(0), obsDim, (r, k) => `${layers[0]!.wOffset}u + (lane * ${R(0)}u + ${r}) * ${obsDim}u + ${k}`, false));
  for (let l = 1; l < L - 1; l++) {
    held.push(hold(`w${l}_`, R(l), sizes[l]!, (r, k) => `${layers[l]!.wOffset}u + (lane * ${R(l)}u + ${r}) * ${sizes[l]}u + ${k}`, true));
  }
  for (let l = 0; l < L - 1; l++) {
    held.push(range(R(l)).map((r) => `  let b${l}_${r} = policy[${layers[l]!.bOffset}u + lane * ${R(l)}u + ${r}u];`).join('\n'));
  }
  // Output layer: columns lane·R + r of W [heads][width], and the (uniform) biases.
  const Rl = sizes[L - 1]! / lanes;
  const out = layers[L - 1]!;
  held.push(hold('wo_', heads, Rl, (k, r) => `${out.wOffset}u + ${k} * ${sizes[L - 1]}u + lane * ${Rl}u + ${r}`, false));
  held.push(range(heads).map((k) => `  let bo${k} = policy[${out.bOffset}u + ${k}u];`).join('\n'));

  // Per env q: the hidden layers (h{l}_{r}: the lane's rows of layer l's output for env q).
  const body: string[] = [];
  body.push(range(obsDim).map((k) => `      let s${k} = subgroupShuffle(x${k}, q);`).join('\n'));
  body.push(
    range(R(0))
      .map((r) => `      let h0_${r} = tanh(b0_${r}${range(obsDim).map((k) => ` + w0_${r}_${k} * s${k}`).join('')});`)
      .join('\n'),
  );
  for (let l = 1; l < L - 1; l++) {
    const Rp = R(l - 1); // the previous layer's rows per lane
    const C = sizes[l]! / 4; // vec4s of this layer's input
    // Input vec4 c = lane ⌊c / (Rp/4)⌋'s rows 4·(c mod Rp/4) ...
    body.push(
      range(C)
        .map((c) => {
          const src = Math.floor(c / (Rp / 4));
          const m = c % (Rp / 4);
          return `      let u${l}_${c} = subgroupBroadcast(vec4<f32>(${range(4).map((i) => `h${l - 1}_${4 * m + i}`).join(', ')}), ${src}u);`;
        })
        .join('\n'),
    );
    body.push(
      range(R(l))
        .map((r) => `      let h${l}_${r} = tanh(b${l}_${r}${range(C).map((c) => ` + dot(w${l}_${r}_${c}, u${l}_${c})`).join('')});`)
        .join('\n'),
    );
  }
  // Output layer: the lane's partial dot products over its rows of the last hidden layer.
  body.push(
    range(heads)
      .map((k) => `      let y${k} = bo${k} + subgroupAdd(${range(Rl).map((r) => `wo_${k}_${r} * h${L - 2}_${r}`).join(' + ')});\n      out[${k}] = select(out[${k}], y${k}, lane == q);`)
      .join('\n'),
  );

  return `
@compute @workgroup_size(${lanes})
fn rollout_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let e0 = wid.x * ${lanes}u + lane;
  let live = e0 < params.nEnvs;
  let e = min(e0, params.nEnvs - 1u);
${held.join('\n')}
  for (var t = 0u; t < params.nSteps; t++) {
    let n = t * params.nEnvs + e;
    var x = array<f32, MLP_MAX_WIDTH>();
    if (live) { x = observe(e, n); }
${range(obsDim)
  .map((k) => `    let x${k} = x[${k}u];`)
  .join('\n')}
    var out = array<f32, MLP_MAX_WIDTH>();
    for (var q = 0u; q < ${lanes}u; q++) {
${body.join('\n')}
    }
    if (live) { act_and_step(e, t, n, out); }
  }
}`;
}
