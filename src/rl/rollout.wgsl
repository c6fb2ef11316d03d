// Rollout: one invocation per environment steps it nSteps times with the current policy, entirely
// on the GPU (no readback per step). Included before this file: RolloutParams, rng.wgsl,
// heads.wgsl, the env file (STATE_DIM, OBS_DIM, env_reset/env_observe/env_step), mlp_sample.wgsl
// and the generated constants IS_DISCRETE, HEAD_DIM, ACTION_LOW, ACTION_HIGH, MLP_*.
//
// Sample n = t·nEnvs + e (time-major), so GAE can walk one env's samples with stride nEnvs.
// Random streams: stream = env index; counter high word 1 = env resets (counter low = that env's
// episode number), 2 = action sampling (counter low = global step · draws per step + draw).

override WG: u32 = 64u;

const ENV_REC: u32 = STATE_DIM + OBS_DIM + 4u;  // state, obs, episode return, length, elapsed, episodes
const REC_OBS: u32 = STATE_DIM;
const REC_RET: u32 = STATE_DIM + OBS_DIM;
const REC_LEN: u32 = REC_RET + 1u;
const REC_ELAPSED: u32 = REC_RET + 2u;
const REC_EPISODES: u32 = REC_RET + 3u;
const ACT_STORE: u32 = select(HEAD_DIM, 1u, IS_DISCRETE);

struct EpisodeLog {
  count: atomic<u32>,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  entries: array<vec2<f32>>,  // (return, length) of each finished episode
}

@group(0) @binding(0) var<uniform> params: RolloutParams;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
@group(0) @binding(2) var<storage, read_write> envs: array<f32>;
@group(0) @binding(3) var<storage, read_write> obs_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> act_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> step_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> episodes: EpisodeLog;

fn load_state(e: u32) -> array<f32, STATE_DIM> {
  var s: array<f32, STATE_DIM>;
  for (var i = 0u; i < STATE_DIM; i++) { s[i] = envs[e * ENV_REC + i]; }
  return s;
}

fn store_state_obs(e: u32, s: array<f32, STATE_DIM>) {
  for (var i = 0u; i < STATE_DIM; i++) { envs[e * ENV_REC + i] = s[i]; }
  let o = env_observe(s);
  for (var i = 0u; i < OBS_DIM; i++) { envs[e * ENV_REC + REC_OBS + i] = o[i]; }
}

fn reset_env(e: u32, episode: u32) {
  store_state_obs(e, env_reset(params.seed, e, vec2<u32>(episode * RESET_COUNTERS, 1u)));
  envs[e * ENV_REC + REC_RET] = 0.0;
  envs[e * ENV_REC + REC_LEN] = 0.0;
  envs[e * ENV_REC + REC_ELAPSED] = bitcast<f32>(0u);
  envs[e * ENV_REC + REC_EPISODES] = bitcast<f32>(episode + 1u);
}

// Resets every environment to its first episode (called once when training starts).
@compute @workgroup_size(WG)
fn rollout_init(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.nEnvs) { return; }
  reset_env(e, 0u);
}

// Env e's observation at step t (sample n), written to the batch; the policy's input.
fn observe(e: u32, n: u32) -> array<f32, MLP_MAX_WIDTH> {
  var x: array<f32, MLP_MAX_WIDTH>;
  for (var i = 0u; i < OBS_DIM; i++) {
    x[i] = envs[e * ENV_REC + REC_OBS + i];
    obs_out[n * OBS_DIM + i] = x[i];
  }
  return x;
}

// Samples env e's action at step t (sample n) from the policy's output, steps the env and writes
// the batch and the env's record (a finished episode is logged and the env reset).
fn act_and_step(e: u32, t: u32, n: u32, out: array<f32, MLP_MAX_WIDTH>) {
  let base = e * ENV_REC;
  let n_total = params.nEnvs * params.nSteps;
  let draws = select((HEAD_DIM + 1u) / 2u, 1u, IS_DISCRETE);
  var dist: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { dist[j] = out[j]; }

  let counter = (params.stepBase + t) * draws;
  var action: array<f32, ACTION_DIM>;
  if (IS_DISCRETE) {
    let u = rng_uniform2(params.seed, e, vec2<u32>(counter, 2u)).x;
    let a = f32(cat_sample(dist, HEAD_DIM, u));
    act_out[n] = a;
    action[0] = a;
  } else {
    var z: array<f32, HEAD_MAX>;
    for (var j = 0u; j < HEAD_DIM; j += 2u) {
      let g = rng_normal2(params.seed, e, vec2<u32>(counter + j / 2u, 2u));
      z[j] = g.x;
      if (j + 1u < HEAD_DIM) { z[j + 1u] = g.y; }
    }
    var log_std: array<f32, HEAD_MAX>;
    for (var j = 0u; j < HEAD_DIM; j++) { log_std[j] = policy[params.logStdOffset + j]; }
    let a = gauss_sample(dist, log_std, z, HEAD_DIM);
    for (var j = 0u; j < HEAD_DIM; j++) {
      // The policy is scored on the unclipped sample; the env sees it clipped to the bounds.
      act_out[n * HEAD_DIM + j] = a[j];
      action[j] = clamp(a[j], ACTION_LOW[j], ACTION_HIGH[j]);
    }
  }

  let r = env_step(load_state(e), action);
  let elapsed = bitcast<u32>(envs[base + REC_ELAPSED]) + 1u;
  let truncated = elapsed >= MAX_EPISODE_STEPS;
  step_out[n * 4u] = r.reward;
  step_out[n * 4u + 1u] = select(0.0, 1.0, r.terminated);
  step_out[n * 4u + 2u] = select(0.0, 1.0, truncated);
  step_out[n * 4u + 3u] = 0.0;
  let post = env_observe(r.state);
  for (var i = 0u; i < OBS_DIM; i++) { obs_out[(n_total + n) * OBS_DIM + i] = post[i]; }

  let ret = envs[base + REC_RET] + r.reward;
  let len = envs[base + REC_LEN] + 1.0;
  if (r.terminated || truncated) {
    let slot = atomicAdd(&episodes.count, 1u);
    if (slot < params.episodeCapacity) { episodes.entries[slot] = vec2<f32>(ret, len); }
    reset_env(e, bitcast<u32>(envs[base + REC_EPISODES]));
  } else {
    store_state_obs(e, r.state);
    envs[base + REC_RET] = ret;
    envs[base + REC_LEN] = len;
    envs[base + REC_ELAPSED] = bitcast<f32>(elapsed);
  }
}

// One invocation per env, the policy evaluated per invocation (mlp_sample.wgsl). Devices with
// subgroups of exactly 8 run rollout_sg instead (nn/backends/subgroup8/rollout-policy.ts), which shares this step.
@compute @workgroup_size(WG)
fn rollout(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.nEnvs) { return; }
  for (var t = 0u; t < params.nSteps; t++) {
    let n = t * params.nEnvs + e;
    act_and_step(e, t, n, policy_forward(observe(e, n)));
  }
}
