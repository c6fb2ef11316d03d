// Shared by the dense-layer kernels of the MLP (mlp_forward.wgsl, mlp_backward.wgsl, mlp_jvp.wgsl).
//
// Layout. Activations, deltas and tangents of hidden layers live feature-major, a[j * batch + n].
// One invocation handles S samples (n0, n0 + WG, ...) and 4·NACC outputs at a time, keeping S·NACC
// vec4 accumulators in registers.
//
// Why this shape: on a CPU Vulkan driver (lavapipe) a load whose address is the same in every
// invocation of the workgroup is one scalar load, but a per-invocation address is a gather that
// costs several times more. Weights are indexed only by uniform values (loop counters, workgroup
// id, uniforms), so each weight is loaded once per S samples; each per-sample input x is gathered
// once per 4·NACC outputs.
//
// A kernel file that includes this one declares `p` and defines:
//   fn load_x(term: u32, k: u32, lane: Lane, s: u32) -> f32        input k of sample s
//   fn load_w4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32>  M[o .. o+3][k]
// where `term` selects one of the (at most two) matrix-vector products the kernel sums.

override WG: u32 = 64u;
// Samples per invocation and vec4 accumulators per sample; S·NACC ≤ MAX_ACC.
override S: u32 = 1u;
override NACC: u32 = 1u;
const MAX_S = 8u;
const MAX_ACC = 16u;

// Layer widths are uniforms (p.inDim, p.outDim), not override constants, on purpose: with
// constant trip counts the driver unrolled whole layers, and building the pipelines of one op took
// from seconds to half a minute on lavapipe; with uniforms one pipeline serves every width. The
// layer's matrix is M [p.outDim][p.inDim] (the product sums over p.inDim). Each kernel file
// declares `p: MlpParams`.

alias Acc = array<vec4<f32>, MAX_ACC>;

struct Lane {
  // Parameter set (forward line-search candidates); uniform over the workgroup.
  pset: u32,
  // First sample of this invocation; sample s is n0 + s·WG.
  n0: u32,
}

// The invocation's lane and the workgroup's set. Returns pset = 0xffffffff for a spare workgroup.
fn lane_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, batch: u32, groupsPerSet: u32, groups: u32) -> Lane {
  let g = wid.x + wid.y * nwg.x;
  if (g >= groups) { return Lane(0xffffffffu, 0u); }
  let pset = g / groupsPerSet;
  return Lane(pset, (g - pset * groupsPerSet) * WG * S + lid);
}

// Sample s of the lane, clamped into the batch: lanes past the end compute on a real sample (so
// no control flow depends on the lane before the stores) and store nothing.
fn sample_of(lane: Lane, s: u32, batch: u32) -> u32 {
  return min(lane.n0 + s * WG, batch - 1u);
}

fn sample_live(lane: Lane, s: u32, batch: u32) -> bool {
  return lane.n0 + s * WG < batch;
}

// acc[s·NACC + a][c] += Σ_k M[o0 + 4a + c][k] · x_s[k] for the matrix and input of `term`.
// The loop over k is not unrolled: unrolling by 4 measured slower here and multiplied pipeline
// creation time (code size is what the driver's compiler pays for).
fn accumulate(acc: ptr<function, Acc>, term: u32, o0: u32, lane: Lane) {
  for (var k = 0u; k < p.inDim; k++) {
    var xs: array<f32, MAX_S>;
    for (var s = 0u; s < S; s++) { xs[s] = load_x(term, k, lane, s); }
    for (var a = 0u; a < NACC; a++) {
      let w = load_w4(term, o0 + 4u * a, k, lane);
      for (var s = 0u; s < S; s++) { (*acc)[s * NACC + a] += xs[s] * w; }
    }
  }
}

// Row index for a load of M[o][*]: rows past p.outDim read the last row (their results are never
// stored), so every load stays inside the layer.
fn row(o: u32) -> u32 {
  return min(o, p.outDim - 1u);
}

fn tanh_deriv(h: f32) -> f32 {
  return 1.0 - h * h;
}
