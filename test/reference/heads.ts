/**
 * Float64 references for the policy heads (src/dist/heads.wgsl), one sample at a time.
 * Vectors are plain number arrays (or typed arrays) of length n; the inputs the GPU sees are
 * f32, and converting them to f64 is exact, so these are the exact answers for those inputs
 * up to f64 rounding.
 */
export type Vec = ArrayLike<number>;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function max(z: Vec): number {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]!);
  return m;
}

// --- categorical ----------------------------------------------------------------------------

export function catLogSumExp(z: Vec): number {
  const m = max(z);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i]! - m);
  return m + Math.log(s);
}

export function catLogSoftmax(z: Vec): number[] {
  const lse = catLogSumExp(z);
  return Array.from(z, (v) => v - lse);
}

export function catSoftmax(z: Vec): number[] {
  return catLogSoftmax(z).map(Math.exp);
}

export function catLogProb(z: Vec, a: number): number {
  return z[a]! - catLogSumExp(z);
}

/** −Σ p log p, with 0·log 0 = 0. */
export function catEntropy(z: Vec): number {
  const lp = catLogSoftmax(z);
  let h = 0;
  for (const l of lp) h -= Math.exp(l) * l;
  return h;
}

/** KL(softmax(zOld) ‖ softmax(zNew)) = Σ p_old (log p_old − log p_new). */
export function catKl(zOld: Vec, zNew: Vec): number {
  const lo = catLogSoftmax(zOld);
  const ln = catLogSoftmax(zNew);
  let kl = 0;
  for (let i = 0; i < lo.length; i++) kl += Math.exp(lo[i]!) * (lo[i]! - ln[i]!);
  return kl;
}

/** ∂ KL(p_old ‖ softmax(zNew)) / ∂ zNew = p_new − p_old. */
export function catKlGradNew(zOld: Vec, zNew: Vec): number[] {
  const po = catSoftmax(zOld);
  return catSoftmax(zNew).map((p, i) => p - po[i]!);
}

/** Inverse CDF: the first i with u < Σ_{k≤i} p_k; if none (rounding), the last class with p > 0. */
export function catSample(z: Vec, u: number): number {
  const p = catSoftmax(z);
  let c = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) last = i;
  for (let i = 0; i < p.length; i++) {
    c += p[i]!;
    if (u < c) return i;
  }
  return last;
}

/** The cumulative sums Σ_{k≤i} p_k (for telling which samples sit on a boundary). */
export function catCdf(z: Vec): number[] {
  let c = 0;
  return catSoftmax(z).map((p) => (c += p));
}

/** ∂ log p_a / ∂ z = onehot(a) − p. */
export function catGradLogProb(z: Vec, a: number): number[] {
  return catSoftmax(z).map((p, i) => (i === a ? 1 : 0) - p);
}

/** (diag(p) − p pᵀ) v. */
export function catFisherMul(z: Vec, v: Vec): number[] {
  const p = catSoftmax(z);
  let pv = 0;
  for (let i = 0; i < p.length; i++) pv += p[i]! * v[i]!;
  return p.map((pi, i) => pi * (v[i]! - pv));
}

// --- diagonal Gaussian ----------------------------------------------------------------------

/** Σ_j −½((a_j − μ_j)/σ_j)² − s_j − ½ log 2π, σ = exp(s). */
export function gaussLogProb(mu: Vec, s: Vec, a: Vec): number {
  let r = 0;
  for (let j = 0; j < mu.length; j++) {
    const y = (a[j]! - mu[j]!) / Math.exp(s[j]!);
    r += -0.5 * y * y - s[j]! - HALF_LOG_2PI;
  }
  return r;
}

export function gaussEntropy(s: Vec): number {
  let r = 0;
  for (let j = 0; j < s.length; j++) r += s[j]! + 0.5 + HALF_LOG_2PI;
  return r;
}

/** KL(N(μo, σo²) ‖ N(μn, σn²)) = Σ sn − so + (σo² + (μo − μn)²) / (2σn²) − ½. */
export function gaussKl(muOld: Vec, sOld: Vec, muNew: Vec, sNew: Vec): number {
  let r = 0;
  for (let j = 0; j < muOld.length; j++) {
    const vo = Math.exp(2 * sOld[j]!);
    const vn = Math.exp(2 * sNew[j]!);
    const dm = muOld[j]! - muNew[j]!;
    r += sNew[j]! - sOld[j]! + (vo + dm * dm) / (2 * vn) - 0.5;
  }
  return r;
}

/** Gradient of gaussKl in (μ_new, s_new): [∂/∂μn (n entries), ∂/∂sn (n entries)]. */
export function gaussKlGradNew(muOld: Vec, sOld: Vec, muNew: Vec, sNew: Vec): { mean: number[]; logStd: number[] } {
  const n = muOld.length;
  const mean: number[] = [];
  const logStd: number[] = [];
  for (let j = 0; j < n; j++) {
    const vo = Math.exp(2 * sOld[j]!);
    const vn = Math.exp(2 * sNew[j]!);
    const dm = muNew[j]! - muOld[j]!;
    mean.push(dm / vn);
    logStd.push(1 - (vo + dm * dm) / vn);
  }
  return { mean, logStd };
}

export function gaussSample(mu: Vec, s: Vec, z: Vec): number[] {
  return Array.from(mu, (m, j) => m + Math.exp(s[j]!) * z[j]!);
}

/** (a − μ) / σ². */
export function gaussGradLogProbMean(mu: Vec, s: Vec, a: Vec): number[] {
  return Array.from(mu, (m, j) => (a[j]! - m) / Math.exp(2 * s[j]!));
}

/** ((a − μ)/σ)² − 1. */
export function gaussGradLogProbLogStd(mu: Vec, s: Vec, a: Vec): number[] {
  return Array.from(mu, (m, j) => ((a[j]! - m) / Math.exp(s[j]!)) ** 2 - 1);
}

/** v / σ². */
export function gaussFisherMulMean(s: Vec, v: Vec): number[] {
  return Array.from(v, (x, j) => x / Math.exp(2 * s[j]!));
}

/** 2·v (the log-std block of the Fisher, per sample). */
export function gaussFisherMulLogStd(v: Vec): number[] {
  return Array.from(v, (x) => 2 * x);
}
