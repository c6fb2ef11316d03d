// Shared by the MLP's subgroup kernels (mlp_forward_sg.wgsl, mlp_jvp_sg.wgsl,
// mlp_backward_delta_sg.wgsl); needs MlpParams, mlp_common.wgsl and subgroup_loads.wgsl.

// Whether this workgroup is a spare of the grid. The test reads only uniform values, so spare
// workgroups leave as a whole and every subgroup stays in uniform control flow for its
// broadcasts (lane_of's test would not do: its result also carries the lane's sample).
fn spare_group(wid: vec3<u32>, nwg: vec3<u32>) -> bool {
  return wid.x + wid.y * nwg.x >= p.groups;
}
