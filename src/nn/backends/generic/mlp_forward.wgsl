// MLP forward pass, one dense layer per dispatch: y = tanh(W x + b) for hidden layers, y = W x + b
// for the output layer, for `sets` parameter vectors over the same batch (line-search candidates).
// Needs MlpParams (nn/mlp-params.ts) and mlp_common.wgsl.

// Hidden layer: tanh, written to acts. Output layer: identity, written to output.
override HIDDEN: bool = true;
// First layer: x is the network input, sample-major and shared by all sets.
override FIRST: bool = true;

@group(0) @binding(0) var<uniform> p: MlpParams;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read_write> acts: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

fn load_x(term: u32, k: u32, lane: Lane, s: u32) -> f32 {
  let n = sample_of(lane, s, p.batch);
  if (FIRST) {
    return input[n * p.inDim + k];
  }
  return acts[p.xBase + lane.pset * p.xSetStride + n * p.inDim + k];
}

// W is [p.outDim][p.inDim] row-major.
fn load_w4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32> {
  let base = p.wBase + lane.pset * p.paramStride + k;
  return vec4<f32>(
    theta[base + row(o) * p.inDim],
    theta[base + row(o + 1u) * p.inDim],
    theta[base + row(o + 2u) * p.inDim],
    theta[base + row(o + 3u) * p.inDim],
  );
}

fn load_b4(o: u32, lane: Lane) -> vec4<f32> {
  let base = p.bBase + lane.pset * p.paramStride;
  return vec4<f32>(theta[base + row(o)], theta[base + row(o + 1u)], theta[base + row(o + 2u)], theta[base + row(o + 3u)]);
}

// Output o of sample n: tanh(z) into acts for a hidden layer, z into output for the last.
fn store_output(lane: Lane, n: u32, o: u32, z: f32) {
  let i = p.yBase + lane.pset * p.ySetStride + n * p.outDim + o;
  if (HIDDEN) {
    acts[i] = tanh(z);
  } else {
    output[i] = z;
  }
}

@compute @workgroup_size(WG)
fn mlp_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lane_of(wid, nwg, lid, p.batch, p.groupsPerSet, p.groups);
  if (lane.pset == 0xffffffffu) { return; }
  for (var o0 = 0u; o0 < p.outDim; o0 += 4u * NACC) {
    var acc: Acc;
    for (var a = 0u; a < NACC; a++) {
      let b = load_b4(o0 + 4u * a, lane);
      for (var s = 0u; s < S; s++) { acc[s * NACC + a] = b; }
    }
    accumulate(&acc, 0u, o0, lane);
    for (var s = 0u; s < S; s++) {
      if (!sample_live(lane, s, p.batch)) { continue; }
      let n = lane.n0 + s * WG;
      for (var a = 0u; a < NACC; a++) {
        for (var c = 0u; c < 4u; c++) {
          let o = o0 + 4u * a + c;
          if (o >= p.outDim) { continue; }
          store_output(lane, n, o, acc[s * NACC + a][c]);
        }
      }
    }
  }
}
