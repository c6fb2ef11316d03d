// value_grad with subgroups (see subgroup_loads.wgsl for why): the dense layers of value_step.wgsl's
// forward and backward passes, lane j of each group of 8 loading one weight row and broadcasting
// it. Included after subgroup_loads.wgsl and value_step.wgsl.

// Lane of this invocation in its group of 8 (set by the entry point).
var<private> j8: u32;

@compute @workgroup_size(WG)
fn value_grad_sg(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sgid: u32,
) {
  j8 = sgid & 7u;
  grad_body(wid.x, lid);
}

// Words f .. f+3 of sample q in the activations (base 0) or deltas (base p.deltaBase); callers
// zero those past their layer's features with guard4.
fn feat4(chunk: u32, base: u32, f: u32, q: u32) -> vec4<f32> {
  let r = base + at(chunk, f, q);
  return vec4<f32>(scratch[r], scratch[r + 1u], scratch[r + 2u], scratch[r + 3u]);
}

// W[min(o, outDim − 1)][k .. k+3], zero past the row.
fn w_row4(ly: Layer, o: u32, k: u32) -> vec4<f32> {
  let r = ly.w + min(o, ly.outDim - 1u) * ly.inDim + k;
  return guard4(vec4<f32>(theta[r], theta[r + 1u], theta[r + 2u], theta[r + 3u]), k, ly.inDim);
}

// z = W h + b of layer ly for the invocation's samples, 8 outputs per pass; tanh on hidden layers.
fn forward_layer(chunk: u32, ly: Layer, hidden: bool, lid: u32) {
  for (var o0 = 0u; o0 < ly.outDim; o0 += 8u) {
    var acc: array<vec4<f32>, 2u * S>;
    let b = lanes8(theta[ly.b + min(o0 + j8, ly.outDim - 1u)]);
    for (var s = 0u; s < S; s++) { acc[2u * s] = b[0]; acc[2u * s + 1u] = b[1]; }
    for (var k = 0u; k < ly.inDim; k += 4u) {
      var xs: array<vec4<f32>, S>;
      for (var s = 0u; s < S; s++) { xs[s] = guard4(feat4(chunk, 0u, ly.hIn + k, s * WG + lid), k, ly.inDim); }
      let wv = w_row4(ly, o0 + j8, k);
      var w: vec4<f32>;
      w = subgroupBroadcast(wv, 0u); for (var s = 0u; s < S; s++) { acc[2u * s + 0u][0u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 1u); for (var s = 0u; s < S; s++) { acc[2u * s + 0u][1u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 2u); for (var s = 0u; s < S; s++) { acc[2u * s + 0u][2u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 3u); for (var s = 0u; s < S; s++) { acc[2u * s + 0u][3u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 4u); for (var s = 0u; s < S; s++) { acc[2u * s + 1u][0u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 5u); for (var s = 0u; s < S; s++) { acc[2u * s + 1u][1u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 6u); for (var s = 0u; s < S; s++) { acc[2u * s + 1u][2u] += dot(w, xs[s]); }
      w = subgroupBroadcast(wv, 7u); for (var s = 0u; s < S; s++) { acc[2u * s + 1u][3u] += dot(w, xs[s]); }
    }
    for (var s = 0u; s < S; s++) {
      for (var h = 0u; h < 2u; h++) {
        for (var e = 0u; e < 4u; e++) {
          let o = o0 + 4u * h + e;
          if (o < ly.outDim) {
            let z = acc[2u * s + h][e];
            scratch[at(chunk, ly.hOut + o, s * WG + lid)] = select(z, tanh(z), hidden);
          }
        }
      }
    }
  }
}

// δ_in = (W_lᵀ δ_l) ⊙ (1 − h²) of layer ly for the invocation's samples, 8 inputs per pass: lane j
// loads W[o + j][j0 .. j0+7] and the broadcast hands it to all lanes.
fn backward_layer(chunk: u32, ly: Layer, lid: u32) {
  let db = p.deltaBase;
  for (var j0 = 0u; j0 < ly.inDim; j0 += 8u) {
    var acc: array<vec4<f32>, 2u * S>;
    for (var a = 0u; a < 2u * S; a++) { acc[a] = vec4<f32>(); }
    for (var o = 0u; o < ly.outDim; o += 8u) {
      var xa: array<vec4<f32>, S>;
      var xb: array<vec4<f32>, S>;
      for (var s = 0u; s < S; s++) {
        xa[s] = guard4(feat4(chunk, db, ly.hOut + o, s * WG + lid), o, ly.outDim);
        xb[s] = guard4(feat4(chunk, db, ly.hOut + o + 4u, s * WG + lid), o + 4u, ly.outDim);
      }
      for (var a = 0u; a < 2u; a++) {
        let wv = w_row4(ly, o + j8, j0 + 4u * a);
        var w: vec4<f32>;
        w = subgroupBroadcast(wv, 0u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xa[s].x * w; }
        w = subgroupBroadcast(wv, 1u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xa[s].y * w; }
        w = subgroupBroadcast(wv, 2u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xa[s].z * w; }
        w = subgroupBroadcast(wv, 3u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xa[s].w * w; }
        w = subgroupBroadcast(wv, 4u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xb[s].x * w; }
        w = subgroupBroadcast(wv, 5u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xb[s].y * w; }
        w = subgroupBroadcast(wv, 6u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xb[s].z * w; }
        w = subgroupBroadcast(wv, 7u); for (var s = 0u; s < S; s++) { acc[2u * s + a] += xb[s].w * w; }
      }
    }
    for (var s = 0u; s < S; s++) {
      let q = s * WG + lid;
      for (var a = 0u; a < 2u; a++) {
        for (var e = 0u; e < 4u; e++) {
          let j = j0 + 4u * a + e;
          if (j < ly.inDim) {
            let h = scratch[at(chunk, ly.hIn + j, q)];
            scratch[db + at(chunk, ly.hIn + j, q)] = acc[2u * s + a][e] * (1.0 - h * h);
          }
        }
      }
    }
  }
}
