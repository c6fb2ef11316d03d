// MLP forward mode (Jacobian-vector product with respect to the parameters), one dense layer per
// dispatch. With t = (Ẇ_l, ḃ_l) the tangent in the parameter layout and ḣ_0 = 0:
//   ż_l = W_l ḣ_l + Ẇ_l h_l + ḃ_l,   ḣ_{l+1} = (1 − h_{l+1}²) ⊙ ż_l,   output tangent = ż_{L-1}.
// Needs MlpParams (nn/mlp-params.ts) and mlp_common.wgsl.

// Hidden layer: times (1 − h²), written to dacts. Output layer: to outputTangent.
override HIDDEN: bool = true;
// First layer: h is the network input (sample-major) and ḣ = 0, so the W ḣ term is skipped.
override FIRST: bool = true;

@group(0) @binding(0) var<uniform> p: MlpParams;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> tangent: array<f32>;
@group(0) @binding(3) var<storage, read> input: array<f32>;
@group(0) @binding(4) var<storage, read> acts: array<f32>;
@group(0) @binding(5) var<storage, read_write> dacts: array<f32>;
@group(0) @binding(6) var<storage, read_write> outputTangent: array<f32>;

// term 0: ḣ_l (dacts); term 1: h_l (input or acts).
fn load_x(term: u32, k: u32, lane: Lane, s: u32) -> f32 {
  let n = sample_of(lane, s, p.batch);
  if (term == 0u) {
    return dacts[p.xBase + n * p.inDim + k];
  }
  if (FIRST) {
    return input[n * p.inDim + k];
  }
  return acts[p.hBase + n * p.inDim + k];
}

// term 0: W_l from theta; term 1: Ẇ_l from tangent. Both [p.outDim][p.inDim] row-major.
fn load_w4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32> {
  if (term == 0u) {
    let base = p.wBase + k;
    return vec4<f32>(
      theta[base + row(o) * p.inDim],
      theta[base + row(o + 1u) * p.inDim],
      theta[base + row(o + 2u) * p.inDim],
      theta[base + row(o + 3u) * p.inDim],
    );
  }
  let base = p.w2Base + k;
  return vec4<f32>(
    tangent[base + row(o) * p.inDim],
    tangent[base + row(o + 1u) * p.inDim],
    tangent[base + row(o + 2u) * p.inDim],
    tangent[base + row(o + 3u) * p.inDim],
  );
}

// Output tangent o of sample n: times (1 − h²) into dacts for a hidden layer, else outputTangent.
fn store_tangent(n: u32, o: u32, v: f32) {
  if (HIDDEN) {
    dacts[p.yBase + n * p.outDim + o] = v * tanh_deriv(acts[p.h2Base + n * p.outDim + o]);
  } else {
    outputTangent[n * p.outDim + o] = v;
  }
}

@compute @workgroup_size(WG)
fn mlp_jvp(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lane_of(wid, nwg, lid, p.batch, p.groupsPerSet, p.groups);
  if (lane.pset == 0xffffffffu) { return; }
  for (var o0 = 0u; o0 < p.outDim; o0 += 4u * NACC) {
    var acc: Acc;
    for (var a = 0u; a < NACC; a++) {
      let o = o0 + 4u * a;
      let b = vec4<f32>(tangent[p.b2Base + row(o)], tangent[p.b2Base + row(o + 1u)],
                        tangent[p.b2Base + row(o + 2u)], tangent[p.b2Base + row(o + 3u)]);
      for (var s = 0u; s < S; s++) { acc[s * NACC + a] = b; }
    }
    if (!FIRST) { accumulate(&acc, 0u, o0, lane); }
    accumulate(&acc, 1u, o0, lane);
    for (var s = 0u; s < S; s++) {
      if (!sample_live(lane, s, p.batch)) { continue; }
      let n = lane.n0 + s * WG;
      for (var a = 0u; a < NACC; a++) {
        for (var c = 0u; c < 4u; c++) {
          let o = o0 + 4u * a + c;
          if (o >= p.outDim) { continue; }
          store_tangent(n, o, acc[s * NACC + a][c]);
        }
      }
    }
  }
}
