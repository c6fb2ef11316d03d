import { afterAll, describe, expect, it } from 'vitest';
import { Kernel, StructLayout, checkBindings, grid1d, wgsl } from '../src/gpu/index.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe('StructLayout', () => {
  const S = new StructLayout('Probe', [
    ['a', 'u32'],
    ['b', 'f32'],
    ['c', 'i32'],
    ['d', 'f32'],
    ['e', 'u32'],
  ] as const);

  it('pads to 16 bytes and rejects bad values', () => {
    expect(S.size).toBe(32);
    expect(S.offsetOf('e')).toBe(16);
    expect(() => S.pack({ a: -1, b: 0, c: 0, d: 0, e: 0 })).toThrow(/field a must be a u32, got -1/);
    expect(() => S.pack({ a: 0, b: Number.NaN, c: 0, d: 0, e: 0 })).toThrow(/field b/);
  });

  it.skipIf(!gpu)('has the same offsets in WGSL as in TS', async () => {
    const g = gpu!;
    // The shader writes each field's bits; any offset mismatch shows up as a wrong word.
    const k = Kernel.get(g, {
      label: 'struct-probe',
      entryPoint: 'main',
      bindings: [
        ['p', 'uniform'],
        ['out', 'storage'],
      ],
      code: wgsl(
        S.wgsl(),
        `@group(0) @binding(0) var<uniform> p: Probe;
         @group(0) @binding(1) var<storage, read_write> out: array<u32>;
         @compute @workgroup_size(1) fn main() {
           out[0] = p.a; out[1] = bitcast<u32>(p.b); out[2] = bitcast<u32>(p.c);
           out[3] = bitcast<u32>(p.d); out[4] = p.e; out[5] = ${S.size / 4}u;
         }`,
      ),
    });
    const values = { a: 7, b: 1.5, c: -3, d: -0.25, e: 0xfffffffe };
    const ubuf = g.uniform('probe-u', S.pack(values));
    const out = g.upload('probe-out', new Uint32Array(6).fill(0xdeadbeef));
    g.submit('probe', (enc) => {
      const pass = enc.beginComputePass();
      k.dispatch(pass, k.bind({ p: ubuf, out }), 1);
      pass.end();
    });
    const r = await g.readU32(out);
    const f = new Float32Array(r.buffer);
    const i = new Int32Array(r.buffer);
    expect([r[0], f[1], i[2], f[3], r[4], r[5]]).toEqual([7, 1.5, -3, -0.25, 0xfffffffe, S.size / 4]);
  });
});

describe('Kernel binding table', () => {
  const code = `@group(0) @binding(0) var<uniform> u: U;
    @group(0) @binding(1) var<storage, read> x: array<f32>;
    @group(0) @binding(2) var<storage, read_write> y: array<f32>;`;
  it('accepts a matching table', () => {
    expect(() => checkBindings('t', code, [['u', 'uniform'], ['x', 'read-only-storage'], ['y', 'storage']])).not.toThrow();
  });
  it('names the mismatch', () => {
    expect(() => checkBindings('t', code, [['u', 'uniform'], ['y', 'storage']])).toThrow(
      /binding 1 should be y \(storage\) but the WGSL declares x \(read-only-storage\)/,
    );
  });
});

describe('grid1d', () => {
  it('splits large dispatches over y and covers every item', () => {
    for (const [n, wg] of [[1, 64], [65, 64], [10_000_000, 64], [65535 * 64 + 1, 64]] as const) {
      const [x, y] = grid1d(n, wg);
      expect(x).toBeLessThanOrEqual(65535);
      expect(x * y * wg).toBeGreaterThanOrEqual(n);
    }
  });
});

describe.skipIf(!gpu)('GPU errors', () => {
  it('surfaces a validation error instead of returning stale data', async () => {
    const { createGpu } = await import('../src/gpu/index.js');
    const g = await createGpu();
    try {
      // Binding a too-small buffer as a 32-byte uniform is a validation error.
      const k = Kernel.get(g, {
        label: 'bad',
        entryPoint: 'main',
        bindings: [['u', 'uniform']],
        code: `struct U { a: vec4<f32>, b: vec4<f32> }
               @group(0) @binding(0) var<uniform> u: U;
               @compute @workgroup_size(1) fn main() { _ = u.a.x; }`,
      });
      const tiny = g.uniform('tiny', new ArrayBuffer(16));
      g.submit('bad', (enc) => {
        const pass = enc.beginComputePass();
        k.dispatch(pass, k.bind({ u: tiny }), 1);
        pass.end();
      });
      await expect(g.flush()).rejects.toThrow(/validation/);
    } finally {
      g.destroy();
    }
  });
});
