// Line-search gate. Candidate 0 (the full step) has been evaluated; if the host will accept it
// (the rule of lineSearch() in line-search.ts: a finite step, KL ≤ δ, surrogate improved),
// the other candidates need not be: their dispatches get zero workgroups, their stats NaN, and
// S_LS_SKIPPED tells the host. Otherwise their dispatches get the counts they were built with.
// Included before: GateParams and the S_ stat slot constants.
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: GateParams;
@group(0) @binding(1) var<storage, read> counts: array<u32>;      // 3 per gated dispatch
@group(0) @binding(2) var<storage, read_write> args: array<u32>;  // indirect arguments, same shape
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

fn is_finite(x: f32) -> bool {
  return abs(x) <= 0x1.fffffep+127f; // the largest f32: false for ±inf and NaN
}

@compute @workgroup_size(WG)
fn line_search_gate(@builtin(local_invocation_index) lid: u32) {
  let K = p.candidates;
  let sur = stats[p.candBase];
  let kl = stats[p.candBase + K];
  let before = stats[S_ADV_MEAN] + p.entCoef * stats[S_ENTROPY];
  let accept = stats[S_BAD_STEP] == 0.0 && is_finite(sur) && is_finite(kl) && kl <= p.maxKl && sur - before > 0.0;
  for (var i = lid; i < 3u * p.dispatches; i += WG) {
    args[i] = select(counts[i], 0u, accept);
  }
  if (accept) {
    // A NaN from a runtime value: WGSL rejects a constant NaN.
    let nan = bitcast<f32>(0x7fc00000u | (lid & 0u));
    for (var k = 1u + lid; k < K; k += WG) {
      stats[p.candBase + k] = nan;
      stats[p.candBase + K + k] = nan;
    }
  }
  if (lid == 0u) {
    stats[S_LS_SKIPPED] = select(0.0, 1.0, accept);
  }
}
