// Shared by the dense-layer kernels of the MLP (mlp_forward.wgsl, mlp_backward.wgsl, mlp_jvp.wgsl).
//
// Layout. Activations, deltas and tangents of hidden layers live sample-major, a[n * width + j],
// like the network's input and output. One invocation handles S samples (n0, n0 + WG, ...) and
// 4·NACC outputs at a time, keeping S·NACC vec4 accumulators in registers.
//
// A kernel file that includes this one declares `p: MlpParams`.

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

// Row index for a load of M[o][*]: rows past p.outDim read the last row (their results are never
// stored), so every load stays inside the layer.
fn row(o: u32) -> u32 {
  return min(o, p.outDim - 1u);
}

fn tanh_deriv(h: f32) -> f32 {
  return 1.0 - h * h;
}
