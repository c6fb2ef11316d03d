// MLP reverse mode, the deltas (g_{l-1} = (W_lᵀ g_l) ⊙ (1 − h_l²), or dL/dx = W_0ᵀ g_0), with
// subgroups (see subgroup_loads.wgsl); the same uniforms and results as mlp_backward_delta. Here
// p.inDim = outDim of layer l (the sum runs over it) and p.outDim = its inDim. mlp_backward.wgsl
// (its bindings, overrides and store_deltas) comes before this file, with subgroup_loads.wgsl and
// mlp_common_sg.wgsl.

// g_l[n][o .. o+3] of sample s.
fn load_g4(o: u32, lane: Lane, s: u32) -> vec4<f32> {
  let n = sample_of(lane, s, p.batch);
  var v: vec4<f32>;
  if (G_FROM_USER) {
    let r = n * p.inDim + o;
    v = vec4<f32>(gradOutput[r], gradOutput[r + 1u], gradOutput[r + 2u], gradOutput[r + 3u]);
  } else {
    let r = p.xBase + n * p.inDim + o;
    v = vec4<f32>(deltas[r], deltas[r + 1u], deltas[r + 2u], deltas[r + 3u]);
  }
  return guard4(v, o, p.inDim);
}

// W_l[o][j .. j+3] (W_l is [p.inDim][p.outDim] row-major here); rows past the end read the last.
fn load_col4(o: u32, j: u32) -> vec4<f32> {
  let r = p.wBase + min(o, p.inDim - 1u) * p.outDim + j;
  return guard4(vec4<f32>(theta[r], theta[r + 1u], theta[r + 2u], theta[r + 3u]), j, p.outDim);
}

@compute @workgroup_size(WG)
fn mlp_backward_delta_sg(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sgid: u32,
) {
  if (spare_group(wid, nwg)) { return; }
  let lane = lane_of(wid, nwg, lid, p.batch, p.groupsPerSet, p.groups);
  let j8 = sgid & 7u;
  for (var j0 = 0u; j0 < p.outDim; j0 += 4u * NACC) {
    var acc: Acc;
    for (var a = 0u; a < MAX_ACC; a++) { acc[a] = vec4<f32>(); }
    // acc[s·NACC + q] += Σ_o g_l[n][o] · W_l[o][j0 + 4q .. +3]: lane j loads row o + j, the
    // broadcast hands it to all lanes.
    for (var o = 0u; o < p.inDim; o += 8u) {
      var xa: array<vec4<f32>, MAX_S>;
      var xb: array<vec4<f32>, MAX_S>;
      for (var s = 0u; s < MAX_S; s++) { xa[s] = vec4<f32>(); xb[s] = vec4<f32>(); }
      for (var s = 0u; s < S; s++) {
        xa[s] = load_g4(o, lane, s);
        xb[s] = load_g4(o + 4u, lane, s);
      }
      for (var q = 0u; q < NACC; q++) {
        let wv = load_col4(o + j8, j0 + 4u * q);
        var w: vec4<f32>;
        w = subgroupBroadcast(wv, 0u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xa[s].x * w; }
        w = subgroupBroadcast(wv, 1u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xa[s].y * w; }
        w = subgroupBroadcast(wv, 2u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xa[s].z * w; }
        w = subgroupBroadcast(wv, 3u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xa[s].w * w; }
        w = subgroupBroadcast(wv, 4u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xb[s].x * w; }
        w = subgroupBroadcast(wv, 5u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xb[s].y * w; }
        w = subgroupBroadcast(wv, 6u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xb[s].z * w; }
        w = subgroupBroadcast(wv, 7u); for (var s = 0u; s < S; s++) { acc[s * NACC + q] += xb[s].w * w; }
      }
    }
    store_deltas(&acc, j0, lane);
  }
}
