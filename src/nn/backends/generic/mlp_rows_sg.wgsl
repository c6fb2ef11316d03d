// The row-form product of the subgroup kernels mlp_forward_sg.wgsl and mlp_jvp_sg.wgsl; needs
// mlp_common.wgsl, subgroup_loads.wgsl and mlp_common_sg.wgsl.

// Blocks of 8 output rows per pass, one row per lane of the broadcast group.
override NB: u32 = 1u;

// acc[(s·NB + q)·2 + h][c] = b[o0 + 8q + 4h + c] for every sample s, where lane j holds
// bv = b[row(o0 + 8q + j)] (lanes load the bias the way they load weights).
fn init_rows(acc: ptr<function, Acc>, q: u32, bv: f32) {
  let b = lanes8(bv);
  for (var s = 0u; s < S; s++) {
    (*acc)[(s * NB + q) * 2u] = b[0];
    (*acc)[(s * NB + q) * 2u + 1u] = b[1];
  }
}

// Row form, for M x with M row-major: acc[(s·NB + q)·2 + h][c] += Σ_k M[o0 + 8q + 4h + c][k] · x_s[k].
// The kernel file defines
//   fn load_x4(term: u32, k: u32, lane: Lane, s: u32) -> vec4<f32>    x_s[k .. k+3], guarded
//   fn load_row4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32>  M[row(o)][k .. k+3], guarded
//   fn store_row(lane: Lane, n: u32, o: u32, v: f32)                  result o of sample n
fn accumulate_rows(acc: ptr<function, Acc>, term: u32, o0: u32, lane: Lane, j8: u32) {
  for (var k = 0u; k < p.inDim; k += 4u) {
    var xs: array<vec4<f32>, MAX_S>;
    for (var s = 0u; s < MAX_S; s++) { xs[s] = vec4<f32>(); }
    for (var s = 0u; s < S; s++) { xs[s] = load_x4(term, k, lane, s); }
    for (var q = 0u; q < NB; q++) {
      let wv = load_row4(term, o0 + 8u * q + j8, k, lane);
      var w: vec4<f32>;
      w = subgroupBroadcast(wv, 0u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 0u][0u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 1u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 0u][1u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 2u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 0u][2u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 3u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 0u][3u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 4u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 1u][0u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 5u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 1u][1u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 6u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 1u][2u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 7u); for (var s = 0u; s < S; s++) { (*acc)[(s * NB + q) * 2u + 1u][3u] += dot(w, xs[s]); }
    }
  }
}

// Hands every live sample's results o0 .. o0 + 8·NB - 1 (those < p.outDim) to store_row.
fn store_rows(acc: ptr<function, Acc>, o0: u32, lane: Lane) {
  for (var s = 0u; s < S; s++) {
    if (!sample_live(lane, s, p.batch)) { continue; }
    let n = lane.n0 + s * WG;
    for (var h = 0u; h < 2u * NB; h++) {
      for (var c = 0u; c < 4u; c++) {
        let o = o0 + 4u * h + c;
        if (o >= p.outDim) { continue; }
        store_row(lane, n, o, (*acc)[s * NB * 2u + h][c]);
      }
    }
  }
}
