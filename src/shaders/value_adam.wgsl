// Adam for the value fit, shared by value_step.wgsl and the weight-stationary value-fit kernel
// (value-grad-stationary.ts). Both declare `p: ValueStepParams` and `scratch` first.

// Parameter i's gradient of a minibatch: the sum of its chunks' gradients, stored [chunk][P]
// from `base` of scratch.
fn minibatch_grad(base: u32, i: u32) -> f32 {
  var g = 0.0;
  for (var c = 0u; c < p.chunks; c++) { g += scratch[base + c * p.paramCount + i]; }
  return g;
}

// One Adam step of one parameter: (θ, m, v) and its gradient g to the new (θ, m, v), with the
// bias corrections c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ of step t.
fn adam_step(state: vec3<f32>, g: f32, c1: f32, c2: f32) -> vec3<f32> {
  let m = p.beta1 * state.y + (1.0 - p.beta1) * g;
  let v = p.beta2 * state.z + (1.0 - p.beta2) * g * g;
  return vec3<f32>(state.x - p.lr * (m / c1) / (sqrt(v / c2) + p.eps), m, v);
}

// The bias corrections (1 − β1ᵗ, 1 − β2ᵗ) of Adam's step t.
fn adam_corrections(t: u32) -> vec2<f32> {
  return vec2<f32>(1.0 - pow(p.beta1, f32(t)), 1.0 - pow(p.beta2, f32(t)));
}
