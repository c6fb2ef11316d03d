// Adam (Kingma & Ba 2015) on a flat parameter vector, one invocation per parameter. The step count
// t lives in a GPU counter so many minibatch steps can be encoded in one submit; bias correction
// uses t. Included before: AdamParams.
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: AdamParams;
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> moments: array<f32>;  // [m: P | v: P]
@group(0) @binding(4) var<storage, read> counter: array<u32>;        // counter[params.stepIndex] = t - 1

@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let P = params.paramCount;
  if (i >= P) { return; }
  let t = f32(counter[params.stepIndex] + 1u);
  let g = grad[i];
  let m = params.beta1 * moments[i] + (1.0 - params.beta1) * g;
  let v = params.beta2 * moments[P + i] + (1.0 - params.beta2) * g * g;
  moments[i] = m;
  moments[P + i] = v;
  let m_hat = m / (1.0 - pow(params.beta1, t));
  let v_hat = v / (1.0 - pow(params.beta2, t));
  theta[i] -= params.lr * m_hat / (sqrt(v_hat) + params.eps);
}
