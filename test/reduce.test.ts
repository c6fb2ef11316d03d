import { afterAll, describe, expect, it } from 'vitest';
import { runOps } from '../src/gpu/index.js';
import { dotOp, meanStdOp, sumOp, varianceOp, type ReduceOptions } from '../src/math/reduce.js';
import type { VecRef } from '../src/math/vec.js';
import { testGpu } from './gpu-context.js';
import { AWKWARD_SIZES, TestRandom } from './reference/random.js';
import { exactDot, exactMean, exactSum, exactVariance, sumAbs, ulpError, ulpF32 } from './reference/sum.js';
import { dot, mean, meanStd, sum, variance } from './support/reduce-host.js';

const gpu = await testGpu();

/**
 * Tolerances, the guarantee stated in src/kernels/reduce.ts: half an f32 ulp of the exact value
 * (correct rounding) plus ABS · Σ|terms|, the worst-case double-float error with the default
 * workgroup size up to n = 2^25 (K·u² with K = 379, about 2^-39.4; larger workgroups have a
 * smaller K). Callers pass ABS · Σ|terms| for mixed signs; for terms of one sign Σ|terms| is
 * |exact| (for std, ABS · std over-covers half the variance's relative error).
 */
const ABS = 379 * 2 ** -48;
const BIG = 10_000_000;

/** Worst error seen per kind, as a fraction of its tolerance, reported at the end. */
const worst = new Map<string, number>();
afterAll(() => {
  if (worst.size) console.log(`max error / tolerance: ${[...worst].map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  gpu?.destroy();
});

function expectClose(what: string, got: number, ref: number, absTerm = 0): void {
  const allowed = 0.5 * ulpF32(ref) + Math.max(absTerm, ABS * Math.abs(ref));
  worst.set(what, Math.max(worst.get(what) ?? 0, Math.abs(got - ref) / allowed));
  if (!(Math.abs(got - ref) <= allowed)) {
    const e = ulpError(got, ref);
    expect.fail(`${what}: got ${got}, exact ${ref}, off by ${e.toFixed(3)} ulp (allowed 0.5 ulp + ${absTerm.toExponential(2)})`);
  }
}

/** A plain f32 pairwise sum, to show the tolerance rejects an uncompensated reduction. */
function f32PairwiseSum(x: Float32Array, lo = 0, hi = x.length): number {
  if (hi - lo <= 64) {
    let s = 0;
    for (let i = lo; i < hi; i++) s = Math.fround(s + x[i]!);
    return s;
  }
  const mid = (lo + hi) >>> 1;
  return Math.fround(f32PairwiseSum(x, lo, mid) + f32PairwiseSum(x, mid, hi));
}

describe.skipIf(!gpu)('reductions', () => {
  const g = gpu!;
  const vec = (data: Float32Array, label = 'x'): VecRef => ({ buffer: g.upload(label, data), length: data.length });

  describe.each([...AWKWARD_SIZES, 1 << 20])('n = %i', (n) => {
    const r = new TestRandom(n);
    const pos = r.f32(n, 0, 1);
    const pos2 = r.f32(n, 0, 1);
    const mixed = r.normals(n);
    const mixed2 = r.normals(n, 3);
    const offset = r.f32(n, -1, 1).map((v) => 1e4 + v);

    it('sum and mean of positive data: correctly rounded', async () => {
      const x = vec(pos);
      expectClose('sum+', await sum(g, x), exactSum(pos));
      expectClose('mean+', await mean(g, x), exactMean(pos));
    });

    it('sum and mean of mixed signs: within 1/2 ulp + K·u² Σ|x|', async () => {
      const x = vec(mixed);
      expectClose('sum±', await sum(g, x), exactSum(mixed), ABS * sumAbs(mixed));
      expectClose('mean±', await mean(g, x), exactMean(mixed), (ABS * sumAbs(mixed)) / n);
    });

    it('dot of positive and of mixed data', async () => {
      expectClose('dot+', await dot(g, vec(pos), vec(pos2)), exactDot(pos, pos2));
      expectClose('dot±', await dot(g, vec(mixed), vec(mixed2)), exactDot(mixed, mixed2), ABS * sumAbs(mixed, mixed2));
    });

    it('variance and std with a large mean offset (1e4 + noise), ddof 0 and 1', async () => {
      const x = vec(offset);
      for (const ddof of [0, 1] as const) {
        const v = exactVariance(offset, ddof);
        expectClose('var', await variance(g, x, { ddof }), v);
        const ms = await meanStd(g, x, { ddof });
        expectClose('mean(meanStd)', ms.mean, exactMean(offset));
        expectClose('std', ms.std, Math.sqrt(v));
      }
    });
  });

  describe('n = 10^7', () => {
    // Generated once; ~200 MB of test data in all.
    const r = new TestRandom(10_000_019);
    const pos = r.f32(BIG, 0, 1);
    const mixed = r.normals(BIG);
    const x = vec(pos, 'pos');
    const m = vec(mixed, 'mixed');
    const stats: string[] = [];
    afterAll(() => console.log(`n = 10^7: ${stats.join(', ')}`));

    // Ill-conditioned data: a positive half, then a negative half of nearly the same total, so
    // partial sums reach 10^6 times the result. (Random data is kinder: a plain f32 pairwise
    // sum of `mixed` happens to land within 1 ulp.) In `skew` the halves differ by 2^-12 of
    // each term; in `zeroX` and `zeroY` the second half repeats the first's terms negated, in
    // another order, so sum and dot are exactly 0 and only the K·u²·Σ|terms| term is allowed.
    const h = BIG / 2;
    const rot = (i: number) => (i + 1) % h;
    const pos2 = r.f32(BIG, 0, 1);
    const skew = pos.slice();
    const zeroX = pos.slice();
    const zeroY = pos2.slice();
    for (let i = 0; i < h; i++) {
      skew[h + i] = -(pos[i]! * (1 + 2 ** -12));
      zeroX[h + i] = -pos[rot(i)]!;
      zeroY[h + i] = pos2[rot(i)]!;
    }

    it('the tolerance rejects a plain f32 pairwise reduction of the skewed data', () => {
      const ref = exactSum(skew);
      expect(Math.abs(f32PairwiseSum(skew) - ref)).toBeGreaterThan(10 * (0.5 * ulpF32(ref) + ABS * sumAbs(skew)));
    });

    it('sum and dot of ill-conditioned data', async () => {
      const sk = await sum(g, vec(skew, 'skew'));
      const zx = vec(zeroX, 'zero-x');
      const z1 = await sum(g, zx);
      const z2 = await dot(g, zx, vec(zeroY, 'zero-y'));
      expect([exactSum(zeroX), exactDot(zeroX, zeroY)]).toEqual([0, 0]);
      const [ts, td] = [ABS * sumAbs(zeroX), ABS * sumAbs(zeroX, zeroY)];
      const rsk = exactSum(skew);
      stats.push(
        `skewed sum ${ulpError(sk, rsk).toFixed(3)} ulp; exact-zero sum ${z1} and dot ${z2}, ` +
          `i.e. ${(Math.abs(z1) / ts).toExponential(1)} and ${(Math.abs(z2) / td).toExponential(1)} of the allowed K·u²·Σ|terms|`,
      );
      expectClose('sum±', sk, rsk, ABS * sumAbs(skew));
      expectClose('sum±', z1, 0, ts);
      expectClose('dot±', z2, 0, td);
    });

    it('sum, mean and x·x of positive data: correctly rounded (1/2 ulp + K·u²·|exact|)', async () => {
      const [s, mu, d] = [await sum(g, x), await mean(g, x), await dot(g, x, x)];
      const [rs, rmu, rd] = [exactSum(pos), exactMean(pos), exactDot(pos, pos)];
      stats.push(`positive: sum ${ulpError(s, rs).toFixed(3)} ulp, mean ${ulpError(mu, rmu).toFixed(3)} ulp, x·x ${ulpError(d, rd).toFixed(3)} ulp`);
      expectClose('sum+', s, rs);
      expectClose('mean+', mu, rmu);
      expectClose('dot+', d, rd);
    });

    it('sum and dot of mixed signs: within 1/2 ulp + K·u² Σ|terms|', async () => {
      const s = await sum(g, m);
      const d = await dot(g, m, x);
      stats.push(`mixed: sum ${ulpError(s, exactSum(mixed)).toFixed(3)} ulp, dot ${ulpError(d, exactDot(mixed, pos)).toFixed(3)} ulp`);
      expectClose('sum±', s, exactSum(mixed), ABS * sumAbs(mixed));
      expectClose('dot±', d, exactDot(mixed, pos), ABS * sumAbs(mixed, pos));
    });

    it('variance of 1e4 + noise', async () => {
      const data = mixed.map((v) => 1e4 + v);
      const v = await variance(g, vec(data, 'offset'));
      stats.push(`var(1e4 + N(0,1)) ${ulpError(v, exactVariance(data)).toFixed(3)} ulp`);
      expectClose('var', v, exactVariance(data));
    });
  });

  it('cancellation: Σ of ±pairs plus a small remainder', async () => {
    const r = new TestRandom(4);
    const n = 200_000;
    const a = r.normals(n / 2, 1e3);
    const data = new Float32Array(n + 1);
    for (let i = 0; i < n / 2; i++) {
      data[2 * i] = a[i]!;
      data[2 * i + 1] = -a[i]! * (1 + 2 ** -20);
    }
    data[n] = 1e-3;
    const ref = exactSum(data);
    expectClose('sum±', await sum(g, vec(data)), ref, ABS * sumAbs(data));
  });

  it.each([128, 256])('workgroup size %i gives accurate, repeatable results', async (wg) => {
    const r = new TestRandom(wg);
    const a = r.normals(100_003);
    const b = r.normals(100_003);
    const opts: ReduceOptions = { workgroupSize: wg };
    const d1 = await dot(g, vec(a), vec(b), opts);
    const d2 = await dot(g, vec(a), vec(b), opts);
    expect(Object.is(d1, d2)).toBe(true);
    expectClose('dot±', d1, exactDot(a, b), ABS * sumAbs(a, b));
    expectClose('var', await variance(g, vec(a), opts), exactVariance(a));
  });

  it('reads only its view: offsets inside a bigger buffer, result beside other data', async () => {
    const r = new TestRandom(9);
    const n = 1000;
    // Huge guards around the view: including any of them would be visible.
    const data = new Float32Array(n + 13).fill(1e30);
    const inner = r.normals(n);
    data.set(inner, 5);
    const buffer = g.upload('data', data);
    const y = r.f32(n + 100);
    const ybuf = g.upload('y', y);
    // Results go into a buffer with sentinels on both sides, poisoned at the result slots.
    const out = g.upload('out', new Float32Array([7, Number.NaN, 8, Number.NaN, Number.NaN, 9]));
    const x: VecRef = { buffer, offset: 5, length: n };
    const yv: VecRef = { buffer: ybuf, offset: 37, length: n };
    const ops = [
      dotOp(g, x, yv, { buffer: out, index: 1 }),
      meanStdOp(g, x, { buffer: out, index: 3 }, { buffer: out, index: 4 }),
    ];
    runOps(g, 'offsets', ops);
    ops.forEach((o) => o.destroy());
    const got = await g.readF32(out);
    expect([got[0], got[2], got[5]]).toEqual([7, 8, 9]);
    const ySlice = y.subarray(37, 37 + n);
    expectClose('dot±', got[1]!, exactDot(inner, ySlice), ABS * sumAbs(inner, ySlice));
    expectClose('mean(meanStd)', got[3]!, exactMean(inner), (ABS * sumAbs(inner)) / n);
    expectClose('std', got[4]!, Math.sqrt(exactVariance(inner)));
    expect(Array.from(await g.readF32(buffer))).toEqual(Array.from(data));
  });

  it('every start phase: quads with a scalar head and tail, and x, y out of phase', async () => {
    // Pass 1 reads whole 16-byte quads plus up to 3 leading and 3 trailing scalars; when x and
    // y start at different phases (mod 4) everything is read as scalars. A skipped, doubled or
    // misplaced element moves the result by far more than the tolerance (guards are 1e30).
    const r = new TestRandom(12);
    const n = 1001;
    const inner = r.normals(n + 8);
    const all = r.normals(n + 8);
    const yb = g.upload('y', all);
    for (let px = 0; px < 4; px++) {
      const xs = new Float32Array(n + 8).fill(1e30);
      xs.set(inner.subarray(px, px + n), px);
      const x = { buffer: g.upload('x', xs), offset: px, length: n };
      const xv = xs.subarray(px, px + n);
      expectClose('sum±', await sum(g, x), exactSum(xv), ABS * sumAbs(xv));
      expectClose('var', await variance(g, x), exactVariance(xv));
      for (let py = 0; py < 8; py++) {
        const yv = all.subarray(py, py + n);
        const d = await dot(g, x, { buffer: yb, offset: py, length: n });
        expectClose('dot±', d, exactDot(xv, yv), ABS * sumAbs(xv, yv));
      }
    }
  });

  it('x and y in one buffer, and the result in the same buffer as the data', async () => {
    const r = new TestRandom(10);
    const n = 5000;
    const all = new Float32Array(2 * n + 3);
    all.set(r.normals(2 * n));
    all[2 * n + 1] = Number.NaN;
    const buffer = g.upload('ws', all);
    const a = all.subarray(0, n);
    const b = all.subarray(n, 2 * n);
    const op = dotOp(g, { buffer, length: n }, { buffer, offset: n, length: n }, { buffer, index: 2 * n + 1 });
    const op2 = sumOp(g, { buffer, offset: n, length: n }, { buffer, index: 2 * n + 2 });
    runOps(g, 'shared', [op, op2]);
    op.destroy();
    op2.destroy();
    const got = await g.readF32(buffer);
    expectClose('dot±', got[2 * n + 1]!, exactDot(a, b), ABS * sumAbs(a, b));
    expectClose('sum±', got[2 * n + 2]!, exactSum(b), ABS * sumAbs(b));
    expect(got[2 * n]).toBe(0);
  });

  it('one pass (a workgroup takes it all) and two passes (result beside the data) agree bit for bit', async () => {
    const r = new TestRandom(12);
    for (const n of [1, 1000, 5003]) {
      const x = r.normals(n);
      const y = r.normals(n);
      // Two passes: the results share the data's buffer (a writable binding may not alias it).
      const data = g.upload('data', new Float32Array([...x, ...y, Number.NaN, Number.NaN, Number.NaN, Number.NaN]));
      const xv: VecRef = { buffer: data, length: n };
      const yv: VecRef = { buffer: data, offset: n, length: n };
      // One pass: the results in a buffer of their own.
      const outs = g.upload('outs', new Float32Array(4).fill(Number.NaN));
      const ops = [
        dotOp(g, xv, yv, { buffer: data, index: 2 * n }),
        meanStdOp(g, xv, { buffer: data, index: 2 * n + 1 }, { buffer: data, index: 2 * n + 2 }, { ddof: 1, eps: 1e-8 }),
        dotOp(g, xv, yv, { buffer: outs, index: 0 }),
        meanStdOp(g, xv, { buffer: outs, index: 1 }, { buffer: outs, index: 2 }, { ddof: 1, eps: 1e-8 }),
      ];
      runOps(g, 'passes', ops);
      for (const op of ops) op.destroy();
      const two = (await g.readF32(data)).subarray(2 * n, 2 * n + 3);
      const one = (await g.readF32(outs)).subarray(0, 3);
      expect(Array.from(one)).toEqual(Array.from(two));
      expectClose('dot', one[0]!, exactDot(x, y), ABS * sumAbs(x, y));
    }
  });

  it('length 1: std is 0 with ddof 0, and 0 (not NaN) with ddof 1; eps is added', async () => {
    const x = vec(new Float32Array([3.5]));
    expect(await meanStd(g, x)).toEqual({ mean: 3.5, std: 0 });
    expect(await meanStd(g, x, { ddof: 1 })).toEqual({ mean: 3.5, std: 0 });
    expect(await variance(g, x, { ddof: 1 })).toBe(0);
    expect(await meanStd(g, x, { ddof: 1, eps: 1e-8 })).toEqual({ mean: 3.5, std: Math.fround(1e-8) });
  });

  it('a constant vector has variance exactly 0', async () => {
    const x = vec(new Float32Array(70_001).fill(1234.567));
    expect(await variance(g, x)).toBe(0);
    expect(await mean(g, x)).toBe(Math.fround(1234.567));
  });

  it('rejects bad arguments before any GPU work', () => {
    const buffer = g.upload('b', new Float32Array(10));
    const out = { buffer, index: 9 };
    expect(() => sumOp(g, { buffer, length: 0 }, out)).toThrow(/at least one element/);
    expect(() => dotOp(g, { buffer, length: 3 }, { buffer, length: 4 }, out)).toThrow(/x has 3 elements but y has 4/);
    expect(() => varianceOp(g, { buffer, length: 3 }, out, { ddof: 2 as 0 })).toThrow(/ddof must be 0 or 1/);
    expect(() => sumOp(g, { buffer, length: 3 }, { buffer, index: 10 })).toThrow(/outside buffer/);
    expect(() => meanStdOp(g, { buffer, length: 5 }, { buffer, index: 2 }, out)).toThrow(/outMean lies inside x/);
  });
});
