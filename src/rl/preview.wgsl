// Live preview for the demo page: nEnvs environments stepped nSteps times with the current policy
// in ONE dispatch (one invocation per env loops over time), every frame recorded, so the page can
// animate what the policy does while training goes on, with one readback per chunk of frames.
// Also `probe`: the policy head's outputs on given observations (pictures of the policy).
//
// Included before: PreviewParams, rng.wgsl, heads.wgsl, the env file, mlp_sample.wgsl, policy_act.wgsl and the
// generated IS_DISCRETE, HEAD_DIM, ACTION_LOW, ACTION_HIGH, MLP_* constants.
// Random streams: stream = env index; counter high word 5 = resets (low = episode number ·
// RESET_COUNTERS), 6 = action sampling (low = the env's step count · draws per step + draw).
// The training rollout uses high words 1 and 2 and evaluation 3 and 4, so no draws are shared.

override WG: u32 = 64u;

// Persistent per-env record, carried from one chunk to the next so episodes continue smoothly.
const ENV_REC: u32 = STATE_DIM + 3u;   // state, episode return so far, steps so far, episode number
// One frame per env and step, frame-major: frames[(t · nEnvs + e) · FRAME_REC + ...].
const FRAME_REC: u32 = STATE_DIM + 4u; // state before step t, action at t, return before t, steps before t, end code
// End code of step t: 0 = the episode goes on, 1 = terminated, 2 = truncated (time limit).

@group(0) @binding(0) var<uniform> params: PreviewParams;
@group(0) @binding(1) var<storage, read> policy: array<f32>;
// preview/preview_init: the per-env records [nEnvs][ENV_REC]. probe: observations [count][OBS_DIM].
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
// preview: the frames [nSteps][nEnvs][FRAME_REC]. probe: head outputs [count][HEAD_DIM].
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn preview_reset(e: u32, episode: u32) {
  let s = env_reset(params.seed, e, vec2<u32>(episode * RESET_COUNTERS, 5u));
  for (var i = 0u; i < STATE_DIM; i++) { state[e * ENV_REC + i] = s[i]; }
  state[e * ENV_REC + STATE_DIM] = 0.0;
  state[e * ENV_REC + STATE_DIM + 1u] = 0.0;
  state[e * ENV_REC + STATE_DIM + 2u] = bitcast<f32>(episode);
}

@compute @workgroup_size(WG)
fn preview_init(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.nEnvs) { return; }
  preview_reset(e, 0u);
}

@compute @workgroup_size(WG)
fn preview(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.nEnvs) { return; }
  let base = e * ENV_REC;
  var s: array<f32, STATE_DIM>;
  for (var i = 0u; i < STATE_DIM; i++) { s[i] = state[base + i]; }
  var ret = state[base + STATE_DIM];
  var len = state[base + STATE_DIM + 1u];
  var episode = bitcast<u32>(state[base + STATE_DIM + 2u]);
  for (var t = 0u; t < params.nSteps; t++) {
    let action = policy_act(env_observe(s), params.deterministic != 0u, params.logStdOffset, params.seed, e, params.stepBase + t, 6u);
    let r = env_step(s, action);
    let truncated = u32(len) + 1u >= MAX_EPISODE_STEPS;
    let f = (t * params.nEnvs + e) * FRAME_REC;
    for (var i = 0u; i < STATE_DIM; i++) { out[f + i] = s[i]; }
    out[f + STATE_DIM] = action[0];
    out[f + STATE_DIM + 1u] = ret;
    out[f + STATE_DIM + 2u] = len;
    out[f + STATE_DIM + 3u] = select(select(0.0, 2.0, truncated), 1.0, r.terminated);
    if (r.terminated || truncated) {
      episode += 1u;
      s = env_reset(params.seed, e, vec2<u32>(episode * RESET_COUNTERS, 5u));
      ret = 0.0;
      len = 0.0;
    } else {
      s = r.state;
      ret += r.reward;
      len += 1.0;
    }
  }
  for (var i = 0u; i < STATE_DIM; i++) { state[base + i] = s[i]; }
  state[base + STATE_DIM] = ret;
  state[base + STATE_DIM + 1u] = len;
  state[base + STATE_DIM + 2u] = bitcast<f32>(episode);
}

@compute @workgroup_size(WG)
fn probe(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= params.count) { return; }
  var x: array<f32, MLP_MAX_WIDTH>;
  for (var i = 0u; i < OBS_DIM; i++) { x[i] = state[n * OBS_DIM + i]; }
  let y = policy_forward(x);
  for (var j = 0u; j < HEAD_DIM; j++) { out[n * HEAD_DIM + j] = y[j]; }
}
