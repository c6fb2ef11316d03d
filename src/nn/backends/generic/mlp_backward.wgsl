// MLP reverse mode. Needs MlpParams (nn/mlp-params.ts) and mlp_common.wgsl.
//
// With g_l = dL/dz_l (z_l the pre-activation of layer l, g_{L-1} = dL/doutput):
//   g_{l-1} = (W_lᵀ g_l) ⊙ (1 − h_l²)        mlp_backward_delta, one dense layer per dispatch
//   dL/dx   = W_0ᵀ g_0                       mlp_backward_delta with INPUT_GRAD
//   dL/dW_l = Σ_n g_l[n] h_l[n]ᵀ, dL/db_l = Σ_n g_l[n]
//                                            mlp_backward_params: per chunk of the batch
//                                            mlp_sum_chunks: sum of the chunks

// mlp_backward_delta: the product is M = W_lᵀ, so p.inDim = outDim of layer l, p.outDim = its inDim.
// g_l comes from gradOutput (sample-major) for the last layer, else from the deltas buffer.
override G_FROM_USER: bool = false;
// Write dL/dx (sample-major, no tanh factor) instead of g_{l-1}.
override INPUT_GRAD: bool = false;

// mlp_backward_params: an invocation owns ROWS rows (outputs o) and COLS columns (inputs i, and
// i = inDim for the bias) of [W_l | b_l], ROWS·COLS ≤ MAX_TILE. h_l is the network input
// (sample-major) for layer 0, else acts.
override ROWS: u32 = 1u;
override COLS: u32 = 1u;
const MAX_COLS = 8u;
const MAX_TILE = 64u;
override X_FROM_USER: bool = false;

@group(0) @binding(0) var<uniform> p: MlpParams;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read> gradOutput: array<f32>;
@group(0) @binding(4) var<storage, read> acts: array<f32>;
@group(0) @binding(5) var<storage, read_write> deltas: array<f32>;
@group(0) @binding(6) var<storage, read_write> result: array<f32>;

// ---- mlp_backward_delta ----

fn load_x(term: u32, k: u32, lane: Lane, s: u32) -> f32 {
  let n = sample_of(lane, s, p.batch);
  if (G_FROM_USER) {
    return gradOutput[n * p.inDim + k];
  }
  return deltas[p.xBase + n * p.inDim + k];
}

// M[j][o] = W_l[o][j], W_l row-major [p.inDim][p.outDim] here.
fn load_w4(term: u32, j: u32, o: u32, lane: Lane) -> vec4<f32> {
  let base = p.wBase + o * p.outDim;
  return vec4<f32>(theta[base + row(j)], theta[base + row(j + 1u)], theta[base + row(j + 2u)], theta[base + row(j + 3u)]);
}

// Input j of sample n: g_{l-1} (times 1 − h²) into deltas, or dL/dx into result.
fn store_delta(n: u32, j: u32, v: f32) {
  if (INPUT_GRAD) {
    result[n * p.outDim + j] = v;
  } else {
    deltas[p.yBase + n * p.outDim + j] = v * tanh_deriv(acts[p.hBase + n * p.outDim + j]);
  }
}

// Inputs j0 .. j0 + 4·NACC − 1 of the invocation's live samples, from acc[s·NACC + a][c].
fn store_deltas(acc: ptr<function, Acc>, j0: u32, lane: Lane) {
  for (var s = 0u; s < S; s++) {
    if (!sample_live(lane, s, p.batch)) { continue; }
    let n = lane.n0 + s * WG;
    for (var a = 0u; a < NACC; a++) {
      for (var c = 0u; c < 4u; c++) {
        let j = j0 + 4u * a + c;
        if (j >= p.outDim) { continue; }
        store_delta(n, j, (*acc)[s * NACC + a][c]);
      }
    }
  }
}

@compute @workgroup_size(WG)
fn mlp_backward_delta(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lane_of(wid, nwg, lid, p.batch, p.groupsPerSet, p.groups);
  if (lane.pset == 0xffffffffu) { return; }
  for (var j0 = 0u; j0 < p.outDim; j0 += 4u * NACC) {
    // Zeroed explicitly: with Dawn on lavapipe, `var acc: Acc;` inside this loop was seen to keep
    // the previous iteration's sums instead of starting from zero.
    var acc: Acc;
    for (var a = 0u; a < S * NACC; a++) { acc[a] = vec4<f32>(); }
    accumulate(&acc, 0u, j0, lane);
    store_deltas(&acc, j0, lane);
  }
}

// ---- mlp_backward_params ----
// Workgroup = (chunk of the batch, block of ROWS rows, block of WG·COLS columns). In the sample
// loop g_l[n][o] is the same for the whole workgroup and h_l[n][i] differs per invocation, so a
// sample costs COLS + ROWS loads for ROWS·COLS products. Partial sums go to
// result[chunk · paramCount + k], k the parameter's index in the layout.

fn load_g(o: u32, n: u32) -> f32 {
  if (G_FROM_USER) {
    return gradOutput[n * p.outDim + o];
  }
  return deltas[p.xBase + n * p.outDim + o];
}

fn load_h(i: u32, n: u32) -> f32 {
  if (X_FROM_USER) {
    return input[n * p.inDim + i];
  }
  return acts[p.hBase + n * p.inDim + i];
}

@compute @workgroup_size(WG)
fn mlp_backward_params(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.groups) { return; }
  let tiles = p.colBlocks * p.rowBlocks;
  let chunk = g / tiles;
  let tile = g - chunk * tiles;
  let rowBlock = tile / p.colBlocks;
  // Columns col0 + c·WG, c < COLS.
  let col0 = (tile - rowBlock * p.colBlocks) * WG * COLS + lid;
  let o0 = rowBlock * ROWS;

  var acc: array<f32, MAX_TILE>;
  for (var t = 0u; t < ROWS * COLS; t++) { acc[t] = 0.0; }
  let nEnd = min(p.batch, (chunk + 1u) * p.chunkLen);
  for (var n = chunk * p.chunkLen; n < nEnd; n++) {
    var h: array<f32, MAX_COLS>;
    for (var c = 0u; c < COLS; c++) {
      let col = col0 + c * WG;
      // The bias column multiplies 1; columns past it load a real input and store nothing.
      h[c] = select(load_h(min(col, p.inDim - 1u), n), 1.0, col == p.inDim);
    }
    for (var t = 0u; t < ROWS; t++) {
      let gv = load_g(row(o0 + t), n);
      for (var c = 0u; c < COLS; c++) { acc[t * COLS + c] += gv * h[c]; }
    }
  }

  let base = chunk * p.paramCount;
  for (var c = 0u; c < COLS; c++) {
    let col = col0 + c * WG;
    if (col > p.inDim) { continue; }
    for (var t = 0u; t < ROWS; t++) {
      let o = o0 + t;
      if (o >= p.outDim) { break; }
      let k = select(p.wBase + o * p.inDim + col, p.bBase + o, col == p.inDim);
      result[base + k] = acc[t * COLS + c];
    }
  }
}

// ---- mlp_sum_chunks ----
// result[outBase + k] = Σ_c partial[c · paramCount + k]; partial is bound as `deltas`.

@compute @workgroup_size(WG)
fn mlp_sum_chunks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.paramCount) { return; }
  var s = 0.0;
  for (var c = 0u; c < p.chunks; c++) {
    s += deltas[c * p.paramCount + k];
  }
  result[p.outBase + k] = s;
}
