// Policy evaluation: one invocation per episode runs it to termination or truncation in one
// dispatch. Included before: EvalParams, rng.wgsl, heads.wgsl, the env file, mlp_sample.wgsl,
// policy_act.wgsl and the generated IS_DISCRETE, HEAD_DIM, ACTION_LOW, ACTION_HIGH, MLP_* constants.
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
  loop {
    let action = policy_act(env_observe(state), params.deterministic != 0u, params.logStdOffset, params.seed, e, len, 4u);
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
