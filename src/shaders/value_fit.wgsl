// Minibatch value-function regression on (V(s) − R)². The minibatch index c lives in a GPU
// counter, so every epoch's minibatches are encoded once and run in one submit. Included before:
// ValueFitParams.
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: ValueFitParams;
@group(0) @binding(1) var<storage, read> obs: array<f32>;           // [N·obsDim]
@group(0) @binding(2) var<storage, read> returns: array<f32>;       // [N]
@group(0) @binding(3) var<storage, read> perm: array<u32>;          // epochs·N shuffled sample indices
@group(0) @binding(4) var<storage, read_write> counter: array<u32>; // [c, Adam t]
@group(0) @binding(5) var<storage, read_write> mb_obs: array<f32>;  // [B·obsDim]
@group(0) @binding(6) var<storage, read_write> mb_ret: array<f32>;  // [B]
@group(0) @binding(7) var<storage, read> mb_v: array<f32>;          // [B] V(s) of the minibatch
@group(0) @binding(8) var<storage, read_write> mb_grad: array<f32>; // [B] ∂loss/∂V

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// Copies minibatch c's rows (obs and return) into contiguous buffers for the MLP passes.
@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  let B = params.batch;
  if (i >= B) { return; }
  let n = perm[counter[0] * B + i];
  for (var j = 0u; j < params.obsDim; j++) { mb_obs[i * params.obsDim + j] = obs[n * params.obsDim + j]; }
  mb_ret[i] = returns[n];
}

// ∂/∂V of mean_i (V_i − R_i)² over the minibatch.
@compute @workgroup_size(WG)
fn loss_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= params.batch) { return; }
  mb_grad[i] = 2.0 * (mb_v[i] - mb_ret[i]) / f32(params.batch);
}

// After a minibatch step: next minibatch, next Adam step.
@compute @workgroup_size(1)
fn advance() {
  counter[0] += 1u;
  counter[1] += 1u;
}
