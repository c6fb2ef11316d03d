import { afterAll, describe, expect, it } from 'vitest';
import { runOps } from '../src/gpu/index.js';
import { headsWgsl } from '../src/dist/heads.js';
import { normal2, rngFill, uniform2 } from '../src/math/rng.js';
import { testGpu } from './gpu-context.js';
import * as R from './reference/heads.js';
import { AWKWARD_SIZES, TestRandom } from './reference/random.js';
import * as H from './support/heads-batch.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

type Vec = ArrayLike<number>;

const row = (x: Vec, i: number, a: number): number[] => Array.from({ length: a }, (_, j) => x[i * a + j]!);
const maxAbs = (x: Vec): number => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Central finite-difference gradient of a scalar function. */
function fdGrad(f: (x: number[]) => number, x: number[], h: number): number[] {
  return x.map((_, k) => {
    const p = x.slice();
    const m = x.slice();
    p[k]! += h;
    m[k]! -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

/** Central finite-difference directional derivative (g(x + hv) − g(x − hv)) / 2h of a vector function. */
function fdDir(g: (x: number[]) => number[], x: number[], v: number[], h: number): number[] {
  const p = g(x.map((xi, k) => xi + h * v[k]!));
  const m = g(x.map((xi, k) => xi - h * v[k]!));
  return p.map((pi, k) => (pi - m[k]!) / (2 * h));
}

function expectClose(got: Vec, want: Vec, tol: (k: number) => number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const err = Math.abs(got[k]! - want[k]!);
    if (!(err <= tol(k))) {
      expect.fail(`${what}[${k}]: got ${got[k]}, want ${want[k]}, |err| ${err} > tol ${tol(k)}`);
    }
  }
}

// ================================================================================================
// The float64 references, checked against derivatives and definitions
// ================================================================================================

describe('float64 reference heads', () => {
  const rnd = new TestRandom(2024);
  const randLogits = (n: number): number[] => {
    const scale = Math.exp(rnd.uniform(-1, 1.5));
    return Array.from({ length: n }, () => rnd.normal() * scale);
  };
  const randGauss = (n: number) => ({
    mu: Array.from({ length: n }, () => rnd.normal() * 2),
    s: Array.from({ length: n }, () => rnd.uniform(-1.5, 1)),
    v: Array.from({ length: n }, () => rnd.normal()),
  });

  // Central differences with h = 1e-5: truncation h²·|f'''|/6 ≲ 1e-9 for these inputs, round-off
  // ε·|f|/h ≲ 1e-10. Tolerances 1e-7 (categorical) and 1e-6·(1 + |g|) (Gaussian, whose third
  // derivatives in s scale with ((a − μ)/σ)²) are far above both and far below any real error.
  const h = 1e-5;

  it('categorical ∂log p_a/∂z = central differences of the log-prob', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const z = randLogits(n);
      const a = rnd.int(n);
      const fd = fdGrad((x) => R.catLogProb(x, a), z, h);
      expectClose(R.catGradLogProb(z, a), fd, () => 1e-7, `grad n=${n}`);
    }
  });

  it('categorical ∂KL(p_old‖p(z))/∂z = central differences of the KL', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const zo = randLogits(n);
      const zn = zo.map((x) => x + rnd.normal() * 0.5);
      const fd = fdGrad((x) => R.catKl(zo, x), zn, h);
      expectClose(R.catKlGradNew(zo, zn), fd, () => 1e-7, `kl grad n=${n}`);
    }
  });

  it('categorical Fisher product = Hessian of KL(p_old‖p(z)) at z = z_old (differences of its gradient)', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const z = randLogits(n);
      const v = Array.from({ length: n }, () => rnd.normal());
      const fd = fdDir((x) => R.catKlGradNew(z, x), z, v, h);
      expectClose(R.catFisherMul(z, v), fd, () => 1e-7 * (1 + maxAbs(v)), `fisher n=${n}`);
    }
  });

  it('categorical Fisher product = Σ_a p_a ∇log p_a (∇log p_a · v)', () => {
    for (let t = 0; t < 100; t++) {
      const n = 1 + rnd.int(16);
      const z = randLogits(n);
      const v = Array.from({ length: n }, () => rnd.normal());
      const p = R.catSoftmax(z);
      const want = new Array<number>(n).fill(0);
      for (let a = 0; a < n; a++) {
        const g = R.catGradLogProb(z, a);
        const gv = g.reduce((s, gi, i) => s + gi * v[i]!, 0);
        g.forEach((gi, i) => (want[i]! += p[a]! * gi * gv));
      }
      expectClose(R.catFisherMul(z, v), want, () => 1e-12, `fisher outer n=${n}`);
    }
  });

  it('categorical entropy and KL match their definitions; KL(p‖p) = 0, KL ≥ 0, shift-invariant', () => {
    for (let t = 0; t < 100; t++) {
      const n = 1 + rnd.int(16);
      const z = randLogits(n);
      const zn = randLogits(n);
      const ez = z.map(Math.exp);
      const ezn = zn.map(Math.exp);
      const S = ez.reduce((s, x) => s + x, 0);
      const Sn = ezn.reduce((s, x) => s + x, 0);
      const p = ez.map((x) => x / S);
      const q = ezn.map((x) => x / Sn);
      const H = -p.reduce((s, pi) => s + (pi > 0 ? pi * Math.log(pi) : 0), 0);
      const kl = p.reduce((s, pi, i) => s + (pi > 0 ? pi * Math.log(pi / q[i]!) : 0), 0);
      expect(Math.abs(R.catEntropy(z) - H)).toBeLessThan(1e-12);
      expect(Math.abs(R.catKl(z, zn) - kl)).toBeLessThan(1e-12);
      expect(R.catKl(z, z)).toBe(0);
      expect(Math.abs(R.catKl(z, z.map((x) => x + 3.7)))).toBeLessThan(1e-13);
      expect(R.catKl(z, zn)).toBeGreaterThanOrEqual(-1e-15);
    }
  });

  it('categorical inverse-CDF sampling picks each class for its share of [0, 1) and never a zero-probability class', () => {
    const z = [0.3, -1000, 1.2, -0.5, -1000];
    const cdf = R.catCdf(z);
    const p = R.catSoftmax(z);
    for (let i = 0; i < z.length; i++) {
      if (p[i]! === 0) continue;
      const mid = cdf[i]! - p[i]! / 2;
      expect(R.catSample(z, mid)).toBe(i);
    }
    expect(R.catSample(z, 0)).toBe(0);
    expect(R.catSample([-1000, 0, 0], 0)).toBe(1);
    // Rounding: a u at or above the last partial sum falls back to the last class with p > 0.
    expect(R.catSample(z, 1)).toBe(3);
    expect(R.catSample(z, 1 - 2 ** -53)).toBe(3);
  });

  it('Gaussian ∂log p/∂μ and ∂log p/∂s = central differences of the log-prob', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const { mu, s } = randGauss(n);
      const act = mu.map((m, j) => m + Math.exp(s[j]!) * rnd.normal() * 1.5);
      const gm = R.gaussGradLogProbMean(mu, s, act);
      const gs = R.gaussGradLogProbLogStd(mu, s, act);
      const fdm = fdGrad((x) => R.gaussLogProb(x, s, act), mu, h);
      const fds = fdGrad((x) => R.gaussLogProb(mu, x, act), s, h);
      expectClose(gm, fdm, (k) => 1e-6 * (1 + Math.abs(fdm[k]!)), `grad mean n=${n}`);
      expectClose(gs, fds, (k) => 1e-6 * (1 + Math.abs(fds[k]!)), `grad logstd n=${n}`);
    }
  });

  it('Gaussian ∂KL(old‖new)/∂(μ_new, s_new) = central differences of the KL', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const o = randGauss(n);
      const mn = o.mu.map((m) => m + rnd.normal() * 0.5);
      const sn = o.s.map((s) => s + rnd.normal() * 0.3);
      const g = R.gaussKlGradNew(o.mu, o.s, mn, sn);
      const fdm = fdGrad((x) => R.gaussKl(o.mu, o.s, x, sn), mn, h);
      const fds = fdGrad((x) => R.gaussKl(o.mu, o.s, mn, x), sn, h);
      expectClose(g.mean, fdm, (k) => 1e-6 * (1 + Math.abs(fdm[k]!)), `kl grad mean n=${n}`);
      expectClose(g.logStd, fds, (k) => 1e-6 * (1 + Math.abs(fds[k]!)), `kl grad logstd n=${n}`);
    }
  });

  it('Gaussian Fisher products (v/σ² for μ, 2v for s, no cross terms) = Hessian of KL(old‖new) at new = old', () => {
    for (let t = 0; t < 300; t++) {
      const n = 1 + rnd.int(16);
      const { mu, s, v } = randGauss(n);
      const vs = Array.from({ length: n }, () => rnd.normal());
      // Differentiate the joint gradient [∂/∂μ_new, ∂/∂s_new] along the joint direction (v, vs).
      const grad = (x: number[]): number[] => {
        const g = R.gaussKlGradNew(mu, s, x.slice(0, n), x.slice(n));
        return [...g.mean, ...g.logStd];
      };
      const fd = fdDir(grad, [...mu, ...s], [...v, ...vs], h);
      const want = [...R.gaussFisherMulMean(s, v), ...R.gaussFisherMulLogStd(vs)];
      expectClose(want, fd, (k) => 1e-6 * (1 + Math.abs(fd[k]!)), `gauss fisher n=${n}`);
    }
  });

  it('Gaussian KL(old‖new) and entropy match numerical integration in one dimension (and KL is directional)', () => {
    const simpson = (f: (x: number) => number, lo: number, hi: number, m: number): number => {
      const w = (hi - lo) / m;
      let s = f(lo) + f(hi);
      for (let i = 1; i < m; i++) s += (i % 2 ? 4 : 2) * f(lo + i * w);
      return (s * w) / 3;
    };
    for (const [mo, so, mn, sn] of [
      [0, 0, 0, 0],
      [0.3, -0.5, -0.4, 0.2],
      [1, 0.7, 2.5, -0.3],
    ] as const) {
      const po = (x: number) => Math.exp(R.gaussLogProb([mo], [so], [x]));
      const sig = Math.exp(so);
      const kl = simpson((x) => po(x) * (R.gaussLogProb([mo], [so], [x]) - R.gaussLogProb([mn], [sn], [x])), mo - 14 * sig, mo + 14 * sig, 20000);
      const ent = simpson((x) => -po(x) * R.gaussLogProb([mo], [so], [x]), mo - 14 * sig, mo + 14 * sig, 20000);
      expect(Math.abs(R.gaussKl([mo], [so], [mn], [sn]) - kl)).toBeLessThan(1e-9);
      expect(Math.abs(R.gaussEntropy([so]) - ent)).toBeLessThan(1e-9);
      if (mo !== mn) expect(Math.abs(R.gaussKl([mn], [sn], [mo], [so]) - kl)).toBeGreaterThan(1e-3);
    }
  });
});

// ================================================================================================
// GPU kernels against the references
// ================================================================================================

/** Elements past each output that must stay untouched (catches writes beyond N or N×A). */
const GUARD = 4;
const SENTINEL = 1234.5;

describe.skipIf(!gpu)('heads on the GPU', () => {
  const g = gpu!;

  /** Largest |err| and largest |err| / tol seen per output, printed at the end for the record. */
  const worst = new Map<string, { err: number; ratio: number }>();
  afterAll(() => {
    const lines = [...worst.entries()].map(([k, w]) => `  ${k.padEnd(22)} max |err| ${w.err.toExponential(2)}   max |err|/tol ${w.ratio.toFixed(3)}`);
    console.log(`heads: GPU vs float64 reference\n${lines.join('\n')}`);
  });

  function compare(name: string, got: Float32Array, want: (k: number) => number, tol: (k: number) => number, ctx: string): void {
    let w = worst.get(name) ?? { err: 0, ratio: 0 };
    for (let k = 0; k < got.length; k++) {
      const ref = want(k);
      const err = Math.abs(got[k]! - ref);
      const t = tol(k);
      if (!(err <= t)) {
        expect.fail(`${name} (${ctx}) element ${k}: got ${got[k]}, want ${ref}, |err| ${err} > tol ${t}`);
      }
      w = { err: Math.max(w.err, err), ratio: Math.max(w.ratio, err / t) };
    }
    worst.set(name, w);
  }

  /** Buffers of one test, destroyed together. */
  class Pool {
    private readonly bufs: GPUBuffer[] = [];
    private readonly ops: H.HeadOp[] = [];
    up(label: string, data: Float32Array): GPUBuffer {
      const b = g.upload(`heads-test/${label}`, data);
      this.bufs.push(b);
      return b;
    }
    /** An output of `len` elements poisoned with NaN, followed by GUARD sentinels. */
    out(label: string, len: number): GPUBuffer {
      const init = new Float32Array(len + GUARD).fill(Number.NaN);
      init.fill(SENTINEL, len);
      return this.up(label, init);
    }
    op(o: H.HeadOp): H.HeadOp {
      this.ops.push(o);
      return o;
    }
    destroy(): void {
      for (const o of this.ops) o.destroy();
      for (const b of this.bufs) b.destroy();
    }
  }

  /** Runs the ops in one submit and reads every output back in one round trip, checking the guards. */
  async function runAndRead(ops: ReadonlyArray<{ name: string; op: H.HeadOp; out: GPUBuffer; len: number }>): Promise<Map<string, Float32Array>> {
    runOps(g, 'heads-test', ops.map((o) => o.op));
    const raw = await g.readRanges(ops.map((o) => ({ buffer: o.out, size: (o.len + GUARD) * 4 })));
    const res = new Map<string, Float32Array>();
    ops.forEach((o, i) => {
      const all = new Float32Array(raw[i]!);
      for (let k = o.len; k < o.len + GUARD; k++) {
        if (all[k] !== SENTINEL) expect.fail(`${o.name}: wrote past its output (element ${k} = ${all[k]})`);
      }
      res.set(o.name, all.subarray(0, o.len));
    });
    return res;
  }

  // --- tolerances --------------------------------------------------------------------------------
  // Derived from WGSL's f32 accuracy requirements (exp: 3 + 2|x| ulp; log: 3 ulp, or 2^-21
  // absolute on [0.5, 2]; + − × ÷ correctly rounded or nearly), so they should hold on any
  // conforming GPU; lavapipe's errors are 3–20× below them (the table printed after the run).
  // Categorical, with max-subtracted logits: errors scale with the largest |logit| M of the
  // sample(s) involved (log S and z − m carry a few ulp of values up to 2M).
  //   log-prob, log-softmax, entropy: 2e-6·(1 + M)     KL: 2e-6·(1 + M_old + M_new)
  //   gradient: 1e-6 (entries are differences of probabilities ≤ 1)
  //   Fisher product: 1e-6·(1 + max|v|)
  // Gaussian (σ = exp(s) evaluated as exp(±s), ≤ 11 ulp for |2s| ≤ 4; y = (a − μ)/σ):
  //   log-prob: 4e-6·Σ_j(1 + y_j² + |s_j|)     entropy: 1e-6·Σ_j(1 + |s_j|)
  //   KL: 4e-6·Σ_j(1 + |s_o| + |s_n| + σ_o²/σ_n² + ((μ_o − μ_n)/σ_n)²)
  //   ∂/∂μ: 4e-6·(|a| + |μ|)/σ²    ∂/∂s: 4e-6·(1 + ((|a| + |μ|)/σ)²)    Fisher (μ): 4e-6·|v|/σ²
  //   sample: 1e-6·(|μ| + σ|z|) against μ + σ·z with the GPU's own normals z
  // Samples of the categorical agree exactly with the twin except where a partial sum of
  // probabilities lies within 1e-6 of u (such samples are counted, and must be rare).

  interface Inputs {
    n: number;
    a: number;
    logits: Float32Array;
    logitsNew: Float32Array;
    catActions: Float32Array;
    v: Float32Array;
    mean: Float32Array;
    meanNew: Float32Array;
    gaussActions: Float32Array;
    /** Log-std vectors (A entries) and the larger NaN-filled buffers they sit in, at an offset. */
    logStd: Float32Array;
    logStdNew: Float32Array;
    logStdBuf: Float32Array;
    logStdOffset: number;
    logStdNewBuf: Float32Array;
    logStdNewOffset: number;
  }

  function makeInputs(n: number, a: number, seed: number, logitRange = 80): Inputs {
    const rnd = new TestRandom(seed);
    const clamp = (x: number) => Math.max(-logitRange, Math.min(logitRange, x));
    const logits = new Float32Array(n * a);
    const logitsNew = new Float32Array(n * a);
    for (let i = 0; i < n; i++) {
      const scale = Math.exp(rnd.uniform(-2, 3));
      const step = Math.exp(rnd.uniform(-6, 0.5));
      for (let j = 0; j < a; j++) {
        const z = clamp(rnd.normal() * scale);
        logits[i * a + j] = z;
        logitsNew[i * a + j] = clamp(z + rnd.normal() * step);
      }
    }
    const catActions = new Float32Array(n);
    for (let i = 0; i < n; i++) catActions[i] = rnd.int(a);
    const logStd = new Float32Array(a);
    const logStdNew = new Float32Array(a);
    for (let j = 0; j < a; j++) {
      logStd[j] = rnd.uniform(-2, 1);
      logStdNew[j] = logStd[j]! + rnd.normal() * 0.2;
    }
    const logStdOffset = 5;
    const logStdNewOffset = 2;
    const logStdBuf = new Float32Array(logStdOffset + a + 3).fill(Number.NaN);
    logStdBuf.set(logStd, logStdOffset);
    const logStdNewBuf = new Float32Array(logStdNewOffset + a + 1).fill(Number.NaN);
    logStdNewBuf.set(logStdNew, logStdNewOffset);
    const mean = new Float32Array(n * a);
    const meanNew = new Float32Array(n * a);
    const gaussActions = new Float32Array(n * a);
    for (let k = 0; k < n * a; k++) {
      const j = k % a;
      mean[k] = rnd.normal() * 2;
      meanNew[k] = mean[k]! + rnd.normal() * 0.3 * rnd.next();
      gaussActions[k] = mean[k]! + Math.exp(logStd[j]!) * rnd.normal() * 1.5;
    }
    return {
      n, a, logits, logitsNew, catActions, v: rnd.normals(n * a), mean, meanNew, gaussActions,
      logStd, logStdNew, logStdBuf, logStdOffset, logStdNewBuf, logStdNewOffset,
    };
  }

  const rowMax = (x: Vec, i: number, a: number): number => maxAbs(row(x, i, a));

  type RngOpts = { seed: number; stream: number; counterBase: number };

  /**
   * The GPU's own standard normals for a Gaussian sample batch, from the rng fill kernel: sample i
   * dim j uses counter counterBase + i·ceil(A/2) + floor(j/2), component j mod 2, which is fill
   * element 2·(i·ceil(A/2) + floor(j/2)) + j mod 2 = i·2·ceil(A/2) + j.
   */
  async function gpuNormals(n: number, a: number, rng: RngOpts): Promise<Float32Array> {
    const stride = 2 * Math.ceil(a / 2);
    const buf = g.upload('heads-test/normals', new Float32Array(n * stride).fill(Number.NaN));
    try {
      rngFill(g, buf, { n: n * stride, seed: rng.seed, stream: rng.stream, counterBase: rng.counterBase, normal: true });
      const all = await g.readF32(buf);
      const z = new Float32Array(n * a);
      for (let i = 0; i < n; i++) for (let j = 0; j < a; j++) z[i * a + j] = all[i * stride + j]!;
      return z;
    } finally {
      buf.destroy();
    }
  }

  /** Builds every batch op over `inp`, runs them in one submit and checks each against the reference. */
  async function checkAll(inp: Inputs, opts: { seed: number; stream: number; counterBase: number; wg?: number }, ctx: string) {
    const { n, a } = inp;
    const pool = new Pool();
    try {
      const b = {
        logits: pool.up('logits', inp.logits),
        logitsNew: pool.up('logits-new', inp.logitsNew),
        catActions: pool.up('cat-actions', inp.catActions),
        v: pool.up('v', inp.v),
        mean: pool.up('mean', inp.mean),
        meanNew: pool.up('mean-new', inp.meanNew),
        gaussActions: pool.up('gauss-actions', inp.gaussActions),
        logStd: pool.up('log-std', inp.logStdBuf),
        logStdNew: pool.up('log-std-new', inp.logStdNewBuf),
      };
      const shape = { n, a, workgroupSize: opts.wg };
      const ls = { logStd: b.logStd, logStdOffset: inp.logStdOffset };
      const rng = { seed: opts.seed, stream: opts.stream, counterBase: opts.counterBase };
      const specs = [
        ['cat.logProb', n, (out: GPUBuffer) => H.catLogProbOp(g, { ...shape, logits: b.logits, actions: b.catActions, out })],
        ['cat.logSoftmax', n * a, (out: GPUBuffer) => H.catLogSoftmaxOp(g, { ...shape, logits: b.logits, out })],
        ['cat.entropy', n, (out: GPUBuffer) => H.catEntropyOp(g, { ...shape, logits: b.logits, out })],
        ['cat.kl', n, (out: GPUBuffer) => H.catKlOp(g, { ...shape, logitsOld: b.logits, logitsNew: b.logitsNew, out })],
        ['cat.sample', n, (out: GPUBuffer) => H.catSampleOp(g, { ...shape, ...rng, logits: b.logits, out })],
        ['cat.gradLogProb', n * a, (out: GPUBuffer) => H.catGradLogProbOp(g, { ...shape, logits: b.logits, actions: b.catActions, out })],
        ['cat.fisherMul', n * a, (out: GPUBuffer) => H.catFisherMulOp(g, { ...shape, logits: b.logits, v: b.v, out })],
        ['gauss.logProb', n, (out: GPUBuffer) => H.gaussLogProbOp(g, { ...shape, ...ls, mean: b.mean, actions: b.gaussActions, out })],
        ['gauss.entropy', n, (out: GPUBuffer) => H.gaussEntropyOp(g, { ...shape, ...ls, out })],
        [
          'gauss.kl',
          n,
          (out: GPUBuffer) =>
            H.gaussKlOp(g, {
              ...shape,
              meanOld: b.mean,
              logStdOld: b.logStd,
              logStdOldOffset: inp.logStdOffset,
              meanNew: b.meanNew,
              logStdNew: b.logStdNew,
              logStdNewOffset: inp.logStdNewOffset,
              out,
            }),
        ],
        ['gauss.sample', n * a, (out: GPUBuffer) => H.gaussSampleOp(g, { ...shape, ...rng, ...ls, mean: b.mean, out })],
        ['gauss.gradMean', n * a, (out: GPUBuffer) => H.gaussGradLogProbMeanOp(g, { ...shape, ...ls, mean: b.mean, actions: b.gaussActions, out })],
        ['gauss.gradLogStd', n * a, (out: GPUBuffer) => H.gaussGradLogProbLogStdOp(g, { ...shape, ...ls, mean: b.mean, actions: b.gaussActions, out })],
        ['gauss.fisherMulMean', n * a, (out: GPUBuffer) => H.gaussFisherMulMeanOp(g, { ...shape, ...ls, v: b.v, out })],
      ] as const;
      const ops = specs.map(([name, len, make]) => {
        const out = pool.out(name, len);
        return { name, len, out, op: pool.op(make(out)) };
      });
      const r = await runAndRead(ops);
      const get = (name: string): Float32Array => r.get(name)!;
      checkCategorical(inp, get, opts, ctx);
      checkGaussian(inp, get, opts, await gpuNormals(n, a, opts), ctx);
      return r;
    } finally {
      pool.destroy();
    }
  }

  function checkCategorical(inp: Inputs, get: (name: string) => Float32Array, rng: RngOpts, ctx: string): void {
    const { n, a, logits, logitsNew, catActions, v } = inp;
    const z = (i: number) => row(logits, i, a);
    const m = (i: number) => rowMax(logits, i, a);
    compare('cat.logProb', get('cat.logProb'), (i) => R.catLogProb(z(i), catActions[i]!), (i) => 2e-6 * (1 + m(i)), ctx);
    compare('cat.entropy', get('cat.entropy'), (i) => R.catEntropy(z(i)), (i) => 2e-6 * (1 + m(i)), ctx);
    compare(
      'cat.kl',
      get('cat.kl'),
      (i) => R.catKl(z(i), row(logitsNew, i, a)),
      (i) => 2e-6 * (1 + m(i) + rowMax(logitsNew, i, a)),
      ctx,
    );
    // Vector outputs: reference rows computed once per sample.
    let cache = -1;
    let lsmRow: number[] = [];
    let gradRow: number[] = [];
    let fishRow: number[] = [];
    let vMax = 0;
    const rowsOf = (i: number) => {
      if (cache !== i) {
        cache = i;
        lsmRow = R.catLogSoftmax(z(i));
        gradRow = R.catGradLogProb(z(i), catActions[i]!);
        fishRow = R.catFisherMul(z(i), row(v, i, a));
        vMax = rowMax(v, i, a);
      }
    };
    compare('cat.logSoftmax', get('cat.logSoftmax'), (k) => (rowsOf(Math.floor(k / a)), lsmRow[k % a]!), (k) => 2e-6 * (1 + m(Math.floor(k / a))), ctx);
    compare('cat.gradLogProb', get('cat.gradLogProb'), (k) => (rowsOf(Math.floor(k / a)), gradRow[k % a]!), () => 1e-6, ctx);
    compare('cat.fisherMul', get('cat.fisherMul'), (k) => (rowsOf(Math.floor(k / a)), fishRow[k % a]!), () => 1e-6 * (1 + vMax), ctx);

    // Sampling: the twin with the same uniforms, exact away from CDF boundaries.
    const got = get('cat.sample');
    let boundary = 0;
    for (let i = 0; i < n; i++) {
      const u = uniform2(rng.seed, rng.stream, (rng.counterBase + i) >>> 0)[0];
      const cdf = R.catCdf(z(i));
      const s = got[i]!;
      if (!(Number.isInteger(s) && s >= 0 && s < a)) expect.fail(`cat.sample (${ctx}) sample ${i}: ${s} is not a class index`);
      if (cdf.some((c) => Math.abs(c - u) < 1e-6)) {
        boundary++;
        continue;
      }
      const want = R.catSample(z(i), u);
      if (s !== want) expect.fail(`cat.sample (${ctx}) sample ${i}: got ${s}, twin ${want} (u = ${u}, cdf ${cdf.join(', ')})`);
    }
    // The chance that u lands within 1e-6 of one of ≤ 16 partial sums is < 3.2e-5 per sample.
    expect(boundary, `cat.sample (${ctx}): samples on a CDF boundary`).toBeLessThanOrEqual(Math.max(3, n * 1e-3));
  }

  function checkGaussian(inp: Inputs, get: (name: string) => Float32Array, rng: RngOpts, zGpu: Float32Array, ctx: string): void {
    const { a, mean, meanNew, gaussActions, logStd, logStdNew, v } = inp;
    const mu = (i: number) => row(mean, i, a);
    const act = (i: number) => row(gaussActions, i, a);
    const sig = Array.from(logStd, Math.exp);
    const ys = (i: number) => act(i).map((x, j) => (x - mean[i * a + j]!) / sig[j]!);
    compare(
      'gauss.logProb',
      get('gauss.logProb'),
      (i) => R.gaussLogProb(mu(i), logStd, act(i)),
      (i) => 4e-6 * ys(i).reduce((s, y, j) => s + 1 + y * y + Math.abs(logStd[j]!), 0),
      ctx,
    );
    const entTol = 1e-6 * Array.from(logStd).reduce((s, x) => s + 1 + Math.abs(x), 0);
    const ent = R.gaussEntropy(logStd);
    compare('gauss.entropy', get('gauss.entropy'), () => ent, () => entTol, ctx);
    compare(
      'gauss.kl',
      get('gauss.kl'),
      (i) => R.gaussKl(mu(i), logStd, row(meanNew, i, a), logStdNew),
      (i) => {
        let t = 0;
        for (let j = 0; j < a; j++) {
          const sn = Math.exp(logStdNew[j]!);
          t += 1 + Math.abs(logStd[j]!) + Math.abs(logStdNew[j]!) + (sig[j]! / sn) ** 2 + ((mean[i * a + j]! - meanNew[i * a + j]!) / sn) ** 2;
        }
        return 4e-6 * t;
      },
      ctx,
    );
    // Sampling: μ + σ·z against the GPU's own f32 normals (tight), and those normals against the
    // float64 twin at the documented counters. The f32 Box-Muller loses absolute accuracy where
    // u is near 1 (z near 0: r = sqrt(−2 log u) with an absolute error in log u of ~1e-7), so that
    // second check only pins the counter mapping: a wrong counter is off by O(1).
    compare(
      'gauss.sample',
      get('gauss.sample'),
      (k) => mean[k]! + sig[k % a]! * zGpu[k]!,
      (k) => 1e-6 * (Math.abs(mean[k]!) + sig[k % a]! * Math.abs(zGpu[k]!)),
      ctx,
    );
    const half = Math.ceil(a / 2);
    compare(
      'gauss.sample normals',
      zGpu,
      (k) => normal2(rng.seed, rng.stream, (rng.counterBase + Math.floor(k / a) * half + ((k % a) >> 1)) >>> 0)[(k % a) & 1]!,
      () => 1e-3,
      ctx,
    );
    const spread = (k: number) => Math.abs(gaussActions[k]!) + Math.abs(mean[k]!);
    compare(
      'gauss.gradMean',
      get('gauss.gradMean'),
      (k) => R.gaussGradLogProbMean([mean[k]!], [logStd[k % a]!], [gaussActions[k]!])[0]!,
      (k) => (4e-6 * spread(k)) / sig[k % a]! ** 2,
      ctx,
    );
    compare(
      'gauss.gradLogStd',
      get('gauss.gradLogStd'),
      (k) => R.gaussGradLogProbLogStd([mean[k]!], [logStd[k % a]!], [gaussActions[k]!])[0]!,
      (k) => 4e-6 * (1 + (spread(k) / sig[k % a]!) ** 2),
      ctx,
    );
    compare(
      'gauss.fisherMulMean',
      get('gauss.fisherMulMean'),
      (k) => R.gaussFisherMulMean([logStd[k % a]!], [v[k]!])[0]!,
      (k) => (4e-6 * Math.abs(v[k]!)) / sig[k % a]! ** 2,
      ctx,
    );
  }

  describe.each(AWKWARD_SIZES)('N = %i', (n) => {
    const widths = n === 64 || n === 1000 ? [1, 2, 3, 7, 16] : [1, 2, 3, 7];
    it.each(widths)('A = %i: every op matches the reference (outputs poisoned, guards intact)', async (a) => {
      // counterBase near 2^32 for N = 1000 so the counters wrap.
      const counterBase = n === 1000 ? 0xffffff00 : 12345;
      await checkAll(makeInputs(n, a, 1000 * n + a), { seed: 77 + a, stream: 3, counterBase }, `N=${n} A=${a}`);
    });
  });

  it('extreme logits (±80 and between) give finite results that match the reference', async () => {
    for (const a of [2, 3, 7, 16]) {
      const inp = makeInputs(1000, a, 99 + a);
      const rnd = new TestRandom(5 + a);
      const pick = () => [-80, 80, rnd.uniform(-80, 80)][rnd.int(3)]!;
      for (let k = 0; k < inp.logits.length; k++) {
        inp.logits[k] = pick();
        inp.logitsNew[k] = pick();
      }
      // Whole rows at −80 and at +80.
      for (let j = 0; j < a; j++) {
        inp.logits[j] = -80;
        inp.logits[a + j] = 80;
        inp.logitsNew[j] = 80;
      }
      const r = await checkAll(inp, { seed: 1, stream: 2, counterBase: 0 }, `extreme A=${a}`);
      for (const name of ['cat.logProb', 'cat.logSoftmax', 'cat.entropy', 'cat.kl', 'cat.gradLogProb', 'cat.fisherMul', 'cat.sample']) {
        expect(r.get(name)!.every(Number.isFinite), name).toBe(true);
      }
    }
  });

  it('cat_sample with given uniforms: the twin exactly, and never a class with zero probability in f32', async () => {
    const pool = new Pool();
    try {
      const rnd = new TestRandom(31);
      const a = 7;
      const rows: number[][] = [];
      const us: number[] = [];
      const specialU = [0, 2 ** -24, 0.5, 1 - 2 ** -24];
      for (let r = 0; r < 400; r++) {
        // Mixtures of dominant, ordinary and underflowing (gap > 104 ⇒ exp = 0 in f32) classes.
        const z = Array.from({ length: a }, () => [-80, 80, rnd.uniform(-80, 80), rnd.normal()][rnd.int(4)]!);
        if (r % 4 === 0) z[a - 1] = -80; // the last class underflows whenever another is near +80
        for (const u of [...specialU, rnd.next(), rnd.next()]) {
          rows.push(z.map(Math.fround));
          us.push(u);
        }
      }
      const n = rows.length;
      const logits = pool.up('logits', Float32Array.from(rows.flat()));
      const u = pool.up('u', Float32Array.from(us));
      const out = pool.out('out', n);
      const op = pool.op(H.catSampleWithUniformsOp(g, { n, a, logits, u, out }));
      const got = (await runAndRead([{ name: 'cat.sampleU', op, out, len: n }])).get('cat.sampleU')!;
      let exact = 0;
      for (let i = 0; i < n; i++) {
        const z = rows[i]!;
        const s = got[i]!;
        expect(Number.isInteger(s) && s >= 0 && s < a, `sample ${i} = ${s}`).toBe(true);
        const gap = Math.max(...z) - z[s]!;
        if (gap > 104) expect.fail(`sample ${i}: class ${s} has exp(z − max) = exp(−${gap}) = 0 in f32 (u = ${us[i]})`);
        if (!R.catCdf(z).some((c) => Math.abs(c - us[i]!) < 1e-6)) {
          expect(s, `sample ${i} (u = ${us[i]})`).toBe(R.catSample(z, us[i]!));
          exact++;
        }
      }
      expect(exact).toBeGreaterThan(n / 2);
    } finally {
      pool.destroy();
    }
  });

  it('the KL direction is KL(old ‖ new): the swapped reference is far off', async () => {
    const inp = makeInputs(1000, 3, 4242);
    const [cat, gau] = await Promise.all([
      H.catKl(g, 3, inp.logits, inp.logitsNew),
      H.gaussKl(g, inp.mean, inp.logStd, inp.meanNew, inp.logStdNew),
    ]);
    let catOff = 0;
    let gauOff = 0;
    for (let i = 0; i < 1000; i++) {
      const zo = row(inp.logits, i, 3);
      const zn = row(inp.logitsNew, i, 3);
      catOff = Math.max(catOff, Math.abs(cat[i]! - R.catKl(zn, zo)));
      gauOff = Math.max(gauOff, Math.abs(gau[i]! - R.gaussKl(row(inp.meanNew, i, 3), inp.logStdNew, row(inp.mean, i, 3), inp.logStd)));
    }
    expect(catOff).toBeGreaterThan(1e-2);
    expect(gauOff).toBeGreaterThan(1e-2);
  });

  it('one-shot helpers agree with the reference', async () => {
    const a = 3;
    const n = 65;
    const inp = makeInputs(n, a, 555);
    const key = { seed: 9, stream: 4, counterBase: 100 };
    const [lp, lsm, ent, kl, smp, gr, fm, glp, gent, gkl, gsmp, ggm, ggs, gfm] = await Promise.all([
      H.catLogProb(g, a, inp.logits, inp.catActions),
      H.catLogSoftmax(g, a, inp.logits),
      H.catEntropy(g, a, inp.logits),
      H.catKl(g, a, inp.logits, inp.logitsNew),
      H.catSample(g, a, inp.logits, key),
      H.catGradLogProb(g, a, inp.logits, inp.catActions),
      H.catFisherMul(g, a, inp.logits, inp.v),
      H.gaussLogProb(g, inp.mean, inp.logStd, inp.gaussActions),
      H.gaussEntropy(g, n, inp.logStd),
      H.gaussKl(g, inp.mean, inp.logStd, inp.meanNew, inp.logStdNew),
      H.gaussSample(g, inp.mean, inp.logStd, key),
      H.gaussGradLogProbMean(g, inp.mean, inp.logStd, inp.gaussActions),
      H.gaussGradLogProbLogStd(g, inp.mean, inp.logStd, inp.gaussActions),
      H.gaussFisherMulMean(g, inp.logStd, inp.v),
    ]);
    const r = new Map<string, Float32Array>([
      ['cat.logProb', lp], ['cat.logSoftmax', lsm], ['cat.entropy', ent], ['cat.kl', kl], ['cat.sample', smp], ['cat.gradLogProb', gr],
      ['cat.fisherMul', fm], ['gauss.logProb', glp], ['gauss.entropy', gent], ['gauss.kl', gkl], ['gauss.sample', gsmp],
      ['gauss.gradMean', ggm], ['gauss.gradLogStd', ggs], ['gauss.fisherMulMean', gfm],
    ]);
    const get = (name: string) => r.get(name)!;
    const key0 = { seed: 9, stream: 4, counterBase: 100 };
    checkCategorical(inp, get, key0, 'one-shot');
    checkGaussian(inp, get, key0, await gpuNormals(n, a, key0), 'one-shot');
  });

  it('categorical sampling has the right frequencies, and E[log p(a)] = −H (2^18 samples, 5-sigma bounds)', async () => {
    const N = 1 << 18;
    const z = [0.5, -1, 2, 0, -3, 1, -80];
    const a = z.length;
    const pool = new Pool();
    try {
      const logits = pool.up('logits', Float32Array.from({ length: N * a }, (_, k) => z[k % a]!));
      const actions = pool.out('actions', N);
      const lp = pool.out('logp', N);
      const sample = pool.op(H.catSampleOp(g, { n: N, a, logits, out: actions, seed: 2718, stream: 1 }));
      const logProb = pool.op(H.catLogProbOp(g, { n: N, a, logits, actions, out: lp }));
      // Sample, then score the samples, in one pass: the second op reads what the first wrote.
      const r = await runAndRead([
        { name: 'actions', op: sample, out: actions, len: N },
        { name: 'logp', op: logProb, out: lp, len: N },
      ]);
      const acts = r.get('actions')!;
      const counts = new Array<number>(a).fill(0);
      for (const x of acts) counts[x]!++;
      const p = R.catSoftmax(z);
      for (let i = 0; i < a; i++) {
        const sd = Math.sqrt(N * p[i]! * (1 - p[i]!));
        expect(Math.abs(counts[i]! - N * p[i]!), `class ${i}: ${counts[i]} vs ${N * p[i]!}`).toBeLessThanOrEqual(5 * sd);
      }
      expect(counts[6]).toBe(0); // p ≈ e^-82
      const lps = r.get('logp')!;
      const lpRef = R.catLogSoftmax(z);
      const H0 = R.catEntropy(z);
      const varLp = p.reduce((s, pi, i) => s + pi * (lpRef[i]! + H0) ** 2, 0);
      const meanLp = lps.reduce((s, x) => s + x, 0) / N;
      expect(Math.abs(meanLp + H0)).toBeLessThanOrEqual((5 * Math.sqrt(varLp)) / Math.sqrt(N));
    } finally {
      pool.destroy();
    }
  });

  it('Gaussian sampling has the moments of N(μ, σ²), independent dims and samples, E[log p] = −H (2^18 samples, 5-sigma)', async () => {
    const N = 1 << 18;
    const mu = [1, -2, 0.5];
    const s = [-1, 0.5, 0];
    const a = mu.length;
    const pool = new Pool();
    try {
      const mean = pool.up('mean', Float32Array.from({ length: N * a }, (_, k) => mu[k % a]!));
      const logStd = pool.up('log-std', Float32Array.from(s));
      const x = pool.out('x', N * a);
      const lp = pool.out('logp', N);
      const sample = pool.op(H.gaussSampleOp(g, { n: N, a, mean, logStd, out: x, seed: 31415, stream: 9, counterBase: 7 }));
      const logProb = pool.op(H.gaussLogProbOp(g, { n: N, a, mean, logStd, actions: x, out: lp }));
      const r = await runAndRead([
        { name: 'x', op: sample, out: x, len: N * a },
        { name: 'logp', op: logProb, out: lp, len: N },
      ]);
      const xs = r.get('x')!;
      const zs = (i: number, j: number) => (xs[i * a + j]! - mu[j]!) / Math.exp(s[j]!);
      const sq = Math.sqrt(N);
      for (let j = 0; j < a; j++) {
        let m1 = 0, m2 = 0, m4 = 0, below1 = 0, serial = 0;
        for (let i = 0; i < N; i++) {
          const zz = zs(i, j);
          m1 += zz;
          m2 += zz * zz;
          m4 += zz ** 4;
          if (zz < 1) below1++;
          if (i + 1 < N) serial += zz * zs(i + 1, j);
        }
        expect(Math.abs(m1 / N), `dim ${j} mean`).toBeLessThan(5 / sq);
        expect(Math.abs(m2 / N - 1), `dim ${j} variance`).toBeLessThan((5 * Math.SQRT2) / sq);
        expect(Math.abs(m4 / N - 3), `dim ${j} 4th moment`).toBeLessThan((5 * Math.sqrt(96)) / sq);
        const phi1 = 0.8413447460685429;
        expect(Math.abs(below1 / N - phi1), `dim ${j} P(z < 1)`).toBeLessThan(5 * Math.sqrt((phi1 * (1 - phi1)) / N));
        expect(Math.abs(serial / (N - 1)), `dim ${j} serial correlation`).toBeLessThan(5 / Math.sqrt(N - 1));
      }
      for (const [j, k] of [[0, 1], [1, 2], [0, 2]] as const) {
        let c = 0;
        for (let i = 0; i < N; i++) c += zs(i, j) * zs(i, k);
        expect(Math.abs(c / N), `dims ${j},${k} correlation`).toBeLessThan(5 / sq);
      }
      // log p = −½Σz² − Σs − (A/2)log 2π has mean −H and variance A/2.
      const meanLp = r.get('logp')!.reduce((acc, v) => acc + v, 0) / N;
      expect(Math.abs(meanLp + R.gaussEntropy(s))).toBeLessThan((5 * Math.sqrt(a / 2)) / sq);
    } finally {
      pool.destroy();
    }
  });

  it('is deterministic and independent of the workgroup size; seeds and streams change the samples', async () => {
    const inp = makeInputs(1000, 3, 8);
    const key = { seed: 5, stream: 6, counterBase: 0 };
    const outputs = [];
    for (const wg of [64, 1, 256, 64]) outputs.push(await checkAll(inp, { ...key, wg }, `wg=${wg}`));
    for (const r of outputs.slice(1)) {
      for (const [name, x] of r) expect(x, name).toEqual(outputs[0]!.get(name));
    }
    const other = await H.catSample(g, 3, inp.logits, { seed: 5, stream: 7 });
    const other2 = await H.gaussSample(g, inp.mean, inp.logStd, { seed: 4, stream: 6 });
    expect(other).not.toEqual(outputs[0]!.get('cat.sample'));
    expect(other2).not.toEqual(outputs[0]!.get('gauss.sample'));
  });

  it('update() changes n and the RNG counter like a freshly built op', async () => {
    const pool = new Pool();
    try {
      const inp = makeInputs(200, 2, 12);
      const logits = pool.up('logits', inp.logits);
      const outA = pool.out('a', 200);
      const outB = pool.out('b', 200);
      const opA = pool.op(H.catSampleOp(g, { n: 200, a: 2, logits, out: outA, seed: 1, stream: 1, counterBase: 0 }));
      opA.update({ n: 50, counterBase: 999 });
      expect(opA.n).toBe(50);
      const opB = pool.op(H.catSampleOp(g, { n: 200, a: 2, logits, out: outB, seed: 1, stream: 1, counterBase: 999 }));
      const r = await runAndRead([
        { name: 'a', op: opA, out: outA, len: 200 },
        { name: 'b', op: opB, out: outB, len: 200 },
      ]);
      expect(r.get('a')!.subarray(0, 50)).toEqual(r.get('b')!.subarray(0, 50));
      expect(r.get('a')!.subarray(50).every(Number.isNaN)).toBe(true);
      expect(() => opA.update({ n: 201 })).toThrow(/heads cat_sample: buffer logits \(heads-test\/logits\) has 1600 bytes, needs 1608/);
    } finally {
      pool.destroy();
    }
  });

  it('rejects bad shapes and short buffers with clear errors', () => {
    const pool = new Pool();
    try {
      const small = pool.up('small', new Float32Array(10));
      const big = pool.up('big', new Float32Array(17 * 4));
      const big2 = pool.up('big2', new Float32Array(17 * 4));
      expect(() => H.catEntropyOp(g, { n: 4, a: 17, logits: big, out: big })).toThrow(
        /heads cat_entropy: a \(classes or action dims\) must be an integer in \[1, 16\], got 17/,
      );
      expect(() => H.catEntropyOp(g, { n: 4, a: 0, logits: big, out: big })).toThrow(/must be an integer in \[1, 16\], got 0/);
      expect(() => H.catEntropyOp(g, { n: 0, a: 2, logits: big, out: big })).toThrow(/n \(samples\) must be an integer/);
      expect(() => H.catEntropyOp(g, { n: 2.5, a: 2, logits: big, out: big })).toThrow(/n \(samples\) must be an integer/);
      expect(() => H.catKlOp(g, { n: 4, a: 3, logitsOld: big, logitsNew: small, out: big })).toThrow(
        /heads cat_kl: buffer logitsNew \(heads-test\/small\) has 40 bytes, needs 48 \(12 f32\)/,
      );
      expect(() => H.gaussEntropyOp(g, { n: 4, a: 3, logStd: small, logStdOffset: 8, out: big })).toThrow(
        /buffer logStd .* needs 44 \(11 f32\)/,
      );
      expect(() => H.gaussLogProbOp(g, { n: 4, a: 16, logStd: big, mean: big, actions: big, out: big2 })).not.toThrow();
      expect(() => H.catLogProb(g, 17, new Float32Array(17), new Float32Array(1))).toThrow(/got 17/);
      expect(() => H.catLogProb(g, 3, new Float32Array(7), new Float32Array(2))).toThrow(/logits has 7 elements, not a positive multiple of a = 3/);
      expect(() => H.gaussSample(g, new Float32Array(6), new Float32Array(17), { seed: 0, stream: 0 })).toThrow(/got 17/);
    } finally {
      pool.destroy();
    }
  });

  it('the function library compiles on its own (for inclusion in other kernels)', async () => {
    const mod = g.device.createShaderModule({ label: 'heads-test/library', code: headsWgsl });
    const info = await mod.getCompilationInfo();
    expect(info.messages.filter((m) => m.type === 'error').map((m) => m.message)).toEqual([]);
    await g.flush();
  });
});
