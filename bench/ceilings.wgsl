// Reference kernels for the device's ceilings, so the benchmark can say how far from the limit
// each kernel of src/ runs:
//   copy4     a streaming vec4 copy: the memory bandwidth a compute shader gets;
//   matmul    Y = W·X with X and Y feature-major ([k][m], [n][m]) and W [n][k] row-major, the
//             shape of a dense layer over a batch, blocked the way CPU Vulkan drivers like it
//             (S samples per invocation, 4·NACC outputs in vec4 accumulators, W loaded at
//             addresses that are uniform across the workgroup);
//   fma_peak  multiply-adds on registers only: the arithmetic rate with no memory traffic.

override WG: u32 = 64u;
override S: u32 = 4u;
override NACC: u32 = 2u;
const MAX_S: u32 = 8u;
const MAX_ACC: u32 = 16u;

struct Dims {
  m: u32,
  k: u32,
  n: u32,
  // copy4: vec4 elements to copy; fma_peak: iterations
  count: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// copy4 views the same bindings as vec4 arrays.
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn copy4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < dims.count; i += stride) {
    c4[i] = b4[i];
  }
}

// a = X [k][m], b = W [n][k], c = Y [n][m]; m a multiple of WG·S, n a multiple of 4·NACC.
@compute @workgroup_size(WG)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * WG * S + lid;
  for (var o0 = 0u; o0 < dims.n; o0 += 4u * NACC) {
    // Zeroed explicitly: with Dawn on lavapipe a `var` declared in a loop body without an
    // initializer keeps the previous iteration's value (as in mlp_backward.wgsl).
    var acc: array<vec4<f32>, MAX_ACC>;
    for (var i = 0u; i < MAX_ACC; i++) { acc[i] = vec4<f32>(); }
    for (var k = 0u; k < dims.k; k++) {
      var xs: array<f32, MAX_S>;
      for (var s = 0u; s < S; s++) {
        xs[s] = a[k * dims.m + n0 + s * WG];
      }
      for (var q = 0u; q < NACC; q++) {
        let o = o0 + 4u * q;
        let w = vec4<f32>(b[o * dims.k + k], b[(o + 1u) * dims.k + k], b[(o + 2u) * dims.k + k], b[(o + 3u) * dims.k + k]);
        for (var s = 0u; s < S; s++) {
          acc[s * NACC + q] += xs[s] * w;
        }
      }
    }
    for (var s = 0u; s < S; s++) {
      for (var q = 0u; q < NACC; q++) {
        for (var e = 0u; e < 4u; e++) {
          c[(o0 + 4u * q + e) * dims.m + n0 + s * WG] = acc[s * NACC + q][e];
        }
      }
    }
  }
}

// 4 independent vec4 chains of dims.count multiply-adds per invocation (32 flops per iteration).
@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>) {
  var x0 = vec4<f32>(f32(gid.x) * 1e-6);
  var x1 = x0 + 0.1;
  var x2 = x0 + 0.2;
  var x3 = x0 + 0.3;
  let m = vec4<f32>(0.999);
  let d = vec4<f32>(1e-4);
  for (var i = 0u; i < dims.count; i++) {
    x0 = x0 * m + d;
    x1 = x1 * m + d;
    x2 = x2 * m + d;
    x3 = x3 * m + d;
  }
  c[gid.x] = dot(x0 + x1 + x2 + x3, vec4<f32>(1.0));
}
