// MLP forward pass with subgroups (see subgroup_loads.wgsl), one dense layer per dispatch: the
// bindings, overrides, uniforms and results of mlp_forward.wgsl, which comes before this file
// (with mlp_rows_sg.wgsl and what they need).

fn load_x4(term: u32, k: u32, lane: Lane, s: u32) -> vec4<f32> {
  let n = sample_of(lane, s, p.batch);
  var v: vec4<f32>;
  if (FIRST) {
    let r = n * p.inDim + k;
    v = vec4<f32>(input[r], input[r + 1u], input[r + 2u], input[r + 3u]);
  } else {
    let r = p.xBase + lane.pset * p.xSetStride + n * p.inDim + k;
    v = vec4<f32>(acts[r], acts[r + 1u], acts[r + 2u], acts[r + 3u]);
  }
  return guard4(v, k, p.inDim);
}

fn load_row4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32> {
  let r = p.wBase + lane.pset * p.paramStride + row(o) * p.inDim + k;
  return guard4(vec4<f32>(theta[r], theta[r + 1u], theta[r + 2u], theta[r + 3u]), k, p.inDim);
}

fn store_row(lane: Lane, n: u32, o: u32, v: f32) {
  store_output(lane, n, o, v);
}

@compute @workgroup_size(WG)
fn mlp_forward_sg(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sgid: u32,
) {
  if (spare_group(wid, nwg)) { return; }
  let lane = lane_of(wid, nwg, lid, p.batch, p.groupsPerSet, p.groups);
  let j8 = sgid & 7u;
  for (var o0 = 0u; o0 < p.outDim; o0 += 8u * NB) {
    var acc: Acc;
    for (var q = 0u; q < NB; q++) { init_rows(&acc, q, theta[p.bBase + lane.pset * p.paramStride + row(o0 + 8u * q + j8)]); }
    accumulate_rows(&acc, 0u, o0, lane, j8);
    store_rows(&acc, o0, lane);
  }
}
