import { afterAll, describe, expect, it } from 'vitest';
import { normal2, rngFill, threefry2x32, uniform2 } from '../src/math/rng.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe('threefry2x32 (TS twin)', () => {
  it('matches the Random123 known-answer vectors for 20 rounds', () => {
    expect(threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe]);
    expect(threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([0xc4923a9c, 0x483df7a0]);
  });
});

describe.skipIf(!gpu)('rng on the GPU', () => {
  const g = gpu!;

  async function fill(n: number, normal: boolean, wg: number, seed = 42, stream = 7, counterBase = 0): Promise<Float32Array> {
    const out = g.upload('rng-out', new Float32Array(n).fill(Number.NaN));
    rngFill(g, out, { n, seed, stream, counterBase, normal, workgroupSize: wg });
    const r = await g.readF32(out, 0, n);
    out.destroy();
    return r;
  }

  it.each([1, 63, 64, 65, 1000, 65537])('uniforms are bit-identical to the TS twin (n=%i)', async (n) => {
    const r = await fill(n, false, 64);
    for (let i = 0; i < n; i++) {
      const [a, b] = uniform2(42, 7, i >> 1);
      expect(r[i]).toBe(i % 2 === 0 ? a : b);
    }
  });

  it('normals match the float64 twin within 8e-6·(1+|z|) (f32 log/sqrt/cos), over 2^20 draws', async () => {
    const n = 1 << 20;
    const r = await fill(n, true, 64);
    for (let i = 0; i < n; i++) {
      const ref = normal2(42, 7, i >> 1)[i % 2]!;
      expect(Math.abs(r[i]! - ref)).toBeLessThanOrEqual(8e-6 * (1 + Math.abs(ref)));
    }
  });

  it('does not depend on the dispatch layout', async () => {
    const a = await fill(5000, true, 64);
    const b = await fill(5000, true, 256);
    const c = await fill(5000, true, 1);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('different seeds and streams give different numbers', async () => {
    const a = await fill(64, false, 64, 1, 0);
    const b = await fill(64, false, 64, 2, 0);
    const c = await fill(64, false, 64, 1, 1);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('has the moments of U(0,1) and N(0,1) (n = 2^20, 5-sigma bounds)', async () => {
    const n = 1 << 20;
    const u = await fill(n, false, 64, 123, 0);
    const z = await fill(n, true, 64, 123, 1);
    const moments = (x: Float32Array) => {
      let s = 0, s2 = 0, s3 = 0, s4 = 0;
      for (const v of x) { s += v; s2 += v * v; s3 += v ** 3; s4 += v ** 4; }
      return [s / n, s2 / n, s3 / n, s4 / n] as const;
    };
    const [um, u2] = moments(u);
    // U(0,1): mean 1/2 (sd of mean 0.2887/sqrt n), E[u^2] = 1/3 (sd 0.2981/sqrt n).
    expect(Math.abs(um - 0.5)).toBeLessThan((5 * 0.2887) / Math.sqrt(n));
    expect(Math.abs(u2 - 1 / 3)).toBeLessThan((5 * 0.2981) / Math.sqrt(n));
    expect(Math.min(...u.subarray(0, 1000))).toBeGreaterThanOrEqual(0);
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const [zm, z2, z3, z4] = moments(z);
    // N(0,1): sd of the sample moments: 1, sqrt 2, sqrt 15, sqrt 96 over sqrt n.
    expect(Math.abs(zm)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(z2 - 1)).toBeLessThan((5 * Math.SQRT2) / Math.sqrt(n));
    expect(Math.abs(z3)).toBeLessThan((5 * Math.sqrt(15)) / Math.sqrt(n));
    expect(Math.abs(z4 - 3)).toBeLessThan((5 * Math.sqrt(96)) / Math.sqrt(n));
  });
});
