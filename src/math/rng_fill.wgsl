// Fills a buffer with uniforms or normals; one invocation per pair of outputs (one counter value).
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: RngFillParams;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn rng_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let pair = gid.x + gid.y * nwg.x * WG;
  let i = 2u * pair;
  if (i >= params.n) { return; }
  let counter = vec2<u32>(params.counterBase + pair, 0u);
  var v: vec2<f32>;
  if (params.normal != 0u) {
    v = rng_normal2(params.seed, params.stream, counter);
  } else {
    v = rng_uniform2(params.seed, params.stream, counter);
  }
  out[i] = v.x;
  if (i + 1u < params.n) { out[i + 1u] = v.y; }
}
