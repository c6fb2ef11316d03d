// Batched vector env: one invocation per environment. Built as
//   VecEnvParams struct + rng.wgsl + one env file (cartpole.wgsl, ...) + this file.
//
// Buffers (N = params.num_envs):
//   env_state     N x STATE_DIM   live state (what the next step starts from)
//   env_elapsed   N               steps since the env's last reset
//   env_episodes  N               resets done (the next reset's episode number)
//   actions       N x ACTION_DIM
//   out_f32       [obs N x OBS_DIM | state N x STATE_DIM | reward N | next_obs N x OBS_DIM]
//   out_flags     [terminated N | truncated N]  (0 or 1)
// obs and state are the step's result before any automatic reset; next_obs is what the env
// acts on next (the reset observation after an automatic reset).
//
// Reset randomness: env i in episode e draws from rng key (seed, stream = i) with counter
// (e * RESET_COUNTERS, 1): the high counter word 1 is the env-reset domain.

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: VecEnvParams;
@group(0) @binding(1) var<storage, read_write> env_state: array<f32>;
@group(0) @binding(2) var<storage, read_write> env_elapsed: array<u32>;
@group(0) @binding(3) var<storage, read_write> env_episodes: array<u32>;
@group(0) @binding(4) var<storage, read> actions: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_f32: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_flags: array<u32>;

fn vec_env_load_state(i: u32) -> array<f32, STATE_DIM> {
  var s: array<f32, STATE_DIM>;
  for (var k = 0u; k < STATE_DIM; k++) { s[k] = env_state[i * STATE_DIM + k]; }
  return s;
}

fn vec_env_store_state(i: u32, s: array<f32, STATE_DIM>) {
  var v = s;
  for (var k = 0u; k < STATE_DIM; k++) { env_state[i * STATE_DIM + k] = v[k]; }
}

// Writes an observation at out_f32[base + i * OBS_DIM ..].
fn vec_env_store_obs(base: u32, i: u32, s: array<f32, STATE_DIM>) {
  var o = env_observe(s);
  for (var k = 0u; k < OBS_DIM; k++) { out_f32[base + i * OBS_DIM + k] = o[k]; }
}

// Offsets of the sections of out_f32 for n envs.
fn vec_env_state_base(n: u32) -> u32 { return n * OBS_DIM; }
fn vec_env_reward_base(n: u32) -> u32 { return n * (OBS_DIM + STATE_DIM); }
fn vec_env_next_obs_base(n: u32) -> u32 { return n * (OBS_DIM + STATE_DIM + 1u); }

fn vec_env_reset_one(i: u32) -> array<f32, STATE_DIM> {
  let episode = env_episodes[i];
  let s = env_reset(params.seed, i, vec2<u32>(episode * RESET_COUNTERS, 1u));
  env_elapsed[i] = 0u;
  env_episodes[i] = episode + 1u;
  return s;
}

@compute @workgroup_size(WG)
fn vec_env_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let n = params.num_envs;
  if (i >= n) { return; }

  var a: array<f32, ACTION_DIM>;
  for (var k = 0u; k < ACTION_DIM; k++) { a[k] = actions[i * ACTION_DIM + k]; }
  let r = env_step(vec_env_load_state(i), a);
  var post = r.state;
  let elapsed = env_elapsed[i] + 1u;
  // Gymnasium's TimeLimit: independent of terminated.
  let truncated = elapsed >= MAX_EPISODE_STEPS;

  let state_base = vec_env_state_base(n);
  let reward_base = vec_env_reward_base(n);
  vec_env_store_obs(0u, i, post);
  for (var k = 0u; k < STATE_DIM; k++) { out_f32[state_base + i * STATE_DIM + k] = post[k]; }
  out_f32[reward_base + i] = r.reward;
  out_flags[i] = select(0u, 1u, r.terminated);
  out_flags[n + i] = select(0u, 1u, truncated);

  var next = post;
  if (params.auto_reset != 0u && (r.terminated || truncated)) {
    next = vec_env_reset_one(i);
  } else {
    env_elapsed[i] = elapsed;
  }
  vec_env_store_state(i, next);
  vec_env_store_obs(vec_env_next_obs_base(n), i, next);
}

// Resets every env (elapsed 0, episode count + 1) and writes the initial observations to the
// next_obs section of out_f32.
@compute @workgroup_size(WG)
fn vec_env_reset(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let n = params.num_envs;
  if (i >= n) { return; }
  let s = vec_env_reset_one(i);
  vec_env_store_state(i, s);
  vec_env_store_obs(vec_env_next_obs_base(n), i, s);
}
