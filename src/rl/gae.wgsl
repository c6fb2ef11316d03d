// Generalized Advantage Estimation (Schulman et al. 2016), one invocation per environment walking
// its samples backwards in time (sample n = t·nEnvs + e). Included before: GaeParams.
//   δ_t = r_t + γ·(1 − terminated_t)·V(s'_t) − V(s_t)
//   A_t = δ_t + γλ·(1 − done_t)·A_{t+1},  done = terminated or truncated,  A_T = 0
// V(s'_t) is the value of this step's own next observation (before any reset), so a time-limit
// truncation bootstraps from the final observation and the rollout's last step from s_T, while a
// termination does not bootstrap at all. returns = A + V are the value-function targets.

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: GaeParams;
@group(0) @binding(1) var<storage, read> step_in: array<f32>;     // [N][4] reward, terminated, truncated, _
@group(0) @binding(2) var<storage, read> values: array<f32>;      // [2N]: V(s_n), then V(s'_n)
@group(0) @binding(3) var<storage, read_write> adv: array<f32>;   // [N]
@group(0) @binding(4) var<storage, read_write> returns: array<f32>; // [N]

@compute @workgroup_size(WG)
fn gae(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= params.nEnvs) { return; }
  let n_total = params.nEnvs * params.nSteps;
  var next_adv = 0.0;
  for (var k = 0u; k < params.nSteps; k++) {
    let t = params.nSteps - 1u - k;
    let n = t * params.nEnvs + e;
    let reward = step_in[n * 4u];
    let terminated = step_in[n * 4u + 1u];
    let done = max(terminated, step_in[n * 4u + 2u]);
    let delta = reward + params.gamma * (1.0 - terminated) * values[n_total + n] - values[n];
    let a = delta + params.gamma * params.lambda * (1.0 - done) * next_adv;
    adv[n] = a;
    returns[n] = a + values[n];
    next_adv = a;
  }
}

// A ← (A − mean) / (std + 1e-8), with mean and std left in `stats` by a reduction. The epsilon
// keeps a batch of one (std 0) finite: its advantage becomes 0.
@group(0) @binding(5) var<storage, read> stats: array<f32>;

@compute @workgroup_size(WG)
fn normalize_advantages(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;
  if (n >= params.nEnvs * params.nSteps) { return; }
  adv[n] = (adv[n] - stats[S_ADV_MEAN_RAW]) / (stats[S_ADV_STD_RAW] + 1e-8);
}
