/**
 * TS twin of rng.wgsl (bit-identical), plus a kernel that fills a buffer with
 * uniforms or normals. The WGSL source is exported so other kernels can include it.
 */
import { Kernel, StructLayout, grid1d, wgsl, type Gpu } from '../gpu/index.js';
import rngSource from './rng.wgsl?raw';
import rngFillWgsl from './rng_fill.wgsl?raw';

/** WGSL source text, to include in other kernels. */
export const rngWgsl: string = rngSource;

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** Threefry-2x32-20 of (key, counter); returns two u32 words. */
export function threefry2x32(key: readonly [number, number], ctr: readonly [number, number]): [number, number] {
  const k2 = (0x1bd11bda ^ key[0] ^ key[1]) >>> 0;
  const ks = [key[0] >>> 0, key[1] >>> 0, k2];
  let x0 = (ctr[0] + ks[0]!) >>> 0;
  let x1 = (ctr[1] + ks[1]!) >>> 0;
  const R = [13, 15, 26, 6, 17, 29, 16, 24];
  for (let i = 0; i < 20; i++) {
    x0 = (x0 + x1) >>> 0;
    x1 = (rotl(x1, R[i % 8]!) ^ x0) >>> 0;
    if (i % 4 === 3) {
      const s = (i + 1) / 4;
      x0 = (x0 + ks[s % 3]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  return [x0, x1];
}

export const rngBits = (seed: number, stream: number, counter: number, counterHi = 0): [number, number] =>
  threefry2x32([seed, stream], [counter, counterHi]);

/** Uniform in [0, 1) from 24 bits, as the WGSL does. */
export const u01 = (bits: number): number => (bits >>> 8) / 16777216;
/** Uniform in (0, 1) from 23 bits, as the WGSL does. */
export const u01Open = (bits: number): number => ((bits >>> 9) + 0.5) / 8388608;

export function uniform2(seed: number, stream: number, counter: number, counterHi = 0): [number, number] {
  const [a, b] = rngBits(seed, stream, counter, counterHi);
  return [u01(a), u01(b)];
}

/** Box-Muller in float64 (the WGSL computes it in f32, so compare with a tolerance). */
export function normal2(seed: number, stream: number, counter: number, counterHi = 0): [number, number] {
  const [a, b] = rngBits(seed, stream, counter, counterHi);
  const r = Math.sqrt(-2 * Math.log(u01Open(a)));
  const phi = 2 * Math.PI * u01(b);
  return [r * Math.cos(phi), r * Math.sin(phi)];
}

export const RngFillParams = new StructLayout('RngFillParams', [
  ['n', 'u32'],
  ['seed', 'u32'],
  ['stream', 'u32'],
  ['counterBase', 'u32'],
  ['normal', 'u32'],
] as const);

/**
 * Fills out[i] (i < n) with the i-th uniform (or normal) of (seed, stream): element i uses
 * counter counterBase + floor(i / 2) and word i mod 2, so any prefix is layout-independent.
 */
export function rngFill(
  gpu: Gpu,
  out: GPUBuffer,
  opts: { n: number; seed: number; stream: number; counterBase?: number; normal?: boolean; workgroupSize?: number },
): void {
  const wg = opts.workgroupSize ?? 64;
  const kernel = Kernel.get(gpu, {
    label: 'rng-fill',
    entryPoint: 'rng_fill',
    bindings: [
      ['params', 'uniform'],
      ['out', 'storage'],
    ],
    code: wgsl(RngFillParams.wgsl(), rngWgsl, rngFillWgsl),
    constants: { WG: wg },
  });
  const params = gpu.uniform(
    'rng-fill/params',
    RngFillParams.pack({
      n: opts.n,
      seed: opts.seed >>> 0,
      stream: opts.stream >>> 0,
      counterBase: (opts.counterBase ?? 0) >>> 0,
      normal: opts.normal ? 1 : 0,
    }),
  );
  const pairs = Math.ceil(opts.n / 2);
  const [x, y] = grid1d(pairs, wg, gpu.limits.maxComputeWorkgroupsPerDimension);
  gpu.submit('rng-fill', (enc) => {
    const pass = enc.beginComputePass({ label: 'rng-fill' });
    kernel.dispatch(pass, kernel.bind({ params, out }), x, y);
    pass.end();
  });
  params.destroy();
}
