// Policy MLP forward for ONE sample, for kernels that run one invocation per environment (rollout,
// evaluation). The including kernel declares `policy: array<f32>` (the flat parameters) and these
// constants, generated from the network shape:
//   MLP_LAYERS: u32, MLP_DIMS: array<u32, MLP_LAYERS + 1> ([in, hidden..., out]), MLP_MAX_WIDTH: u32.
// Layout per layer: W row-major [out][in], then b [out]; tanh on hidden layers, identity output.
// The batched kernels in mlp_*.wgsl compute the same function for training.

fn policy_forward(input: array<f32, MLP_MAX_WIDTH>) -> array<f32, MLP_MAX_WIDTH> {
  var a = input;
  var b: array<f32, MLP_MAX_WIDTH>;
  var off = 0u;
  for (var l = 0u; l < MLP_LAYERS; l++) {
    let nin = MLP_DIMS[l];
    let nout = MLP_DIMS[l + 1u];
    let bias = off + nout * nin;
    let last = l + 1u == MLP_LAYERS;
    for (var o = 0u; o < nout; o++) {
      var s = policy[bias + o];
      let row = off + o * nin;
      for (var i = 0u; i < nin; i++) {
        s += policy[row + i] * a[i];
      }
      b[o] = select(tanh(s), s, last);
    }
    off = bias + nout;
    a = b;
  }
  return a;
}
