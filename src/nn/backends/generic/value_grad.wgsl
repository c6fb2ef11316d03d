// value_grad for devices without subgroups: the dense layers of value_step.wgsl's forward and
// backward passes with per-invocation loads (each weight loaded feeds S samples, each input 16
// outputs). Included after value_step.wgsl.

// Outputs per pass of a dense layer: NACC vec4 accumulators per sample.
const NACC = 4u;

// W[o .. o+3][k], rows past the layer reading its last row (their sums are never stored).
fn w_col4(ly: Layer, o: u32, k: u32) -> vec4<f32> {
  let last = ly.outDim - 1u;
  return vec4<f32>(
    theta[ly.w + min(o, last) * ly.inDim + k],
    theta[ly.w + min(o + 1u, last) * ly.inDim + k],
    theta[ly.w + min(o + 2u, last) * ly.inDim + k],
    theta[ly.w + min(o + 3u, last) * ly.inDim + k],
  );
}

fn b4(ly: Layer, o: u32) -> vec4<f32> {
  let last = ly.outDim - 1u;
  return vec4<f32>(theta[ly.b + min(o, last)], theta[ly.b + min(o + 1u, last)], theta[ly.b + min(o + 2u, last)], theta[ly.b + min(o + 3u, last)]);
}

// W[o][j .. j+3], columns past the layer reading its last column.
fn w_row4(ly: Layer, o: u32, j: u32) -> vec4<f32> {
  let last = ly.inDim - 1u;
  let base = ly.w + o * ly.inDim;
  return vec4<f32>(theta[base + min(j, last)], theta[base + min(j + 1u, last)], theta[base + min(j + 2u, last)], theta[base + min(j + 3u, last)]);
}

@compute @workgroup_size(WG)
fn value_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  grad_body(wid.x, lid);
}

// z = W h + b of layer ly for the invocation's samples; tanh on hidden layers.
fn forward_layer(chunk: u32, ly: Layer, hidden: bool, lid: u32) {
  for (var o0 = 0u; o0 < ly.outDim; o0 += 4u * NACC) {
    var acc: array<vec4<f32>, S * NACC>;
    for (var a = 0u; a < NACC; a++) {
      let b = b4(ly, o0 + 4u * a);
      for (var s = 0u; s < S; s++) { acc[s * NACC + a] = b; }
    }
    for (var k = 0u; k < ly.inDim; k++) {
      var x: array<f32, S>;
      for (var s = 0u; s < S; s++) { x[s] = scratch[at(chunk, ly.hIn + k, s * WG + lid)]; }
      for (var a = 0u; a < NACC; a++) {
        let w = w_col4(ly, o0 + 4u * a, k);
        for (var s = 0u; s < S; s++) { acc[s * NACC + a] += x[s] * w; }
      }
    }
    for (var s = 0u; s < S; s++) {
      for (var a = 0u; a < NACC; a++) {
        for (var e = 0u; e < 4u; e++) {
          let o = o0 + 4u * a + e;
          if (o < ly.outDim) {
            let z = acc[s * NACC + a][e];
            scratch[at(chunk, ly.hOut + o, s * WG + lid)] = select(z, tanh(z), hidden);
          }
        }
      }
    }
  }
}

// δ_in = (W_lᵀ δ_l) ⊙ (1 − h²) of layer ly for the invocation's samples.
fn backward_layer(chunk: u32, ly: Layer, lid: u32) {
  let db = p.deltaBase;
  for (var j0 = 0u; j0 < ly.inDim; j0 += 4u * NACC) {
    var acc: array<vec4<f32>, S * NACC>;
    for (var a = 0u; a < S * NACC; a++) { acc[a] = vec4<f32>(); }
    for (var o = 0u; o < ly.outDim; o++) {
      var d: array<f32, S>;
      for (var s = 0u; s < S; s++) { d[s] = scratch[db + at(chunk, ly.hOut + o, s * WG + lid)]; }
      for (var a = 0u; a < NACC; a++) {
        let w = w_row4(ly, o, j0 + 4u * a);
        for (var s = 0u; s < S; s++) { acc[s * NACC + a] += d[s] * w; }
      }
    }
    for (var s = 0u; s < S; s++) {
      let q = s * WG + lid;
      for (var a = 0u; a < NACC; a++) {
        for (var e = 0u; e < 4u; e++) {
          let j = j0 + 4u * a + e;
          if (j < ly.inDim) {
            let h = scratch[at(chunk, ly.hIn + j, q)];
            scratch[db + at(chunk, ly.hIn + j, q)] = acc[s * NACC + a][e] * (1.0 - h * h);
          }
        }
      }
    }
  }
}
