// Counter-based random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011), keyed by (seed, stream) and indexed by a 64-bit counter.
// The same (seed, stream, counter) gives the same bits whatever the dispatch layout, so rollouts
// are reproducible across workgroup sizes and env counts. Include this file before kernels that
// sample; the TS twin in math/rng.ts is bit-identical.

fn rng_rotl(x: u32, r: u32) -> u32 {
  return (x << r) | (x >> (32u - r));
}

fn rng_mix(x: ptr<function, vec2<u32>>, r: u32) {
  (*x).x += (*x).y;
  (*x).y = rng_rotl((*x).y, r) ^ (*x).x;
}

// Four rounds with the first (a) or second (b) group of rotation constants.
fn rng_rounds_a(x: ptr<function, vec2<u32>>) { rng_mix(x, 13u); rng_mix(x, 15u); rng_mix(x, 26u); rng_mix(x, 6u); }
fn rng_rounds_b(x: ptr<function, vec2<u32>>) { rng_mix(x, 17u); rng_mix(x, 29u); rng_mix(x, 16u); rng_mix(x, 24u); }

fn threefry2x32(key: vec2<u32>, ctr: vec2<u32>) -> vec2<u32> {
  let k2 = 0x1BD11BDAu ^ key.x ^ key.y;
  var x = ctr + key;
  // 20 rounds; the key is injected after every 4, with the injection count added to the second word.
  rng_rounds_a(&x); x += vec2<u32>(key.y, k2 + 1u);
  rng_rounds_b(&x); x += vec2<u32>(k2, key.x + 2u);
  rng_rounds_a(&x); x += vec2<u32>(key.x, key.y + 3u);
  rng_rounds_b(&x); x += vec2<u32>(key.y, k2 + 4u);
  rng_rounds_a(&x); x += vec2<u32>(k2, key.x + 5u);
  return x;
}

/** 64 random bits for (seed, stream, counter); counter is (low word, high word). */
fn rng_bits(seed: u32, stream: u32, counter: vec2<u32>) -> vec2<u32> {
  return threefry2x32(vec2<u32>(seed, stream), counter);
}

/** Uniform in [0, 1) with 24 random bits (exactly representable in f32). */
fn rng_u01(bits: u32) -> f32 {
  return f32(bits >> 8u) * (1.0 / 16777216.0);
}

/** Uniform in (0, 1): never 0, so log() is safe. 23 random bits, so k + 0.5 is exact in f32. */
fn rng_u01_open(bits: u32) -> f32 {
  return (f32(bits >> 9u) + 0.5) * (1.0 / 8388608.0);
}

/** Two uniforms in [0, 1). */
fn rng_uniform2(seed: u32, stream: u32, counter: vec2<u32>) -> vec2<f32> {
  let b = rng_bits(seed, stream, counter);
  return vec2<f32>(rng_u01(b.x), rng_u01(b.y));
}

/**
 * ln(u) for u in (0, 1], accurate to a few ulp relative to the result also near u = 1, where the
 * built-in log only promises an absolute error (2^-21) and Box-Muller's radius sqrt(-2 ln u) would
 * inherit a large relative error. For u ≥ 0.5: ln u = 2 atanh(t), t = (u − 1)/(u + 1), |t| ≤ 1/3,
 * with u − 1 exact (Sterbenz) and the series summed to t^19.
 */
fn rng_log(u: f32) -> f32 {
  if (u < 0.5) { return log(u); }
  let t = (u - 1.0) / (u + 1.0);
  let t2 = t * t;
  var p = 1.0 / 19.0;
  p = p * t2 + 1.0 / 17.0;
  p = p * t2 + 1.0 / 15.0;
  p = p * t2 + 1.0 / 13.0;
  p = p * t2 + 1.0 / 11.0;
  p = p * t2 + 1.0 / 9.0;
  p = p * t2 + 1.0 / 7.0;
  p = p * t2 + 1.0 / 5.0;
  p = p * t2 + 1.0 / 3.0;
  p = p * t2 + 1.0;
  return 2.0 * t * p;
}

/** Two independent standard normals (Box-Muller). */
fn rng_normal2(seed: u32, stream: u32, counter: vec2<u32>) -> vec2<f32> {
  let b = rng_bits(seed, stream, counter);
  let r = sqrt(-2.0 * rng_log(rng_u01_open(b.x)));
  let phi = 6.283185307179586 * rng_u01(b.y);
  return vec2<f32>(r * cos(phi), r * sin(phi));
}
