/**
 * Kernel throughput: the MLP kernels (forward, backward, JVP) and the vector ops and reductions,
 * in GFLOP/s and GB/s, next to the device's measured ceilings (a large buffer copy, a streaming
 * copy kernel, a dense-layer matmul, and multiply-adds on registers; see ceilings.wgsl).
 *
 * Bytes are the compulsory traffic (each input read once, each output written once, f32), so
 * GB/s is an effective rate; FLOPs count a multiply-add as 2 and leave out tanh and the extra
 * arithmetic of compensated sums, so GFLOP/s is the useful rate.
 */
import { Kernel, type Gpu, type Op } from '../src/gpu/index.js';
import { MlpKernels, mlpLayout, type MlpLayout } from '../src/nn/mlp.js';
import { dotOp, meanStdOp, sumOp } from '../src/math/reduce.js';
import { axpyOp, copyOp, fillOp, scaleOp, xpbyOp, type BuiltOp } from '../src/math/vec.js';
import ceilingsWgsl from './ceilings.wgsl?raw';
import { PassTimer } from './pass-timer.js';
import { median, round } from './util.js';

export interface KernelRow {
  group: 'ceiling' | 'mlp' | 'vec';
  name: string;
  /** What the size means, e.g. 'batch 16384, 4→64→64→2' or 'n = 4,194,304'. */
  size: string;
  /** Median ms of one run of the op. */
  ms: number;
  gflops: number | null;
  gbps: number | null;
  /** Fraction of the matmul ceiling (GFLOP/s) and of the copy-kernel ceiling (GB/s). */
  ofFlopCeiling: number | null;
  ofByteCeiling: number | null;
  reps: number;
  timing: 'gpu-timestamps' | 'host';
}

export interface KernelOptions {
  mlpBatch: number;
  vecLength: number;
  /** Small vectors, the size of the policy's parameter vector (dispatch overhead dominates). */
  smallVecLength: number;
  copyBytes: number;
  matmulRows: number;
  /** Target ms of GPU work per timed pass; the repetition count is chosen to reach it. */
  targetMs: number;
  trials: number;
}

const F32 = 4;

/** Times `op` (encoded `reps` times in one pass), with reps chosen to fill about targetMs. */
async function timeOp(timer: PassTimer, label: string, encode: (pass: GPUComputePassEncoder) => void, opts: KernelOptions) {
  const run = async (reps: number) => {
    const r = await timer.run(label, [
      {
        label,
        encode: (pass) => {
          for (let i = 0; i < reps; i++) encode(pass);
        },
      },
    ]);
    return (r.gpuMs ? r.gpuMs[0]! : r.wallMs) / reps;
  };
  await run(1); // pipelines, first-touch of the buffers
  const est = await run(1);
  const reps = Math.max(1, Math.min(512, Math.round(opts.targetMs / Math.max(est, 1e-3))));
  const samples: number[] = [];
  for (let t = 0; t < opts.trials; t++) samples.push(await run(reps));
  return { ms: median(samples), reps };
}

/** Time of a copyBufferToBuffer of `bytes` (outside any pass), per copy. */
async function timeBufferCopy(gpu: Gpu, bytes: number, opts: KernelOptions): Promise<{ ms: number; reps: number }> {
  const src = gpu.storage('bench/copy-src', bytes);
  const dst = gpu.storage('bench/copy-dst', bytes);
  try {
    const run = async (reps: number) => {
      const t0 = performance.now();
      gpu.submit('bench/buffer-copy', (enc) => {
        for (let i = 0; i < reps; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      });
      await gpu.flush();
      return (performance.now() - t0) / reps;
    };
    await run(1);
    const est = await run(1);
    const reps = Math.max(2, Math.min(64, Math.round((4 * opts.targetMs) / Math.max(est, 1e-3))));
    const samples: number[] = [];
    for (let t = 0; t < opts.trials; t++) samples.push(await run(reps));
    return { ms: median(samples), reps };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

function seeded(n: number, seed: number, scale = 1): Float32Array {
  // A small LCG: deterministic inputs in [-scale, scale).
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/**
 * The ceiling kernel must compute what it claims, or its rate means nothing: a sample of Y = W·X
 * (X [k][m], W [n][k], Y [n][m]) against float64.
 */
async function checkMatmul(gpu: Gpu, Y: GPUBuffer, m: number, k: number, n: number, X: Float32Array, W: Float32Array): Promise<void> {
  const y = await gpu.readF32(Y);
  for (let t = 0; t < 257; t++) {
    const o = (t * 7) % n;
    const i = (t * 2_654_435_761) % m;
    let ref = 0;
    let mag = 0;
    for (let j = 0; j < k; j++) {
      ref += W[o * k + j]! * X[j * m + i]!;
      mag += Math.abs(W[o * k + j]! * X[j * m + i]!);
    }
    if (!(Math.abs(y[o * m + i]! - ref) <= 1e-5 * mag)) {
      throw new Error(`bench: the ceiling matmul computed Y[${o}][${i}] = ${y[o * m + i]}, expected ${ref}`);
    }
  }
}

/** Multiply-adds per sample of a dense layer stack, and of the first layer. */
function macs(layout: MlpLayout): { all: number; first: number } {
  const all = layout.layers.reduce((s, l) => s + l.inDim * l.outDim, 0);
  return { all, first: layout.layers[0]!.inDim * layout.layers[0]!.outDim };
}

/** f32 elements per sample read and written by each pass (see the module comment). */
function traffic(layout: MlpLayout) {
  const ls = layout.layers;
  const L = ls.length;
  const io = ls.reduce((s, l) => s + l.inDim + l.outDim, 0);
  return {
    // each layer reads its input and writes its output
    forward: io,
    // deltas for layers ≥ 1 (read g_l and h, write g_{l-1}); parameter gradients read x and g
    backward: ls.slice(1).reduce((s, l) => s + l.outDim + 2 * l.inDim, 0) + io,
    // each layer reads x and ẋ (not for the first layer), writes ẏ, and reads h for tanh' (hidden)
    jvp: ls.reduce((s, l, i) => s + l.inDim * (i === 0 ? 1 : 2) + l.outDim * (i < L - 1 ? 2 : 1), 0),
  };
}

export async function measureKernels(gpu: Gpu, opts: KernelOptions): Promise<KernelRow[]> {
  const timer = new PassTimer(gpu, 1);
  const timing: KernelRow['timing'] = timer.hasTimestamps ? 'gpu-timestamps' : 'host';
  const rows: KernelRow[] = [];
  const owned: GPUBuffer[] = [];
  const ops: BuiltOp[] = [];
  const buf = (label: string, data: Float32Array) => {
    const b = gpu.upload(`bench/${label}`, data);
    owned.push(b);
    return b;
  };
  const row = (r: Omit<KernelRow, 'ofFlopCeiling' | 'ofByteCeiling' | 'timing'>): KernelRow => {
    const full: KernelRow = { ...r, ofFlopCeiling: null, ofByteCeiling: null, timing };
    rows.push(full);
    return full;
  };
  try {
    // --- ceilings ---------------------------------------------------------------------------
    const code = ceilingsWgsl;
    const scalarBindings = [
      ['dims', 'uniform'],
      ['a', 'read-only-storage'],
      ['b', 'read-only-storage'],
      ['c', 'storage'],
    ] as const;
    const vec4Bindings = [
      ['dims', 'uniform'],
      ['a', 'read-only-storage'],
      ['b4', 'read-only-storage'],
      ['c4', 'storage'],
    ] as const;
    const dimsBuf = (m: number, k: number, n: number, count: number) => {
      const u = gpu.uniform('bench/ceiling-dims', new Uint32Array([m, k, n, count]).buffer as ArrayBuffer);
      owned.push(u);
      return u;
    };

    const bc = await timeBufferCopy(gpu, opts.copyBytes, opts);
    row({
      group: 'ceiling',
      name: 'copyBufferToBuffer',
      size: `${opts.copyBytes / 2 ** 20} MiB`,
      ms: bc.ms,
      gflops: null,
      gbps: (2 * opts.copyBytes) / (bc.ms * 1e6),
      reps: bc.reps,
    });

    const copyWg = 256;
    const copyKernel = Kernel.get(gpu, { label: 'bench-copy4', code, entryPoint: 'copy4', bindings: vec4Bindings, constants: { WG: copyWg } });
    const count4 = opts.copyBytes / 16;
    const dummy = buf('dummy', new Float32Array(4));
    const src = buf('copy4-src', new Float32Array(count4 * 4));
    const dst = buf('copy4-dst', new Float32Array(count4 * 4));
    const copyGroup = copyKernel.bind({ dims: dimsBuf(0, 0, 0, count4), a: dummy, b4: src, c4: dst });
    const copyGroups = Math.min(1024, Math.ceil(count4 / copyWg));
    const c4 = await timeOp(timer, 'copy4', (p) => copyKernel.dispatch(p, copyGroup, copyGroups), opts);
    row({
      group: 'ceiling',
      name: 'copy kernel (vec4)',
      size: `${opts.copyBytes / 2 ** 20} MiB`,
      ms: c4.ms,
      gflops: null,
      gbps: (2 * opts.copyBytes) / (c4.ms * 1e6),
      reps: c4.reps,
    });

    // A dense layer's shape: [m samples] × 64 inputs → 64 outputs.
    const m = opts.matmulRows;
    const k = 64;
    const n = 64;
    const S = 4;
    const mmKernel = Kernel.get(gpu, { label: 'bench-matmul', code, entryPoint: 'matmul', bindings: scalarBindings, constants: { WG: 64, S, NACC: 2 } });
    const xData = seeded(m * k, 1);
    const wData = seeded(k * n, 2);
    const X = buf('matmul-x', xData);
    const W = buf('matmul-w', wData);
    const Y = buf('matmul-y', new Float32Array(m * n));
    const mmGroup = mmKernel.bind({ dims: dimsBuf(m, k, n, 0), a: X, b: W, c: Y });
    const mm = await timeOp(timer, 'matmul', (p) => mmKernel.dispatch(p, mmGroup, m / (64 * S)), opts);
    await checkMatmul(gpu, Y, m, k, n, xData, wData);
    row({
      group: 'ceiling',
      name: 'matmul (dense-layer shape)',
      size: `[${m}×${k}]·[${k}×${n}]`,
      ms: mm.ms,
      gflops: (2 * m * k * n) / (mm.ms * 1e6),
      gbps: ((m * k + k * n + m * n) * F32) / (mm.ms * 1e6),
      reps: mm.reps,
    });

    const fmaKernel = Kernel.get(gpu, { label: 'bench-fma', code, entryPoint: 'fma_peak', bindings: scalarBindings, constants: { WG: 64 } });
    const fmaGroups = 256;
    const fmaIters = 1024;
    const fmaOut = buf('fma-out', new Float32Array(fmaGroups * 64));
    const fmaGroup = fmaKernel.bind({ dims: dimsBuf(0, 0, 0, fmaIters), a: dummy, b: dummy, c: fmaOut });
    const fma = await timeOp(timer, 'fma-peak', (p) => fmaKernel.dispatch(p, fmaGroup, fmaGroups), opts);
    row({
      group: 'ceiling',
      name: 'multiply-add on registers',
      size: `${(fmaGroups * 64).toLocaleString('en-US')} invocations`,
      ms: fma.ms,
      gflops: (fmaGroups * 64 * fmaIters * 32) / (fma.ms * 1e6),
      gbps: null,
      reps: fma.reps,
    });

    const ceiling = (pick: (r: KernelRow) => number | null, names: string[]) =>
      Math.max(...rows.filter((r) => names.includes(r.name)).map((r) => pick(r) ?? 0));
    const byteCeiling = ceiling((r) => r.gbps, ['copyBufferToBuffer', 'copy kernel (vec4)']);
    const flopCeiling = ceiling((r) => r.gflops, ['matmul (dense-layer shape)']);

    // --- MLP kernels (the policy network of CartPole-v1, and the value network) -------------------
    for (const sizes of [
      [4, 64, 64, 2],
      [4, 64, 64, 1],
    ]) {
      const layout = mlpLayout(sizes);
      const mlp = new MlpKernels(gpu, layout);
      const N = opts.mlpBatch;
      const P = layout.paramCount;
      const L = sizes.length - 1;
      const sets = 10;
      const params = buf('mlp-params', seeded(sets * P, 3, 0.2));
      const input = buf('mlp-input', seeded(N * sizes[0]!, 4));
      const out = buf('mlp-output', new Float32Array(sets * N * sizes[L]!));
      const acts = buf('mlp-acts', new Float32Array(sets * mlp.actsLength(N)));
      const gradOut = buf('mlp-grad-output', seeded(N * sizes[L]!, 5, 0.01));
      const gradParams = buf('mlp-grad-params', new Float32Array(P));
      const tangent = buf('mlp-tangent', seeded(P, 6, 0.1));
      const jvpOut = buf('mlp-jvp-output', new Float32Array(N * sizes[L]!));
      const { all, first } = macs(layout);
      const tr = traffic(layout);
      const name = `${sizes.join('→')}`;
      const cases: Array<[string, Op & { destroy(): void }, number, number]> = [
        ['forward', mlp.forwardOp({ params, input, output: out, acts, batch: N }), 2 * all * N, tr.forward * N * F32],
        [
          `forward, ${sets} parameter sets`,
          mlp.forwardOp({ params, input, output: out, acts, batch: N, sets, paramStride: P }),
          2 * all * N * sets,
          (tr.forward - sizes[0]!) * N * sets * F32 + sizes[0]! * N * F32,
        ],
        [
          'backward (parameter gradient)',
          mlp.backwardOp({ params, input, acts, gradOutput: gradOut, gradParams, batch: N }),
          2 * (2 * all - first) * N,
          tr.backward * N * F32,
        ],
        [
          'JVP',
          mlp.jvpOp({ params, input, acts, tangent, outputTangent: jvpOut, batch: N }),
          2 * (2 * all - first) * N,
          tr.jvp * N * F32,
        ],
      ];
      // The forward pass first writes the activations the other passes read.
      for (const [label, op, flops, bytes] of cases) {
        ops.push(op);
        const t = await timeOp(timer, `mlp-${label}`, (p) => op.encode(p), opts);
        row({
          group: 'mlp',
          name: `MLP ${label}`,
          size: `batch ${N.toLocaleString('en-US')}, ${name}`,
          ms: t.ms,
          gflops: flops / (t.ms * 1e6),
          gbps: bytes / (t.ms * 1e6),
          reps: t.reps,
        });
      }
      mlp.destroy();
    }

    // --- vector ops and reductions --------------------------------------------------------------
    for (const n of [opts.smallVecLength, opts.vecLength]) {
      const x = buf('vec-x', seeded(n, 7));
      const y = buf('vec-y', seeded(n, 8));
      const s = buf('vec-scalars', new Float32Array(4));
      const X = { buffer: x, length: n };
      const Y = { buffer: y, length: n };
      const cases: Array<[string, BuiltOp, number, number]> = [
        ['fill', fillOp(gpu, Y, 0.5), 0, 4 * n],
        ['copy', copyOp(gpu, X, Y), 0, 8 * n],
        ['scale', scaleOp(gpu, Y, 0.999), n, 8 * n],
        ['axpy', axpyOp(gpu, Y, X, 1e-3), 2 * n, 12 * n],
        ['xpby', xpbyOp(gpu, Y, X, 0.5), 2 * n, 12 * n],
        ['dot (compensated)', dotOp(gpu, X, Y, { buffer: s, index: 0 }), 2 * n, 8 * n],
        ['sum (compensated)', sumOp(gpu, X, { buffer: s, index: 1 }), n, 4 * n],
        ['mean + std (2 passes)', meanStdOp(gpu, X, { buffer: s, index: 2 }, { buffer: s, index: 3 }), 4 * n, 8 * n],
      ];
      for (const [label, op, flops, bytes] of cases) {
        ops.push(op);
        const t = await timeOp(timer, `vec-${label}`, (p) => op.encode(p), opts);
        row({
          group: 'vec',
          name: label,
          size: `n = ${n.toLocaleString('en-US')}`,
          ms: t.ms,
          gflops: flops > 0 ? flops / (t.ms * 1e6) : null,
          gbps: bytes / (t.ms * 1e6),
          reps: t.reps,
        });
      }
    }
    await gpu.flush();

    for (const r of rows) {
      if (r.group === 'ceiling') continue;
      r.ofFlopCeiling = r.gflops !== null && flopCeiling > 0 ? round(r.gflops / flopCeiling) : null;
      r.ofByteCeiling = r.gbps !== null && byteCeiling > 0 ? round(r.gbps / byteCeiling) : null;
    }
    for (const r of rows) {
      r.ms = round(r.ms)!;
      r.gflops = round(r.gflops);
      r.gbps = round(r.gbps);
    }
    return rows;
  } finally {
    for (const op of ops) op.destroy();
    for (const b of owned) b.destroy();
    timer.destroy();
  }
}
