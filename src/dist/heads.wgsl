// Policy distribution heads: a categorical over logits and a diagonal Gaussian with a
// state-independent log-std. A function library: kernels include it by concatenation and call
// the functions per sample. It needs no bindings and no other file.
//
// Vectors are private fixed-size arrays of HEAD_MAX entries of which the first n are used
// (n = number of classes, or of action dimensions); WGSL cannot portably pass pointers into
// storage buffers at runtime offsets, so callers copy a sample's values in. Returned arrays are
// zero beyond n. Callers guarantee 1 ≤ n ≤ HEAD_MAX; for a class index a ≥ n the functions use
// n − 1.
//
// Categorical: p = softmax(z). Every function subtracts max(z) before exp, so logits up to ±80
// (probabilities down to e^-160, which underflow to 0 in f32) give finite results.
// Gaussian: σ = exp(s), computed as exp(±s) products (no division); finite while |s| < 44
// (exp(2·44) is near the f32 limit).

const HEAD_MAX = 16u;
/** ½·log(2π). */
const HEAD_HALF_LOG_2PI: f32 = 0.9189385332046727;

alias HeadVec = array<f32, HEAD_MAX>;

// ---------------------------------------------------------------------------------------------
// Categorical over logits z[0..n)

fn cat_max(z: HeadVec, n: u32) -> f32 {
  var m = z[0];
  for (var i = 1u; i < n; i++) { m = max(m, z[i]); }
  return m;
}

/** log Σ exp(z_i). */
fn cat_log_sum_exp(z: HeadVec, n: u32) -> f32 {
  let m = cat_max(z, n);
  var s = 0.0;
  for (var i = 0u; i < n; i++) { s += exp(z[i] - m); }
  return m + log(s);
}

/** log p_i = z_i − log Σ exp(z). */
fn cat_log_softmax(z: HeadVec, n: u32) -> HeadVec {
  let lse = cat_log_sum_exp(z, n);
  var r: HeadVec;
  for (var i = 0u; i < n; i++) { r[i] = z[i] - lse; }
  return r;
}

/** p_i = exp(z_i − max z) / Σ exp(z − max z). */
fn cat_softmax(z: HeadVec, n: u32) -> HeadVec {
  let m = cat_max(z, n);
  var e: HeadVec;
  var s = 0.0;
  for (var i = 0u; i < n; i++) {
    e[i] = exp(z[i] - m);
    s += e[i];
  }
  let inv = 1.0 / s;
  for (var i = 0u; i < n; i++) { e[i] *= inv; }
  return e;
}

/** log p_a. */
fn cat_log_prob(z: HeadVec, n: u32, a: u32) -> f32 {
  return z[min(a, n - 1u)] - cat_log_sum_exp(z, n);
}

/** H(p) = −Σ p log p = log S − Σ e_i (z_i − m) / S with m = max z, e_i = exp(z_i − m), S = Σ e. */
fn cat_entropy(z: HeadVec, n: u32) -> f32 {
  let m = cat_max(z, n);
  var s = 0.0;
  var t = 0.0;
  for (var i = 0u; i < n; i++) {
    let d = z[i] - m;
    let e = exp(d);
    s += e;
    t += e * d;
  }
  return log(s) - t / s;
}

/**
 * KL(p_old ‖ p_new) = Σ p_old (log p_old − log p_new): the trust-region direction of TRPO
 * (expectation under the old policy). p_old = e_i / S from the max-subtracted exponentials (not
 * exp(log p_old), whose argument carries an absolute error of ~ulp(max |z|), which the log-ratio
 * of up to 2·80 would amplify); a p_old that underflows to 0 contributes exactly 0.
 */
fn cat_kl(z_old: HeadVec, z_new: HeadVec, n: u32) -> f32 {
  let m_old = cat_max(z_old, n);
  let m_new = cat_max(z_new, n);
  var e_old: HeadVec;
  var s_old = 0.0;
  var s_new = 0.0;
  for (var i = 0u; i < n; i++) {
    e_old[i] = exp(z_old[i] - m_old);
    s_old += e_old[i];
    s_new += exp(z_new[i] - m_new);
  }
  let ls_old = log(s_old);
  let ls_new = log(s_new);
  var t = 0.0;
  for (var i = 0u; i < n; i++) {
    t += e_old[i] * ((z_old[i] - m_old - ls_old) - (z_new[i] - m_new - ls_new));
  }
  return t / s_old;
}

/**
 * Inverse-CDF sample with one uniform u in [0, 1): the first i with Σ_{k≤i} e_k > u·S
 * (e_k = exp(z_k − max z), S = Σ e). A class with e_k = 0 is never chosen, and if rounding
 * leaves every partial sum ≤ u·S the last class with e_k > 0 is returned, so the result is < n.
 */
fn cat_sample(z: HeadVec, n: u32, u: f32) -> u32 {
  let m = cat_max(z, n);
  var e: HeadVec;
  var s = 0.0;
  var last = 0u;
  for (var i = 0u; i < n; i++) {
    e[i] = exp(z[i] - m);
    s += e[i];
    if (e[i] > 0.0) { last = i; }
  }
  let threshold = u * s;
  var c = 0.0;
  for (var i = 0u; i < n; i++) {
    c += e[i];
    if (c > threshold) { return i; }
  }
  return last;
}

/** ∂ log p_a / ∂z = onehot(a) − p. */
fn cat_grad_log_prob(z: HeadVec, n: u32, a: u32) -> HeadVec {
  var g = cat_softmax(z, n);
  let ac = min(a, n - 1u);
  for (var i = 0u; i < n; i++) { g[i] = select(0.0, 1.0, i == ac) - g[i]; }
  return g;
}

/**
 * Fisher of the categorical in logit space times v: (diag(p) − p pᵀ) v = p ⊙ (v − pᵀv).
 * Equals the Hessian of KL(p_old ‖ p(z)) in z at z = z_old; positive semi-definite.
 */
fn cat_fisher_mul(z: HeadVec, n: u32, v: HeadVec) -> HeadVec {
  var p = cat_softmax(z, n);
  var pv = 0.0;
  for (var i = 0u; i < n; i++) { pv += p[i] * v[i]; }
  for (var i = 0u; i < n; i++) { p[i] *= v[i] - pv; }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Diagonal Gaussian: mean mu[0..n), log-std s[0..n), σ = exp(s).
// The *_dim functions are the per-dimension terms, for kernels that loop over dimensions
// themselves; the array versions sum or map them over n.

/** −½((a−μ)/σ)² − s − ½log 2π. */
fn gauss_log_prob_dim(mu: f32, s: f32, a: f32) -> f32 {
  let y = (a - mu) * exp(-s);
  return -0.5 * y * y - s - HEAD_HALF_LOG_2PI;
}

/** s_new − s_old + (σ_old² + (μ_old − μ_new)²) / (2σ_new²) − ½. */
fn gauss_kl_dim(mu_old: f32, s_old: f32, mu_new: f32, s_new: f32) -> f32 {
  let dm = (mu_old - mu_new) * exp(-s_new);
  return s_new - s_old + 0.5 * (exp(2.0 * (s_old - s_new)) + dm * dm) - 0.5;
}

/** Σ_j log N(a_j; μ_j, σ_j²). */
fn gauss_log_prob(mu: HeadVec, s: HeadVec, a: HeadVec, n: u32) -> f32 {
  var r = 0.0;
  for (var j = 0u; j < n; j++) { r += gauss_log_prob_dim(mu[j], s[j], a[j]); }
  return r;
}

/** Σ_j s_j + ½(1 + log 2π). */
fn gauss_entropy(s: HeadVec, n: u32) -> f32 {
  var r = 0.0;
  for (var j = 0u; j < n; j++) { r += s[j] + (0.5 + HEAD_HALF_LOG_2PI); }
  return r;
}

/** KL(old ‖ new), summed over dimensions (the trust-region direction of TRPO). */
fn gauss_kl(mu_old: HeadVec, s_old: HeadVec, mu_new: HeadVec, s_new: HeadVec, n: u32) -> f32 {
  var r = 0.0;
  for (var j = 0u; j < n; j++) { r += gauss_kl_dim(mu_old[j], s_old[j], mu_new[j], s_new[j]); }
  return r;
}

/** μ + σ·z for given standard normals z. */
fn gauss_sample(mu: HeadVec, s: HeadVec, z: HeadVec, n: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < n; j++) { r[j] = mu[j] + exp(s[j]) * z[j]; }
  return r;
}

/** ∂ log p / ∂μ_j = (a_j − μ_j) / σ_j². */
fn gauss_grad_log_prob_mean(mu: HeadVec, s: HeadVec, a: HeadVec, n: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < n; j++) { r[j] = (a[j] - mu[j]) * exp(-2.0 * s[j]); }
  return r;
}

/** ∂ log p / ∂s_j = ((a_j − μ_j)/σ_j)² − 1 (per sample; the caller sums over the batch). */
fn gauss_grad_log_prob_logstd(mu: HeadVec, s: HeadVec, a: HeadVec, n: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < n; j++) {
    let y = (a[j] - mu[j]) * exp(-s[j]);
    r[j] = y * y - 1.0;
  }
  return r;
}

/** Fisher block of the mean times v: v_j / σ_j² (Hessian of KL(old ‖ new) in μ_new at μ_old). */
fn gauss_fisher_mul_mean(s: HeadVec, v: HeadVec, n: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < n; j++) { r[j] = v[j] * exp(-2.0 * s[j]); }
  return r;
}

/**
 * Fisher block of the log-std times v: 2·v, per sample, whatever μ and σ (the Hessian of
 * KL(old ‖ new) in s_new at s_old is 2·I; the mean/log-std cross block is 0). Because the
 * log-std is state-independent, its block of the batch-mean Fisher is also 2·I: a trainer can
 * add 2·v_s once instead of accumulating it per sample.
 */
fn gauss_fisher_mul_logstd(v: HeadVec, n: u32) -> HeadVec {
  var r: HeadVec;
  for (var j = 0u; j < n; j++) { r[j] = 2.0 * v[j]; }
  return r;
}
