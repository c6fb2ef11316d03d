// Flat f32 vector ops (fill, copy, scale, axpy, xpby) and a scalar divide for CG bookkeeping.
// Prepend VecParams, VecFillParams and ScalarDivideParams (math/vec.ts). Each entry point reads
// its own uniform struct at binding 0: `params` (copy, scale, axpy, xpby), `fillParams` (fill),
// `divideParams` (scalar_divide); no entry point uses two of them.
//
// Operands can share buffers (a CG workspace, a scalar block), so every buffer in use is bound
// once, as a read_write "slot" s0..s3 covering all its operands: two bindings of one buffer
// with a writable one among them would be a usage or aliasing error. y (the written operand) is
// always in s0; X_SLOT, S_SLOT and D_SLOT say where x, the scalar and its divisor live. They are
// pipeline constants, so ld() folds to a plain load when the pipeline is created.
//
// `params.one` is 1.0 from the uniform: (alpha * x) * one rounds the product before the add even
// where a driver contracts mul+add into fma (fma(p, 1, y) = fl(p + y)), so results equal the
// unfused f32 expression on every driver.

override WG: u32 = 256u;
override X_SLOT: u32 = 0u;
override S_SLOT: u32 = 0u;
override D_SLOT: u32 = 0u;
// alpha = params.alpha · s[sBase] when true, else alpha = params.alpha.
override ALPHA_SCALAR: bool = false;
// With ALPHA_SCALAR: alpha = params.alpha · (s[sBase] / s[dBase]), the quotient guarded as in
// scalar_divide (CG's α = rᵀr / pᵀAp and β = r'ᵀr' / rᵀr without a dispatch of their own).
override ALPHA_RATIO: bool = false;

@group(0) @binding(0) var<uniform> params: VecParams;
@group(0) @binding(0) var<uniform> fillParams: VecFillParams;
@group(0) @binding(0) var<uniform> divideParams: ScalarDivideParams;
@group(0) @binding(1) var<storage, read_write> s0: array<f32>;
@group(0) @binding(2) var<storage, read_write> s1: array<f32>;
@group(0) @binding(3) var<storage, read_write> s2: array<f32>;
@group(0) @binding(4) var<storage, read_write> s3: array<f32>;

fn ld(slot: u32, i: u32) -> f32 {
  if (slot == 0u) { return s0[i]; }
  if (slot == 1u) { return s1[i]; }
  if (slot == 2u) { return s2[i]; }
  return s3[i];
}

// num / den, or 0 when den is ±0 or the quotient is not finite. The finiteness test looks at
// the exponent bits: WGSL lets compilers assume floats are finite, so x != x may fold away.
fn guarded_ratio(num: f32, den: f32) -> f32 {
  var q = 0.0;
  if (den != 0.0) { q = num / den; }
  if ((bitcast<u32>(q) & 0x7f800000u) == 0x7f800000u) { q = 0.0; }
  return q;
}

fn alpha_value() -> f32 {
  if (!ALPHA_SCALAR) { return params.alpha; }
  var s = ld(S_SLOT, params.sBase);
  if (ALPHA_RATIO) { s = guarded_ratio(s, ld(D_SLOT, params.dBase)); }
  return params.alpha * s;
}

// Flat invocation index and grid stride (grid-stride loops: the dispatch may be capped).
fn first(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }
fn stride(nwg: vec3<u32>) -> u32 { return nwg.x * nwg.y * WG; }

@compute @workgroup_size(WG)
fn vec_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = first(gid, nwg); i < fillParams.n; i += stride(nwg)) {
    s0[fillParams.yBase + i] = fillParams.value;
  }
}

@compute @workgroup_size(WG)
fn vec_copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = first(gid, nwg); i < params.n; i += stride(nwg)) {
    s0[params.yBase + i] = ld(X_SLOT, params.xBase + i);
  }
}

@compute @workgroup_size(WG)
fn vec_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = alpha_value();
  for (var i = first(gid, nwg); i < params.n; i += stride(nwg)) {
    s0[params.yBase + i] = a * s0[params.yBase + i];
  }
}

// y ← y + alpha·x
@compute @workgroup_size(WG)
fn vec_axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = alpha_value();
  let one = params.one;
  for (var i = first(gid, nwg); i < params.n; i += stride(nwg)) {
    let j = params.yBase + i;
    s0[j] = s0[j] + (a * ld(X_SLOT, params.xBase + i)) * one;
  }
}

// y ← x + beta·y (CG direction update p ← r + β p)
@compute @workgroup_size(WG)
fn vec_xpby(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = alpha_value();
  let one = params.one;
  for (var i = first(gid, nwg); i < params.n; i += stride(nwg)) {
    let j = params.yBase + i;
    s0[j] = ld(X_SLOT, params.xBase + i) + (b * s0[j]) * one;
  }
}

// out = num / den, guarded (guarded_ratio): out in s0, num in slot X_SLOT, den in slot S_SLOT.
@compute @workgroup_size(1)
fn scalar_divide() {
  s0[divideParams.outBase] = guarded_ratio(ld(X_SLOT, divideParams.numBase), ld(S_SLOT, divideParams.denBase));
}
