// The dense-layer product of the per-invocation kernels (mlp_forward.wgsl, mlp_jvp.wgsl,
// mlp_backward.wgsl), for devices without subgroups (the *_sg.wgsl kernels are the faster ones);
// needs mlp_common.wgsl. Each weight load feeds S products and each input load 4·NACC. On a CPU
// Vulkan driver (lavapipe, Mesa 25.0) a storage load whose address is not a compile-time constant
// runs once per SIMD lane even when the address is the same in every invocation, so loads, not
// multiply-adds, set the speed.
//
// A kernel file that includes this one defines:
//   fn load_x(term: u32, k: u32, lane: Lane, s: u32) -> f32        input k of sample s
//   fn load_w4(term: u32, o: u32, k: u32, lane: Lane) -> vec4<f32>  M[o .. o+3][k]
// where `term` selects one of the (at most two) matrix-vector products the kernel sums.

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
