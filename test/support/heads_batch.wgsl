// Batch kernels over the heads of src/dist/heads.wgsl, for the tests: one invocation per sample,
// sample-major buffers ([N] per-sample scalars, [N×A] per-sample vectors). Include after the
// HeadParams struct, rng.wgsl and heads.wgsl. Each entry point uses a prefix of the binding slots
// (params, out, then its inputs), so inputs of different entry points share slot numbers.
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: HeadParams;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@group(0) @binding(2) var<storage, read> cat_logits: array<f32>;
@group(0) @binding(3) var<storage, read> cat_actions: array<f32>;
@group(0) @binding(3) var<storage, read> cat_logits_new: array<f32>;
@group(0) @binding(3) var<storage, read> cat_v: array<f32>;
@group(0) @binding(3) var<storage, read> cat_u: array<f32>;

@group(0) @binding(2) var<storage, read> gauss_log_std: array<f32>;
@group(0) @binding(3) var<storage, read> gauss_mean: array<f32>;
@group(0) @binding(3) var<storage, read> gauss_v: array<f32>;
@group(0) @binding(4) var<storage, read> gauss_actions: array<f32>;
@group(0) @binding(4) var<storage, read> gauss_log_std_new: array<f32>;
@group(0) @binding(5) var<storage, read> gauss_mean_new: array<f32>;

fn head_sample_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn load_cat_logits(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = cat_logits[i * params.a + j]; }
  return r;
}

fn load_cat_logits_new(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = cat_logits_new[i * params.a + j]; }
  return r;
}

fn load_cat_v(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = cat_v[i * params.a + j]; }
  return r;
}

/** The class index stored as f32, rounded; out-of-range values clamp into [0, A) (NaN: some class). */
fn load_cat_action(i: u32) -> u32 {
  return u32(max(round(cat_actions[i]), 0.0));
}

fn load_gauss_log_std() -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_log_std[params.logStdOffset + j]; }
  return r;
}

fn load_gauss_log_std_new() -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_log_std_new[params.logStdOffsetNew + j]; }
  return r;
}

fn load_gauss_mean(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_mean[i * params.a + j]; }
  return r;
}

fn load_gauss_mean_new(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_mean_new[i * params.a + j]; }
  return r;
}

fn load_gauss_actions(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_actions[i * params.a + j]; }
  return r;
}

fn load_gauss_v(i: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < params.a; j++) { r[j] = gauss_v[i * params.a + j]; }
  return r;
}

fn store_vec(i: u32, x: HeadVec) {
  for (var j = 0u; j < params.a; j++) { out[i * params.a + j] = x[j]; }
}

// --- categorical ---------------------------------------------------------------------------

@compute @workgroup_size(WG)
fn cat_log_prob_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = cat_log_prob(load_cat_logits(i), params.a, load_cat_action(i));
}

@compute @workgroup_size(WG)
fn cat_log_softmax_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, cat_log_softmax(load_cat_logits(i), params.a));
}

@compute @workgroup_size(WG)
fn cat_entropy_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = cat_entropy(load_cat_logits(i), params.a);
}

@compute @workgroup_size(WG)
fn cat_kl_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = cat_kl(load_cat_logits(i), load_cat_logits_new(i), params.a);
}

/** Sample i uses the first uniform of counter (counterBase + i, 0); the action is written as f32. */
@compute @workgroup_size(WG)
fn cat_sample_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  let u = rng_uniform2(params.seed, params.stream, vec2<u32>(params.counterBase + i, 0u)).x;
  out[i] = f32(cat_sample(load_cat_logits(i), params.a, u));
}

/** Sample i uses the given uniform cat_u[i] in [0, 1) (for callers with their own random numbers). */
@compute @workgroup_size(WG)
fn cat_sample_uniforms_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = f32(cat_sample(load_cat_logits(i), params.a, cat_u[i]));
}

@compute @workgroup_size(WG)
fn cat_grad_log_prob_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, cat_grad_log_prob(load_cat_logits(i), params.a, load_cat_action(i)));
}

@compute @workgroup_size(WG)
fn cat_fisher_mul_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, cat_fisher_mul(load_cat_logits(i), params.a, load_cat_v(i)));
}

// --- diagonal Gaussian (log-std read at params.logStdOffset of its buffer) --------------------

@compute @workgroup_size(WG)
fn gauss_log_prob_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = gauss_log_prob(load_gauss_mean(i), load_gauss_log_std(), load_gauss_actions(i), params.a);
}

@compute @workgroup_size(WG)
fn gauss_entropy_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = gauss_entropy(load_gauss_log_std(), params.a);
}

/** Old: (gauss_mean, gauss_log_std at logStdOffset); new: (gauss_mean_new, gauss_log_std_new at logStdOffsetNew). */
@compute @workgroup_size(WG)
fn gauss_kl_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = gauss_kl(load_gauss_mean(i), load_gauss_log_std(), load_gauss_mean_new(i), load_gauss_log_std_new(), params.a);
}

/**
 * Sample i, dimension j uses rng_normal2 at counter (counterBase + i·ceil(A/2) + j/2, 0):
 * component .x for even j, .y for odd j. Each sample owns ceil(A/2) consecutive counters.
 */
@compute @workgroup_size(WG)
fn gauss_sample_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  let base = params.counterBase + i * ((params.a + 1u) / 2u);
  var z: HeadVec;
  for (var j = 0u; j < params.a; j += 2u) {
    let g = rng_normal2(params.seed, params.stream, vec2<u32>(base + j / 2u, 0u));
    z[j] = g.x;
    if (j + 1u < params.a) { z[j + 1u] = g.y; }
  }
  store_vec(i, gauss_sample(load_gauss_mean(i), load_gauss_log_std(), z, params.a));
}

@compute @workgroup_size(WG)
fn gauss_grad_log_prob_mean_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, gauss_grad_log_prob_mean(load_gauss_mean(i), load_gauss_log_std(), load_gauss_actions(i), params.a));
}

@compute @workgroup_size(WG)
fn gauss_grad_log_prob_logstd_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, gauss_grad_log_prob_logstd(load_gauss_mean(i), load_gauss_log_std(), load_gauss_actions(i), params.a));
}

@compute @workgroup_size(WG)
fn gauss_fisher_mul_mean_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = head_sample_index(gid, nwg);
  if (i >= params.n) { return; }
  store_vec(i, gauss_fisher_mul_mean(load_gauss_log_std(), load_gauss_v(i), params.a));
}
