// Adam for the value fit, four parameters at a time (vec4: a CPU driver loads a vec4 for about
// the price of a float), shared by value_step.wgsl and the weight-stationary value-fit kernel
// (backends/subgroup8/value-step.ts). Both declare `p: ValueStepParams` first.

struct AdamState {
  theta: vec4<f32>,
  m: vec4<f32>,
  v: vec4<f32>,
}

// One Adam step: the state and its gradient g to the new state, with k = adam_corrections(t)
// of step t.
fn adam_step(s: AdamState, g: vec4<f32>, k: vec2<f32>) -> AdamState {
  let m = p.beta1 * s.m + (1.0 - p.beta1) * g;
  let v = p.beta2 * s.v + (1.0 - p.beta2) * g * g;
  return AdamState(s.theta - p.lr * (m / k.x) / (sqrt(v / k.y) + p.eps), m, v);
}

// The bias corrections (1 − β1ᵗ, 1 − β2ᵗ) of Adam's step t.
fn adam_corrections(t: u32) -> vec2<f32> {
  return vec2<f32>(1.0 - pow(p.beta1, f32(t)), 1.0 - pow(p.beta2, f32(t)));
}
