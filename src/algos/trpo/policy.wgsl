// Kernels of the TRPO policy step that are specific to TRPO (the MLP passes, reductions and vector
// ops come from their own files). Included before: PolicyParams, heads.wgsl, and the generated
// constants IS_DISCRETE, HEAD_DIM and the stats slots S_*.
//
// Notation (Schulman et al. 2015): θ policy parameters, z_n the network output for sample n
// (logits, or the Gaussian mean), s the state-independent log-std, A_n the advantage,
// L(θ) = mean_n(π_θ(a_n|s_n) / π_old(a_n|s_n) · A_n) + entCoef · mean_n H(π_θ(·|s_n)).

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: PolicyParams;
@group(0) @binding(1) var<storage, read> theta: array<f32>;      // θ_old [P]
@group(0) @binding(2) var<storage, read> cand: array<f32>;       // line-search candidates [K][P]
@group(0) @binding(3) var<storage, read> dist: array<f32>;       // network outputs z [N][HEAD_DIM] (candidate_terms: [K][N][HEAD_DIM])
@group(0) @binding(4) var<storage, read> adv: array<f32>;        // advantages [N]
@group(0) @binding(5) var<storage, read> actions: array<f32>;    // [N][ACT_STORE]
@group(0) @binding(6) var<storage, read> aux: array<f32>;        // per entry point, see there
@group(0) @binding(7) var<storage, read_write> out: array<f32>;  // per entry point, see there
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;

const ACT_STORE: u32 = select(HEAD_DIM, 1u, IS_DISCRETE);

// ∂H/∂z_k = −p_k (log p_k + H) for the categorical entropy H = −Σ p log p.
fn cat_grad_entropy(z: array<f32, HEAD_MAX>, n: u32) -> array<f32, HEAD_MAX> {
  let lp = cat_log_softmax(z, n);
  let h = cat_entropy(z, n);
  var g: array<f32, HEAD_MAX>;
  for (var j = 0u; j < n; j++) { g[j] = -exp(lp[j]) * (lp[j] + h); }
  return g;
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

fn load_dist(base: u32) -> array<f32, HEAD_MAX> {
  var z: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { z[j] = dist[base + j]; }
  return z;
}

fn load_log_std() -> array<f32, HEAD_MAX> {
  var s: array<f32, HEAD_MAX>;
  if (IS_DISCRETE) { return s; }
  for (var j = 0u; j < HEAD_DIM; j++) { s[j] = theta[params.logStdOffset + j]; }
  return s;
}

fn load_cand_log_std(k: u32) -> array<f32, HEAD_MAX> {
  var s: array<f32, HEAD_MAX>;
  if (IS_DISCRETE) { return s; }
  for (var j = 0u; j < HEAD_DIM; j++) { s[j] = cand[k * params.paramCount + params.logStdOffset + j]; }
  return s;
}

fn load_action(n: u32) -> array<f32, HEAD_MAX> {
  var a: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { a[j] = actions[n * ACT_STORE + j]; }
  return a;
}


fn log_prob(z: array<f32, HEAD_MAX>, s: array<f32, HEAD_MAX>, n: u32) -> f32 {
  if (IS_DISCRETE) { return cat_log_prob(z, HEAD_DIM, u32(actions[n])); }
  return gauss_log_prob(z, s, load_action(n), HEAD_DIM);
}

fn entropy(z: array<f32, HEAD_MAX>, s: array<f32, HEAD_MAX>) -> f32 {
  if (IS_DISCRETE) { return cat_entropy(z, HEAD_DIM); }
  return gauss_entropy(s, HEAD_DIM);
}

// ∇_z L and the per-sample ∇_s L at θ_old, where the ratio is 1:
//   ∂L/∂z_n = (A_n ∇_z log π(a_n) + entCoef ∇_z H_n) / N,   ∂L/∂s = Σ_n (A_n ∇_s log π(a_n) + entCoef) / N.
// out = [∂L/∂z: N·HEAD_DIM | ∂L/∂s per sample, dim-major: HEAD_DIM·N | log π_old: N | z_old: N·HEAD_DIM]
// (z_old is copied so the candidate pass finds log π_old and z_old in one buffer).
@compute @workgroup_size(WG)
fn surrogate_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat(gid, nwg);
  let N = params.n;
  if (n >= N) { return; }
  let adv_n = adv[n];
  let z = load_dist(n * HEAD_DIM);
  let s = load_log_std();
  let inv_n = 1.0 / f32(N);
  if (IS_DISCRETE) {
    let g = cat_grad_log_prob(z, HEAD_DIM, u32(actions[n]));
    let h = cat_grad_entropy(z, HEAD_DIM);
    for (var j = 0u; j < HEAD_DIM; j++) { out[n * HEAD_DIM + j] = (adv_n * g[j] + params.entCoef * h[j]) * inv_n; }
  } else {
    let a = load_action(n);
    let gm = gauss_grad_log_prob_mean(z, s, a, HEAD_DIM);
    let gs = gauss_grad_log_prob_logstd(z, s, a, HEAD_DIM);
    for (var j = 0u; j < HEAD_DIM; j++) {
      out[n * HEAD_DIM + j] = adv_n * gm[j] * inv_n;
      // d H / d s_j = 1 for a diagonal Gaussian.
      out[N * HEAD_DIM + j * N + n] = (adv_n * gs[j] + params.entCoef) * inv_n;
    }
  }
  out[2u * N * HEAD_DIM + n] = log_prob(z, s, n);
  for (var j = 0u; j < HEAD_DIM; j++) { out[2u * N * HEAD_DIM + N + n * HEAD_DIM + j] = z[j]; }
}

// u_n = M_n (J_n v) / N_fvp, the Fisher metric of the distribution at θ_old applied to the
// forward-mode tangent of the network output (Gauss-Newton form of the Hessian of mean KL).
// aux = J v [N_fvp][HEAD_DIM], out = u [N_fvp][HEAD_DIM]; dist = z at θ_old for the subsample.
@compute @workgroup_size(WG)
fn fisher_mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat(gid, nwg);
  if (n >= params.nFvp) { return; }
  let z = load_dist(n * HEAD_DIM);
  var jv: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { jv[j] = aux[n * HEAD_DIM + j]; }
  var u: array<f32, HEAD_MAX>;
  if (IS_DISCRETE) {
    u = cat_fisher_mul(z, HEAD_DIM, jv);
  } else {
    u = gauss_fisher_mul_mean(load_log_std(), jv, HEAD_DIM);
  }
  let inv_n = 1.0 / f32(params.nFvp);
  for (var j = 0u; j < HEAD_DIM; j++) { out[n * HEAD_DIM + j] = u[j] * inv_n; }
}

// Completes F v after the J^T M J v pass wrote the network part of `out`: the log-std block of the
// Fisher is 2·I (per sample, so also on average) and has no cross terms with the mean; then the
// damping term. aux = v [P], out = F v [P].
@compute @workgroup_size(WG)
fn fvp_finish(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= params.paramCount) { return; }
  let v = aux[i];
  var fv = out[i];
  if (!IS_DISCRETE && i >= params.logStdOffset) { fv = 2.0 * v; }
  out[i] = fv + params.damping * v;
}

// Step length from the quadratic model: β = sqrt(2δ / xᵀFx), with xᵀFx = gᵀx − xᵀr from CG's
// residual r = g − F x (F damped, as in fvp_finish). A non-finite or non-positive xᵀFx (inexact CG,
// NaN gradients) gives β = 0 and the flag S_BAD_STEP, so no candidate moves θ.
@compute @workgroup_size(1)
fn step_scale() {
  let shs = stats[S_G_DOT_X] - stats[S_X_DOT_R];
  stats[S_SHS] = shs;
  let ok = shs > 0.0 && shs < 3.0e38 && stats[S_G_DOT_X] == stats[S_G_DOT_X];
  let beta = select(0.0, sqrt(2.0 * params.maxKl / shs), ok);
  stats[S_STEP_SCALE] = beta;
  stats[S_BAD_STEP] = select(1.0, 0.0, ok);
  // First-order improvement predicted for the full step: β gᵀx.
  stats[S_EXPECTED_IMPROVE] = beta * stats[S_G_DOT_X];
  if (!IS_DISCRETE) {
    var s = 0.0;
    for (var j = 0u; j < HEAD_DIM; j++) { s += exp(theta[params.logStdOffset + j]); }
    stats[S_POLICY_STD] = s / f32(HEAD_DIM);
  }
}

// Candidate k = θ_old + shrinkᵏ β x, for k < K, laid out as K consecutive parameter vectors.
// aux = x [P], out = candidates [K·P].
@compute @workgroup_size(WG)
fn make_candidates(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = flat(gid, nwg);
  let P = params.paramCount;
  if (idx >= P * params.candidates) { return; }
  let k = idx / P;
  let i = idx - k * P;
  out[idx] = theta[i] + pow(params.shrink, f32(k)) * stats[S_STEP_SCALE] * aux[i];
}

// Per (candidate k, sample n): surrogate term ratio·A_n + entCoef·H and KL(π_old ‖ π_k).
// dist = candidate outputs [K][N][HEAD_DIM]; aux = surrogate_grad's out (log π_old, z_old at the
// offsets in params); out = [surrogate terms K·N | KL terms K·N].
@compute @workgroup_size(WG)
fn candidate_terms(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = flat(gid, nwg);
  let N = params.n;
  if (idx >= N * params.candidates) { return; }
  let k = idx / N;
  let n = idx - k * N;
  let z = load_dist(idx * HEAD_DIM);
  let s = load_cand_log_std(k);
  var z_old: array<f32, HEAD_MAX>;
  for (var j = 0u; j < HEAD_DIM; j++) { z_old[j] = aux[params.distOldOffset + n * HEAD_DIM + j]; }
  let ratio = exp(log_prob(z, s, n) - aux[params.logpOldOffset + n]);
  out[idx] = ratio * adv[n] + params.entCoef * entropy(z, s);
  var kl: f32;
  if (IS_DISCRETE) {
    kl = cat_kl(z_old, z, HEAD_DIM);
  } else {
    kl = gauss_kl(z_old, load_log_std(), z, s, HEAD_DIM);
  }
  out[N * params.candidates + idx] = kl;
}

// Entropy of π_old per sample, out = [N] (its mean is logged and enters the surrogate at θ_old).
@compute @workgroup_size(WG)
fn old_entropy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = flat(gid, nwg);
  if (n >= params.n) { return; }
  out[n] = entropy(load_dist(n * HEAD_DIM), load_log_std());
}
