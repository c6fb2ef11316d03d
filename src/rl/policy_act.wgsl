// Acting with the current policy in one environment, for kernels that run whole episodes
// (evaluation, the demo's preview): the head output for `obs`, then the argmax / mean
// (deterministic) or a sample, clipped to the action bounds. Included after rng.wgsl, heads.wgsl,
// the env file and mlp_sample.wgsl (which reads `policy`), with the generated IS_DISCRETE,
// HEAD_DIM, ACTION_LOW and ACTION_HIGH. Random numbers: (seed, stream, (step·draws + j, domain)).

fn policy_act(
  obs: array<f32, OBS_DIM>,
  deterministic: bool,
  log_std_offset: u32,
  seed: u32,
  stream: u32,
  step: u32,
  domain: u32,
) -> array<f32, ACTION_DIM> {
  var x: array<f32, MLP_MAX_WIDTH>;
  for (var i = 0u; i < OBS_DIM; i++) { x[i] = obs[i]; }
  let y = policy_forward(x);
  var z: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { z[j] = y[j]; }
  let counter = step * select((HEAD_DIM + 1u) / 2u, 1u, IS_DISCRETE);
  var action: array<f32, ACTION_DIM>;
  if (IS_DISCRETE) {
    var a = 0u;
    if (deterministic) {
      for (var j = 1u; j < HEAD_DIM; j++) { if (z[j] > z[a]) { a = j; } }
    } else {
      a = cat_sample(z, HEAD_DIM, rng_uniform2(seed, stream, vec2<u32>(counter, domain)).x);
    }
    action[0] = f32(a);
  } else {
    var a = z;
    if (!deterministic) {
      var noise: array<f32, HEAD_MAX>;
      var log_std: array<f32, HEAD_MAX>;
      for (var j = 0u; j < HEAD_DIM; j += 2u) {
        let g = rng_normal2(seed, stream, vec2<u32>(counter + j / 2u, domain));
        noise[j] = g.x;
        if (j + 1u < HEAD_DIM) { noise[j + 1u] = g.y; }
      }
      for (var j = 0u; j < HEAD_DIM; j++) { log_std[j] = policy[log_std_offset + j]; }
      a = gauss_sample(z, log_std, noise, HEAD_DIM);
    }
    for (var j = 0u; j < HEAD_DIM; j++) { action[j] = clamp(a[j], ACTION_LOW[j], ACTION_HIGH[j]); }
  }
  return action;
}
