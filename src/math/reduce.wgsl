// Compensated reductions (sum, dot, squared deviations) in double-float arithmetic: a value is a
// vec2 (hi, lo) with hi = fl(hi + lo), about 48 significant bits. Prepend ReduceParams
// (math/reduce.ts).
//
// Pass 1 (reduce_sum / reduce_dot / reduce_sqdev): each invocation accumulates a grid-stride
// chunk of at most 256 elements in registers, then the workgroup combines its (hi, lo) pairs
// in a tree and writes one pair to part[workgroup]. Pass 2 (reduce_finish): one workgroup combines
// the pairs, divides by a count and/or takes a square root in double-float, and rounds to f32
// only at the end. The order of operations is fixed, so results are deterministic.
//
// The error-free transforms below are exact only if every operation is evaluated as written.
// Some Vulkan compilers rewrite (-a) + (a + b) into b (allowed for floats without NoContraction,
// which WGSL cannot express), and that silently turns TwoSum's error term into 0 (seen on
// lavapipe). Multiplying by `params.one` (1.0, but unknown to the compiler) hides the relation
// and costs one multiply; the split gets the same guard against folding c − (c − a) into a.

override WG: u32 = 256u;

// Bits of params.mode for the finish (uniforms, not pipeline constants: the finish runs once,
// and each extra pipeline costs a compile of the inlined double-float code).
// Divide by the count (params.countHi + countLo; a count of 0 gives 0).
const FINISH_DIVIDE = 1u;
// Keep the double-float result at part[groups] for a following reduce_sqdev.
const FINISH_KEEP = 2u;
// Replace the value by sqrt(value) + eps before writing it.
const FINISH_SQRT = 4u;
// Write the rounded value to out[outBase].
const FINISH_WRITE = 8u;
// Pass 1 runs as one workgroup and finishes the reduction itself (reduce.ts: vectors of at most
// WG·256 elements whose output is in another buffer); it then writes to out1.
const FINISH_IN_PASS1 = 16u;

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read_write> part: array<vec2<f32>>;
// Pass 1 reads x (and y) through two read-only views of the same range: 16-byte quads for the
// bulk (one vec4 load per invocation is about twice as fast as four scalar loads on lavapipe),
// and scalars for the few elements before the first and after the last whole quad.
// Element i of x is xs[xs0 + i]; element head + 4q + c is x4[x40 + q][c].
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> ys: array<f32>;
// reduce_finish writes here (no entry point uses both this and x4).
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// ... and pass 1 here, with FINISH_IN_PASS1.
@group(0) @binding(6) var<storage, read_write> out1: array<f32>;

var<workgroup> tree: array<vec2<f32>, WG>;

// Knuth's TwoSum: s + e = a + b exactly.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = (a + b) * params.one;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// Dekker's FastTwoSum: exact when |a| ≥ |b| (or a = 0).
fn fast_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = (a + b) * params.one;
  return vec2<f32>(s, b - (s - a));
}

// Veltkamp split into two 12-bit halves (4097 = 2^12 + 1); |a| < 2^115 so 4097·a cannot overflow.
fn split(a: f32) -> vec2<f32> {
  let c = 4097.0 * a;
  let hi = c - (c - a) * params.one;
  return vec2<f32>(hi, a - hi);
}

// Dekker's TwoProduct: p + e = a·b exactly. Products of halves are exact in f32, so it is also
// right where a driver fuses mul+add (fma is not relied on: it may be unfused).
fn two_prod(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let x = split(a);
  let y = split(b);
  return vec2<f32>(p, ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y);
}

// (hi, lo) + x; the lost bits are below 2^-47 of |hi|.
fn df_add_f(a: vec2<f32>, x: f32) -> vec2<f32> {
  let s = two_sum(a.x, x);
  return fast_two_sum(s.x, s.y + a.y);
}

// Double-float + double-float, the accurate variant (both parts added with TwoSum).
fn df_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = two_sum(a.x, b.x);
  let t = two_sum(a.y, b.y);
  let u = fast_two_sum(s.x, s.y + t.x);
  return fast_two_sum(u.x, u.y + t.y);
}

// a / b: the remainder a − q1·b is computed exactly, so a few-ulp `/` (allowed by WGSL) only
// affects the tiny correction q2.
fn df_div(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let q1 = a.x / b.x;
  let p = two_prod(q1, b.x);
  let r = two_sum(a.x, -p.x);
  let rem = r.x + (((r.y - p.y) + a.y) - q1 * b.y);
  return fast_two_sum(q1, rem / b.x);
}

// sqrt(a) for a ≥ 0 (0 for a ≤ 0), with one Newton correction from an exact residual.
fn df_sqrt(a: vec2<f32>) -> vec2<f32> {
  if (a.x <= 0.0) { return vec2<f32>(0.0, 0.0); }
  let s = sqrt(a.x);
  let p = two_prod(s, s);
  let r = two_sum(a.x, -p.x);
  let rem = r.x + ((r.y - p.y) + a.y);
  return fast_two_sum(s, rem / (2.0 * s));
}

// Combines the workgroup's pairs; the result is valid in every invocation. WG is a power of two.
fn tree_reduce(lid: u32, v: vec2<f32>) -> vec2<f32> {
  tree[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (lid < h) { tree[lid] = df_add(tree[lid], tree[lid + h]); }
    workgroupBarrier();
  }
  return tree[0];
}

// Pass 1 keeps four double-float accumulators per invocation, one per vec4 component: the
// rounding lost by a chain of k additions grows with k, so four chains of ≤ 65 terms let an
// invocation take 256 elements (fewer workgroups, fewer barriers) at the error of 65.
struct DF4 { hi: vec4<f32>, lo: vec4<f32> }

fn two_sum4(a: vec4<f32>, b: vec4<f32>) -> DF4 {
  let s = (a + b) * params.one;
  let bb = s - a;
  return DF4(s, (a - (s - bb)) + (b - bb));
}

fn fast_two_sum4(a: vec4<f32>, b: vec4<f32>) -> DF4 {
  let s = (a + b) * params.one;
  return DF4(s, b - (s - a));
}

fn two_prod4(a: vec4<f32>, b: vec4<f32>) -> DF4 {
  let p = a * b;
  let ca = 4097.0 * a;
  let ah = ca - (ca - a) * params.one;
  let al = a - ah;
  let cb = 4097.0 * b;
  let bh = cb - (cb - b) * params.one;
  let bl = b - bh;
  return DF4(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}

fn acc_add(a: DF4, x: vec4<f32>) -> DF4 {
  let s = two_sum4(a.hi, x);
  return fast_two_sum4(s.hi, s.lo + a.lo);
}

fn acc_add_pair(a: DF4, p: DF4) -> DF4 {
  let s = two_sum4(a.hi, p.hi);
  return fast_two_sum4(s.hi, s.lo + (a.lo + p.lo));
}

// acc + (x − m)² where ok, with m the double-float mean: x − m is formed in double-float, so a
// large common offset costs no accuracy.
fn acc_sqdev(a: DF4, x: vec4<f32>, m: vec2<f32>, ok: vec4<bool>) -> DF4 {
  let t = two_sum4(x, vec4<f32>(-m.x));
  let d = two_sum4(t.hi, t.lo - vec4<f32>(m.y));
  // (dh + dl)² = dh² + 2·dh·dl + dl²; dl² is below 2^-48 of the square and is dropped.
  let q = two_prod4(d.hi, d.hi);
  let zero = vec4<f32>(0.0);
  return acc_add_pair(a, DF4(select(zero, q.hi, ok), select(zero, q.lo + 2.0 * d.hi * d.lo, ok)));
}

fn acc_total(a: DF4) -> vec2<f32> {
  return df_add(df_add(vec2<f32>(a.hi.x, a.lo.x), vec2<f32>(a.hi.y, a.lo.y)),
                df_add(vec2<f32>(a.hi.z, a.lo.z), vec2<f32>(a.hi.w, a.lo.w)));
}

// The elements outside the whole quads ("leftovers"): leftover j < head is element j, the rest
// follow the quads. They are read as scalars, four per step (j, j + stride, ...) so they feed the
// four chains; missing ones read as 0 and are flagged in `ok`.
fn leftovers() -> u32 { return params.n - 4u * params.quads; }
fn leftover(j: u32) -> u32 { return select(j + 4u * params.quads, j, j < params.head); }

struct Left { i: vec4<u32>, ok: vec4<bool> }

fn left4(j: u32, stride: u32) -> Left {
  let last = leftovers() - 1u;
  let jj = vec4<u32>(j) + stride * vec4<u32>(0u, 1u, 2u, 3u);
  let c = min(jj, vec4<u32>(last));
  return Left(vec4<u32>(leftover(c.x), leftover(c.y), leftover(c.z), leftover(c.w)), jj <= vec4<u32>(last));
}

fn load_xs(l: Left) -> vec4<f32> {
  let b = params.xs0;
  return select(vec4<f32>(0.0), vec4<f32>(xs[b + l.i.x], xs[b + l.i.y], xs[b + l.i.z], xs[b + l.i.w]), l.ok);
}

fn load_ys(l: Left) -> vec4<f32> {
  let b = params.ys0;
  return select(vec4<f32>(0.0), vec4<f32>(ys[b + l.i.x], ys[b + l.i.y], ys[b + l.i.z], ys[b + l.i.w]), l.ok);
}

@compute @workgroup_size(WG)
fn reduce_sum(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = wid.x * WG + lid;
  let stride = nwg.x * WG;
  var acc = DF4(vec4<f32>(0.0), vec4<f32>(0.0));
  for (var q = t; q < params.quads; q += stride) {
    acc = acc_add(acc, x4[params.x40 + q]);
  }
  for (var j = t; j < leftovers(); j += 4u * stride) {
    acc = acc_add(acc, load_xs(left4(j, stride)));
  }
  pass1_result(lid, wid.x, tree_reduce(lid, acc_total(acc)));
}

@compute @workgroup_size(WG)
fn reduce_dot(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = wid.x * WG + lid;
  let stride = nwg.x * WG;
  var acc = DF4(vec4<f32>(0.0), vec4<f32>(0.0));
  for (var q = t; q < params.quads; q += stride) {
    acc = acc_add_pair(acc, two_prod4(x4[params.x40 + q], y4[params.y40 + q]));
  }
  for (var j = t; j < leftovers(); j += 4u * stride) {
    let l = left4(j, stride);
    acc = acc_add_pair(acc, two_prod4(load_xs(l), load_ys(l)));
  }
  pass1_result(lid, wid.x, tree_reduce(lid, acc_total(acc)));
}

// Σ (x − m)² with the mean m left at part[groups] by a FINISH_KEEP finish.
@compute @workgroup_size(WG)
fn reduce_sqdev(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = part[params.groups];
  let t = wid.x * WG + lid;
  let stride = nwg.x * WG;
  var acc = DF4(vec4<f32>(0.0), vec4<f32>(0.0));
  for (var q = t; q < params.quads; q += stride) {
    acc = acc_sqdev(acc, x4[params.x40 + q], m, vec4<bool>(true));
  }
  for (var j = t; j < leftovers(); j += 4u * stride) {
    let l = left4(j, stride);
    acc = acc_sqdev(acc, load_xs(l), m, l.ok);
  }
  pass1_result(lid, wid.x, tree_reduce(lid, acc_total(acc)));
}

// Finishes the reduction's value (invocation 0 only): divide, keep, square root; the rounded
// result, which the caller writes to its output if FINISH_WRITE is set.
fn finish_value(value: vec2<f32>) -> f32 {
  var v = value;
  let mode = params.mode;
  if ((mode & FINISH_DIVIDE) != 0u) {
    if (params.countHi == 0.0) {
      v = vec2<f32>(0.0, 0.0);
    } else {
      v = df_div(v, vec2<f32>(params.countHi, params.countLo));
    }
  }
  if ((mode & FINISH_KEEP) != 0u) { part[params.groups] = v; }
  if ((mode & FINISH_SQRT) != 0u) { v = df_add_f(df_sqrt(v), params.eps); }
  return v.x + v.y;
}

// A workgroup's pair: to part[workgroup] for reduce_finish or, where pass 1 runs as one
// workgroup (FINISH_IN_PASS1), straight through the finish: the operations reduce_finish would do
// on that one pair, in the same order, and one dispatch fewer.
fn pass1_result(lid: u32, group: u32, r: vec2<f32>) {
  if (lid != 0u) { return; }
  if ((params.mode & FINISH_IN_PASS1) == 0u) {
    part[group] = r;
    return;
  }
  let v = finish_value(df_add(vec2<f32>(0.0, 0.0), r));
  if ((params.mode & FINISH_WRITE) != 0u) { out1[params.outBase] = v; }
}

@compute @workgroup_size(WG)
fn reduce_finish(@builtin(local_invocation_index) lid: u32) {
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < params.groups; i += WG) {
    acc = df_add(acc, part[i]);
  }
  let v = tree_reduce(lid, acc);
  if (lid != 0u) { return; }
  let r = finish_value(v);
  if ((params.mode & FINISH_WRITE) != 0u) { out[params.outBase] = r; }
}
