import { afterAll, describe, expect, it } from 'vitest';
import { runOps } from '../src/gpu/index.js';
import {
  axpyOp,
  copyOp,
  divideOp,
  fillOp,
  scaleOp,
  xpbyOp,
  type BuiltOp,
  type ScalarRef,
  type VecRef,
} from '../src/math/vec.js';
import { testGpu } from './gpu-context.js';
import { AWKWARD_SIZES, TestRandom } from './reference/random.js';
import { ulpError } from './reference/sum.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

const f = Math.fround;

describe.skipIf(!gpu)('vector ops', () => {
  const g = gpu!;

  /** Runs ops in one submit, then destroys them. */
  function run(...ops: BuiltOp[]): void {
    runOps(g, 'vec-test', ops);
    for (const op of ops) op.destroy();
  }

  async function read(v: VecRef): Promise<Float32Array> {
    return g.readF32(v.buffer, (v.offset ?? 0) * 4, v.length);
  }

  function poisoned(n: number, label: string): VecRef {
    return { buffer: g.upload(label, new Float32Array(n).fill(Number.NaN)), length: n };
  }

  function scalar(value: number, label = 'scalar'): ScalarRef {
    return { buffer: g.upload(label, new Float32Array([value])), index: 0 };
  }

  /** Bitwise equality, NaN included: an unwritten poisoned element fails. */
  function expectSame(got: Float32Array, want: Float32Array): void {
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) expect(`[${i}] ${got[i]}`).toBe(`[${i}] ${want[i]}`);
    }
  }

  const map = (n: number, fn: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => fn(i));

  describe.each(AWKWARD_SIZES)('n = %i', (n) => {
    const r = new TestRandom(1000 + n);
    // x in [0.5, 1) and alpha ≥ 0.75 in size: every y element changes, so a skipped one fails.
    const x = r.f32(n, 0.5, 1);
    const y0 = r.f32(n, -1, 1);
    const xv = (): VecRef => ({ buffer: g.upload('x', x), length: n });
    const yv = (): VecRef => ({ buffer: g.upload('y', y0), length: n });

    it('fill writes every element', async () => {
      const y = poisoned(n, 'y');
      run(fillOp(g, y, -3.25));
      expectSame(await read(y), new Float32Array(n).fill(-3.25));
    });

    it('copy is bit-exact', async () => {
      const y = poisoned(n, 'y');
      run(copyOp(g, xv(), y));
      expectSame(await read(y), x);
    });

    it('scale by a number and by times·scalar rounds like f32', async () => {
      const y = yv();
      run(scaleOp(g, y, -1.7));
      expectSame(await read(y), map(n, (i) => f(f(-1.7) * y0[i]!)));
      const y2 = yv();
      const s = f(0.3);
      run(scaleOp(g, y2, { scalar: scalar(s), times: 3 }));
      const a = f(3 * s);
      expectSame(await read(y2), map(n, (i) => f(a * y0[i]!)));
    });

    it('axpy: y + fl(alpha·x), alpha a number, a scalar, or −scalar', async () => {
      const want = (a: number) => map(n, (i) => f(y0[i]! + f(a * x[i]!)));
      const y1 = yv();
      run(axpyOp(g, y1, xv(), 0.77));
      expectSame(await read(y1), want(f(0.77)));
      const s = f(1.234567);
      const y2 = yv();
      run(axpyOp(g, y2, xv(), { scalar: scalar(s) }));
      expectSame(await read(y2), want(s));
      const y3 = yv();
      run(axpyOp(g, y3, xv(), { scalar: scalar(s), times: -1 }));
      expectSame(await read(y3), want(-s));
    });

    it('axpy and xpby with alpha a ratio of GPU scalars: bit for bit divideOp, then the op', async () => {
      // num and den in one buffer (CG's stats), and in two (every slot a buffer of its own).
      const num = f(-2.7182817);
      const den = f(0.33333334);
      const shared = g.upload('scalars', new Float32Array([num, den, 0]));
      const [sNum, sDen, sQ] = [0, 1, 2].map((index): ScalarRef => ({ buffer: shared, index }));
      run(divideOp(g, sQ!, sNum!, sDen!));
      const q = (await g.readF32(shared))[2]!;
      const want = (a: number) => map(n, (i) => f(y0[i]! + f(a * x[i]!)));
      for (const over of [sDen!, scalar(den, 'den')]) {
        const y = yv();
        run(axpyOp(g, y, xv(), { scalar: sNum!, over, times: -1 }));
        expectSame(await read(y), want(-q));
        const p = yv();
        run(xpbyOp(g, p, xv(), { scalar: sNum!, over }));
        expectSame(await read(p), map(n, (i) => f(x[i]! + f(q * y0[i]!))));
      }
      // divideOp's guard: a zero or NaN divisor gives alpha 0, y unchanged.
      for (const bad of [0, Number.NaN]) {
        const y = yv();
        run(axpyOp(g, y, xv(), { scalar: sNum!, over: scalar(bad, 'bad') }));
        expectSame(await read(y), y0);
      }
    });

    it('xpby: x + fl(beta·y) with beta a GPU scalar', async () => {
      const b = f(-0.8125001);
      const y = yv();
      run(xpbyOp(g, y, xv(), scalar(b)));
      expectSame(await read(y), map(n, (i) => f(x[i]! + f(b * y0[i]!))));
    });
  });

  it('loops when the dispatch is capped (grid stride)', async () => {
    const n = 65537;
    const r = new TestRandom(5);
    const x = r.f32(n, 0.5, 1);
    const y0 = r.f32(n);
    const y = { buffer: g.upload('y', y0), length: n };
    run(axpyOp(g, y, { buffer: g.upload('x', x), length: n }, 2.5, { maxWorkgroups: 3, workgroupSize: 64 }));
    expectSame(await read(y), map(n, (i) => f(y0[i]! + f(2.5 * x[i]!))));
    const z = poisoned(n, 'z');
    run(fillOp(g, z, 1, { maxWorkgroups: 1, workgroupSize: 128 }));
    expectSame(await read(z), new Float32Array(n).fill(1));
  });

  it('works on views into one shared buffer and leaves the neighbours alone', async () => {
    // A CG-style workspace: guard | x | guard | y | guard | scalars, at unaligned offsets.
    const n = 1000;
    const r = new TestRandom(77);
    const total = 3 + n + 5 + n + 7 + 4;
    const init = r.f32(total, -4, 4);
    const buffer = g.upload('workspace', init);
    const x: VecRef = { buffer, offset: 3, length: n };
    const y: VecRef = { buffer, offset: 3 + n + 5, length: n };
    const sIndex = 3 + n + 5 + n + 7;
    const alpha: ScalarRef = { buffer, index: sIndex + 1 };
    const beta: ScalarRef = { buffer, index: sIndex + 2 };
    const a = init[alpha.index]!;
    const b = init[beta.index]!;
    run(axpyOp(g, y, x, { scalar: alpha, times: -1 }), xpbyOp(g, y, x, beta), scaleOp(g, x, { scalar: beta }));
    const want = Float32Array.from(init);
    for (let i = 0; i < n; i++) {
      const xi = init[3 + i]!;
      const yi = f(init[y.offset! + i]! + f(-a * xi));
      want[y.offset! + i] = f(xi + f(b * yi));
      want[3 + i] = f(b * xi);
    }
    expectSame(await g.readF32(buffer), want);
  });

  it('in-place: axpy with x = y is y + alpha·y', async () => {
    const r = new TestRandom(8);
    const y0 = r.f32(300);
    const y = { buffer: g.upload('y', y0), offset: 0, length: 300 };
    run(axpyOp(g, y, y, 0.5));
    expectSame(await read(y), map(300, (i) => f(y0[i]! + f(0.5 * y0[i]!))));
  });

  it('copies between two buffers with offsets without touching neighbours', async () => {
    const src = new TestRandom(3).f32(70);
    const dst0 = new Float32Array(90).fill(Number.NaN);
    dst0[10] = 7;
    dst0[76] = 8;
    const dst = g.upload('dst', dst0);
    run(copyOp(g, { buffer: g.upload('src', src), offset: 4, length: 65 }, { buffer: dst, offset: 11, length: 65 }));
    const want = Float32Array.from(dst0);
    want.set(src.subarray(4, 69), 11);
    expectSame(await g.readF32(dst), want);
  });

  it('rejects bad views before any GPU work', () => {
    const buffer = g.upload('b', new Float32Array(100));
    expect(() => axpyOp(g, { buffer, offset: 0, length: 50 }, { buffer, offset: 10, length: 50 }, 1)).toThrow(/partly overlap/);
    expect(() => scaleOp(g, { buffer, offset: 0, length: 50 }, { scalar: { buffer, index: 20 } })).toThrow(/scalar lies inside y/);
    expect(() => copyOp(g, { buffer, length: 10 }, { buffer, offset: 20, length: 11 })).toThrow(/x has 10 elements but y has 11/);
    expect(() => fillOp(g, { buffer, offset: 60, length: 41 }, 0)).toThrow(/exceed buffer/);
    expect(() => axpyOp(g, { buffer, length: 5 }, { buffer, offset: 5, length: 5 }, Number.NaN)).toThrow(/alpha must be finite/);
    const scalar = { buffer, index: 90 };
    expect(() => xpbyOp(g, { buffer, length: 50 }, { buffer, offset: 50, length: 50 }, { scalar, over: { buffer, index: 3 } })).toThrow(/divisor lies inside y/);
    expect(() => axpyOp(g, { buffer, length: 5 }, { buffer, offset: 5, length: 5 }, { scalar, over: { buffer, index: 100 } })).toThrow(/over: index 100 is outside/);
  });

  it('length 0 is a no-op', async () => {
    const buffer = g.upload('b', new Float32Array([1, 2]));
    run(fillOp(g, { buffer, offset: 1, length: 0 }, 5));
    expectSame(await g.readF32(buffer), new Float32Array([1, 2]));
  });
});

describe.skipIf(!gpu)('divideOp', () => {
  const g = gpu!;

  async function divide(num: number, den: number): Promise<number> {
    // out, num and den share one buffer (a CG scalar block); out starts poisoned.
    const buffer = g.upload('scalars', new Float32Array([Number.NaN, num, den, 42]));
    const op = divideOp(g, { buffer, index: 0 }, { buffer, index: 1 }, { buffer, index: 2 });
    runOps(g, 'divide', [op]);
    op.destroy();
    const r = await g.readF32(buffer);
    expect([r[1], r[2], r[3]]).toEqual([f(num), f(den), 42]);
    return r[0]!;
  }

  it('divides to within 2.5 ulp (the WGSL bound for `/`) and keeps the sign', async () => {
    const r = new TestRandom(11);
    for (let k = 0; k < 8; k++) {
      const num = f(r.uniform(-1e3, 1e3));
      const den = f(r.uniform(1e-3, 1e3)) * (k % 2 ? -1 : 1);
      const got = await divide(num, den);
      expect(ulpError(got, num / den)).toBeLessThanOrEqual(2.5);
    }
    expect(await divide(6, 3)).toBe(2);
  });

  it.each([
    ['den = 0', 1, 0],
    ['den = −0', -5, -0],
    ['0 / 0', 0, 0],
    ['overflow', 3e38, 1e-10],
    ['num = ∞', Number.POSITIVE_INFINITY, 2],
    ['num = NaN', Number.NaN, 2],
    ['den = NaN', 1, Number.NaN],
  ])('guard: %s gives 0', async (_, num, den) => {
    expect(await divide(num, den)).toBe(0);
  });

  it('may write over its numerator', async () => {
    const buffer = g.upload('s', new Float32Array([9, 4]));
    const op = divideOp(g, { buffer, index: 0 }, { buffer, index: 0 }, { buffer, index: 1 });
    runOps(g, 'divide', [op]);
    op.destroy();
    expect(Array.from(await g.readF32(buffer))).toEqual([2.25, 4]);
  });
});
