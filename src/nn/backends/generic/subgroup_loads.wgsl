// Dense-layer products with subgroups: the MLP kernels *_sg.wgsl and value_grad_sg.wgsl, for
// devices with the `subgroups` feature and subgroups of at least 8 invocations.
//
// Why: on a CPU Vulkan driver (lavapipe) every storage load whose address is not a compile-time
// constant runs once per SIMD lane, however uniform the address is, so a weight that all 8 lanes
// need costs 8 loads. Here lane j of each group of 8 loads a different weight vector and
// subgroupBroadcast hands it to the others (a register shuffle): weight loads drop 8×. Each lane's
// loads are 4 consecutive floats (activations are sample-major, W row-major), which the driver
// merges into one vec4 load (measurements: docs/performance-log.md).
//
// Lanes are told apart by subgroup_invocation_id (not local_invocation_index, whose relation to
// subgroup lanes WGSL leaves open); lanes 8 and up of a wider subgroup load duplicates.

// v with the components whose index k + c is past len set to 0 (reads there may be another
// row's values, or whatever robust access returns past the end of a buffer).
fn guard4(v: vec4<f32>, k: u32, len: u32) -> vec4<f32> {
  return select(vec4<f32>(), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(len));
}

// The values of v on lanes 0..7 of the subgroup, as two vec4 (lanes 0–3, 4–7).
fn lanes8(v: f32) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(
    vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u)),
    vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u)),
  );
}
