// Policy evaluation: one invocation per episode runs it to termination or truncation in one
// dispatch. Included before: EvalParams, rng.wgsl, heads.wgsl, the env file, mlp_sample.wgsl and
// the generated IS_DISCRETE, HEAD_DIM, ACTION_LOW, ACTION_HIGH, MLP_* constants.
// Random streams: stream = episode index; counter high word 3 = resets, 4 = action sampling.

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: EvalParams;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
@group(0) @binding(2) var<storage, read_write> results: array<f32>;  // [episodes][4]: return, length, terminated, 0

@compute @workgroup_size(WG)
fn evaluate(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.episodes) { return; }
  var state = env_reset(params.seed, e, vec2<u32>(0u, 3u));
  var ret = 0.0;
  var len = 0u;
  var terminated = false;
  let draws = select((HEAD_DIM + 1u) / 2u, 1u, IS_DISCRETE);
  loop {
    let obs = env_observe(state);
    var x: array<f32, MLP_MAX_WIDTH>;
    for (var i = 0u; i < OBS_DIM; i++) { x[i] = obs[i]; }
    let out = policy_forward(x);
    var z: array<f32, HEAD_MAX>;
    for (var j = 0u; j < HEAD_DIM; j++) { z[j] = out[j]; }
    var action: array<f32, ACTION_DIM>;
    let counter = len * draws;
    if (IS_DISCRETE) {
      var a = 0u;
      if (params.deterministic != 0u) {
        for (var j = 1u; j < HEAD_DIM; j++) { if (z[j] > z[a]) { a = j; } }
      } else {
        a = cat_sample(z, HEAD_DIM, rng_uniform2(params.seed, e, vec2<u32>(counter, 4u)).x);
      }
      action[0] = f32(a);
    } else {
      var a = z;
      if (params.deterministic == 0u) {
        var noise: array<f32, HEAD_MAX>;
        var log_std: array<f32, HEAD_MAX>;
        for (var j = 0u; j < HEAD_DIM; j += 2u) {
          let g = rng_normal2(params.seed, e, vec2<u32>(counter + j / 2u, 4u));
          noise[j] = g.x;
          if (j + 1u < HEAD_DIM) { noise[j + 1u] = g.y; }
        }
        for (var j = 0u; j < HEAD_DIM; j++) { log_std[j] = policy[params.logStdOffset + j]; }
        a = gauss_sample(z, log_std, noise, HEAD_DIM);
      }
      for (var j = 0u; j < HEAD_DIM; j++) { action[j] = clamp(a[j], ACTION_LOW[j], ACTION_HIGH[j]); }
    }
    let r = env_step(state, action);
    state = r.state;
    ret += r.reward;
    len += 1u;
    terminated = r.terminated;
    if (terminated || len >= MAX_EPISODE_STEPS) { break; }
  }
  results[e * 4u] = ret;
  results[e * 4u + 1u] = f32(len);
  results[e * 4u + 2u] = select(0.0, 1.0, terminated);
  results[e * 4u + 3u] = 0.0;
}
