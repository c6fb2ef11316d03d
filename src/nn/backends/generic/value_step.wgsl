// One minibatch step of the value-function fit in two dispatches: value_grad (forward, loss
// gradient and backward pass of the minibatch, by chunks of WG samples) and value_adam (sum of
// the chunks' gradients, Adam, next minibatch). It replaces eleven dispatches of the layer-by-layer
// MLP kernels: at minibatch sizes of 64–512 a dispatch's fixed cost, not the arithmetic, was most
// of a step on a CPU Vulkan driver. Included before: ValueStepParams, WG and S.
//
// The loss of a minibatch of B samples is mean_i (V(s_i) − R_i)². Minibatch c holds samples
// perm[c·B .. c·B + B); c = counter[0], Adam's step count t = counter[1]. Each kernel advances
// the counter the other reads and never the one it reads itself (value_grad: t, value_adam: c),
// so value_adam can run in many workgroups without a race on its step count.
//
// Why this shape: on a CPU Vulkan driver every load costs about the same whatever its address
// (uniform, consecutive or scattered), and about twice a multiply-add; so the kernels keep
// register tiles in which every loaded value feeds many multiply-adds (S samples × 16 outputs
// per weight and input loaded; 8 × 8 products per sample in the gradient).
//
// Layout of `scratch`, per chunk of CHUNK samples, sample-major: acts[chunk][q][f] for every
// feature f of the network (the input, each hidden layer's tanh output, the output V), then deltas
// ∂loss/∂z in the same shape at p.deltaBase, then each chunk's parameter gradient
// [chunk][paramCount] at p.partialBase. A sample's features are consecutive, so an invocation's
// loads of 4 or 8 of them are merged into vector loads by the driver.
// value_grad: WG invocations of S samples each make a chunk of CHUNK = WG·S samples. WG and S
// are written before this file by value-fit.ts, which sizes the scratch from the same numbers.
const CHUNK = WG * S;
override ADAM_WG: u32 = 64u;
// Tile of the gradient per invocation: TR rows × TC columns of [W | b].
const TR = 8u;
const TC = 8u;

// Per layer l: l[2l] = (inDim, outDim, W offset, b offset), l[2l + 1] = (first input feature,
// first output feature, 0, 0). W is row-major [outDim][inDim] in theta.
struct LayerTable {
  l: array<vec4<u32>, 18>,
}

@group(0) @binding(0) var<uniform> p: ValueStepParams;
@group(0) @binding(1) var<uniform> table: LayerTable;
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read> obs: array<f32>;       // [N·obsDim]
@group(0) @binding(4) var<storage, read> returns: array<f32>;   // [N]
@group(0) @binding(5) var<storage, read> perm: array<u32>;      // epochs·N shuffled sample indices
@group(0) @binding(6) var<storage, read_write> counter: array<u32>;
@group(0) @binding(7) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(8) var<storage, read_write> moments: array<f32>; // Adam [m: P | v: P]

struct Layer {
  inDim: u32,
  outDim: u32,
  w: u32,
  b: u32,
  hIn: u32,
  hOut: u32,
}

fn layer(l: u32) -> Layer {
  let a = table.l[2u * l];
  let b = table.l[2u * l + 1u];
  return Layer(a.x, a.y, a.z, a.w, b.x, b.y);
}

// Word of feature f of sample q (0 ≤ q < CHUNK) of the chunk.
fn at(chunk: u32, feature: u32, q: u32) -> u32 {
  return (chunk * CHUNK + q) * p.features + feature;
}

// value_grad's work (its entry point is in value_grad.wgsl or value_grad_sg.wgsl, with the
// forward_layer and backward_layer they implement). Forward and backward: invocation `lid` owns
// samples q = s·WG + lid (s < S) of the chunk, and needs nobody else's values. The gradient then
// needs all the chunk's samples, after a barrier.
fn grad_body(chunk: u32, lid: u32) {
  let db = p.deltaBase;
  let L = p.layerCount;
  let c = counter[0];
  if (chunk == 0u && lid == 0u) { counter[1] = counter[1] + 1u; }

  // Samples past the minibatch run on its last sample with a zero loss gradient: no control flow
  // depends on the lane before the barrier, and they add nothing to the gradient.
  var n: array<u32, S>;
  for (var s = 0u; s < S; s++) {
    let i = chunk * CHUNK + s * WG + lid;
    n[s] = perm[c * p.batch + min(i, p.batch - 1u)];
    for (var k = 0u; k < p.obsDim; k++) {
      scratch[at(chunk, k, s * WG + lid)] = obs[n[s] * p.obsDim + k];
    }
  }

  // Forward: z = W h + b; tanh on hidden layers, identity on the output.
  for (var l = 0u; l < L; l++) { forward_layer(chunk, layer(l), l + 1u < L, lid); }

  // ∂loss/∂V = 2 (V − R) / B (the output layer has one unit).
  let out = layer(L - 1u).hOut;
  for (var s = 0u; s < S; s++) {
    let q = s * WG + lid;
    let v = scratch[at(chunk, out, q)];
    let live = chunk * CHUNK + q < p.batch;
    scratch[db + at(chunk, out, q)] = select(0.0, 2.0 * (v - returns[n[s]]) / f32(p.batch), live);
  }

  // Backward: δ_{l-1} = (W_lᵀ δ_l) ⊙ (1 − h²), for the hidden layers' outputs.
  for (var r = 1u; r < L; r++) { backward_layer(chunk, layer(L - r), lid); }

  storageBarrier();
  workgroupBarrier();

  // The chunk's gradient: ∂/∂W_l[o][j] = Σ_q δ_l[o][q] h[j][q], ∂/∂b_l[o] = Σ_q δ_l[o][q] (column
  // j = inDim multiplies 1). Invocations take TR × TC tiles of [W | b] in turn.
  let pb = p.partialBase + chunk * p.paramCount;
  for (var l = 0u; l < L; l++) {
    let ly = layer(l);
    let colBlocks = (ly.inDim + TC) / TC; // ⌈(inDim + 1) / TC⌉
    let tiles = colBlocks * ((ly.outDim + TR - 1u) / TR);
    for (var tile = lid; tile < tiles; tile += WG) {
      let o0 = (tile / colBlocks) * TR;
      let c0 = (tile % colBlocks) * TC;
      var acc: array<f32, TR * TC>;
      for (var t = 0u; t < TR * TC; t++) { acc[t] = 0.0; }
      for (var q = 0u; q < CHUNK; q++) {
        var h: array<f32, TC>;
        // Columns past inDim and rows past outDim read the next words of the sample (other
        // features, or further samples, still inside scratch); their sums are never stored.
        // Unclamped, the TC and TR consecutive loads merge into vector loads.
        for (var e = 0u; e < TC; e++) {
          let col = c0 + e;
          h[e] = select(scratch[at(chunk, ly.hIn + col, q)], 1.0, col == ly.inDim);
        }
        for (var t = 0u; t < TR; t++) {
          let d = scratch[db + at(chunk, ly.hOut + o0 + t, q)];
          for (var e = 0u; e < TC; e++) { acc[t * TC + e] += d * h[e]; }
        }
      }
      for (var t = 0u; t < TR; t++) {
        let o = o0 + t;
        for (var e = 0u; e < TC; e++) {
          let col = c0 + e;
          if (o < ly.outDim && col <= ly.inDim) {
            scratch[pb + select(ly.w + o * ly.inDim + col, ly.b + o, col == ly.inDim)] = acc[t * TC + e];
          }
        }
      }
    }
  }
}

// Sum of the chunks' gradients and one Adam step on theta, ADAM_WG parameters per workgroup;
// workgroup 0 moves on to the next minibatch (value_grad has counted the step).
@compute @workgroup_size(ADAM_WG)
fn value_adam(@builtin(global_invocation_id) gid: vec3<u32>) {
  let P = p.paramCount;
  let k = adam_corrections(counter[1]);
  let i = gid.x;
  if (i == 0u) { counter[0] = counter[0] + 1u; }
  if (i >= P) { return; }
  var g = 0.0;
  for (var c = 0u; c < p.chunks; c++) { g += scratch[p.partialBase + c * P + i]; }
  // One parameter, in the x lane of adam.wgsl's vec4 step.
  let s = adam_step(AdamState(vec4<f32>(theta[i]), vec4<f32>(moments[i]), vec4<f32>(moments[P + i])), vec4<f32>(g), k);
  theta[i] = s.theta.x;
  moments[i] = s.m.x;
  moments[P + i] = s.v.x;
}
