import { afterAll, describe, expect, it } from 'vitest';
import { Kernel, runOps, wgsl, type Gpu } from '../src/gpu/index.js';
import { MlpKernels, MlpParams, mlpLayout, type MlpKernelsOptions, type MlpLayout } from '../src/nn/mlp.js';
import { testGpu } from './gpu-context.js';
import { TestRandom } from './reference/random.js';
import { refBackward, refForward, refJvp } from './reference/mlp.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

/** float32 machine epsilon. */
const EPS = 2 ** -23;
/**
 * Tolerance factor: |gpu − ref| ≤ TOL · ε · sqrt(n) · scale, n the number of roundings along the
 * longest chain of sums, scale the reference's error scale (see test/reference/mlp.ts). Random
 * rounding errors grow like sqrt(n); 4 leaves room for tanh's few-ulp error and unlucky signs.
 */
const TOL = 4;

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
/** Roundings along the forward chain: each layer sums inDim products and a bias. */
const forwardTerms = (layout: MlpLayout): number => sum(layout.layers.map((l) => l.inDim + 1));
/** Roundings along the backward chain of deltas (each sums outDim products). */
const backwardTerms = (layout: MlpLayout): number => sum(layout.layers.map((l) => l.outDim));

/** Parameters like a standard init (U(±1/sqrt(fan-in))), scaled up so tanh is not all linear. */
function initParams(layout: MlpLayout, rnd: TestRandom, gain = 1.5): Float32Array {
  const theta = new Float32Array(layout.paramCount);
  for (const { inDim, outDim, wOffset, bOffset } of layout.layers) {
    const a = gain / Math.sqrt(inDim);
    for (let k = 0; k < outDim * inDim; k++) theta[wOffset + k] = rnd.uniform(-a, a);
    for (let k = 0; k < outDim; k++) theta[bOffset + k] = rnd.uniform(-0.5, 0.5);
  }
  return theta;
}

interface Compared {
  /** max |gpu − ref| / (ε · sqrt(n) · scale), the quantity bounded by TOL. */
  worst: number;
  maxAbs: number;
  bad: string[];
}

function compare(got: Float32Array, ref: Float64Array, scale: Float64Array, n: number, what: string): Compared {
  expect(got.length).toBe(ref.length);
  let worst = 0;
  let maxAbs = 0;
  const bad: string[] = [];
  for (let k = 0; k < ref.length; k++) {
    const err = Math.abs(got[k]! - ref[k]!);
    const r = err / (EPS * Math.sqrt(n) * scale[k]!);
    if (!(r <= TOL)) {
      if (bad.length < 5) bad.push(`${what}[${k}]: gpu ${got[k]} ref ${ref[k]} (scale ${scale[k]}, ${r.toFixed(1)}·ε·sqrt(n))`);
      worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
    } else worst = Math.max(worst, r);
    maxAbs = Math.max(maxAbs, err);
  }
  return { worst, maxAbs, bad };
}

/** Worst ratios seen, printed at the end (the numbers behind TOL). */
const seen = new Map<string, { worst: number; maxAbs: number }>();
function record(kind: string, c: Compared): void {
  const s = seen.get(kind) ?? { worst: 0, maxAbs: 0 };
  seen.set(kind, { worst: Math.max(s.worst, c.worst), maxAbs: Math.max(s.maxAbs, c.maxAbs) });
  expect(c.bad, c.bad.join('\n')).toEqual([]);
}
afterAll(() => {
  for (const [k, v] of seen) console.log(`mlp ${k}: worst ${v.worst.toFixed(3)}·ε·sqrt(n)·scale (bound ${TOL}), max abs error ${v.maxAbs.toExponential(2)}`);
});

describe('mlpLayout', () => {
  it('places W (row-major) then b for each layer', () => {
    const l = mlpLayout([4, 64, 64, 2]);
    expect(l.paramCount).toBe(4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
    expect(l.layers).toEqual([
      { inDim: 4, outDim: 64, wOffset: 0, bOffset: 256 },
      { inDim: 64, outDim: 64, wOffset: 320, bOffset: 320 + 4096 },
      { inDim: 64, outDim: 2, wOffset: 4480, bOffset: 4480 + 128 },
    ]);
    expect(mlpLayout([1, 1])).toEqual({ sizes: [1, 1], paramCount: 2, layers: [{ inDim: 1, outDim: 1, wOffset: 0, bOffset: 1 }] });
  });

  it('rejects bad sizes with the field, value and allowed range', () => {
    expect(() => mlpLayout([])).toThrow(/at least \[in, out\]/);
    expect(() => mlpLayout([3])).toThrow(/at least \[in, out\]/);
    expect(() => mlpLayout([3, 0])).toThrow(/sizes\[1\]: got 0, allowed: an integer in \[1, 4096\]/);
    expect(() => mlpLayout([2.5, 1])).toThrow(/sizes\[0\]: got 2.5/);
    expect(() => mlpLayout([2, Number.NaN])).toThrow(/sizes\[1\]: got NaN/);
    expect(() => mlpLayout([2, 5000])).toThrow(/sizes\[1\]: got 5000/);
    expect(() => mlpLayout('4,2' as unknown as number[])).toThrow(/expected an array/);
  });
});

describe('float64 reference', () => {
  // Central differences in float64: truncation error O(h²), rounding O(1e-16 / h).
  const H = 1e-5;
  const cases: Array<[number[], number]> = [
    [[3, 5, 2], 4],
    [[1, 1], 3],
    [[2, 4, 3, 1], 5],
  ];

  it.each(cases)('backward matches finite differences of forward (%j, batch %i)', (sizes, batch) => {
    const layout = mlpLayout(sizes);
    const rnd = new TestRandom(11);
    const theta = Array.from(initParams(layout, rnd));
    const input = Array.from(rnd.f32(batch * sizes[0]!));
    const gout = Array.from(rnd.f32(batch * sizes.at(-1)!));
    const loss = (th: number[], x: number[]) => {
      const y = refForward(layout, th, x, batch).output;
      return y.reduce((s, v, k) => s + v * gout[k]!, 0);
    };
    const { gradParams, gradInput } = refBackward(layout, theta, input, gout, batch);
    for (let k = 0; k < layout.paramCount; k++) {
      const p = [...theta];
      const m = [...theta];
      p[k]! += H;
      m[k]! -= H;
      const fd = (loss(p, input) - loss(m, input)) / (2 * H);
      expect(Math.abs(gradParams[k]! - fd)).toBeLessThan(1e-8 * (1 + Math.abs(fd)));
    }
    for (let k = 0; k < input.length; k++) {
      const p = [...input];
      const m = [...input];
      p[k]! += H;
      m[k]! -= H;
      const fd = (loss(theta, p) - loss(theta, m)) / (2 * H);
      expect(Math.abs(gradInput[k]! - fd)).toBeLessThan(1e-8 * (1 + Math.abs(fd)));
    }
  });

  it.each(cases)('JVP matches finite differences of forward (%j, batch %i)', (sizes, batch) => {
    const layout = mlpLayout(sizes);
    const rnd = new TestRandom(12);
    const theta = Array.from(initParams(layout, rnd));
    const input = Array.from(rnd.f32(batch * sizes[0]!));
    const t = Array.from(rnd.f32(layout.paramCount));
    const yp = refForward(layout, theta.map((v, k) => v + H * t[k]!), input, batch).output;
    const ym = refForward(layout, theta.map((v, k) => v - H * t[k]!), input, batch).output;
    const { outputTangent } = refJvp(layout, theta, input, t, batch);
    outputTangent.forEach((v, k) => {
      const fd = (yp[k]! - ym[k]!) / (2 * H);
      expect(Math.abs(v - fd)).toBeLessThan(1e-8 * (1 + Math.abs(fd)));
    });
  });

  it('the finite-difference check can fail: a wrong gradient is caught', () => {
    const layout = mlpLayout([3, 5, 2]);
    const rnd = new TestRandom(13);
    const theta = Array.from(initParams(layout, rnd));
    const input = Array.from(rnd.f32(6));
    const gout = Array.from(rnd.f32(4));
    const { gradParams } = refBackward(layout, theta, input, gout, 2);
    const k = layout.layers[0]!.wOffset + 3;
    const p = [...theta];
    const m = [...theta];
    p[k]! += H;
    m[k]! -= H;
    const loss = (th: number[]) => refForward(layout, th, input, 2).output.reduce((s, v, j) => s + v * gout[j]!, 0);
    const fd = (loss(p) - loss(m)) / (2 * H);
    expect(Math.abs(gradParams[k]! * 1.001 - fd)).toBeGreaterThan(1e-8 * (1 + Math.abs(fd)));
  });
});

describe.skipIf(!gpu)('MLP kernels on the GPU', () => {
  const g = gpu as Gpu;
  const NAN = Number.NaN;
  const poisoned = (label: string, n: number) => g.upload(label, new Float32Array(Math.max(1, n)).fill(NAN));

  interface Case {
    layout: MlpLayout;
    batch: number;
    theta: Float32Array;
    input: Float32Array;
    gout: Float32Array;
    tangent: Float32Array;
  }

  function makeCase(sizes: number[], batch: number, seed: number): Case {
    const layout = mlpLayout(sizes);
    const rnd = new TestRandom(seed);
    return {
      layout,
      batch,
      theta: initParams(layout, rnd),
      input: rnd.f32(batch * sizes[0]!, -2, 2),
      gout: rnd.f32(batch * sizes.at(-1)!),
      tangent: rnd.f32(layout.paramCount),
    };
  }

  /** The case's parameters, input, output gradient and tangent, on the GPU. */
  function uploadCase(c: Case) {
    return { params: g.upload('params', c.theta), input: g.upload('input', c.input), gout: g.upload('grad-output', c.gout), tangent: g.upload('tangent', c.tangent) };
  }

  /** Forward, backward (with gradInput) and JVP in one pass, results read back in one go. */
  async function runAll(c: Case, options?: MlpKernelsOptions) {
    const { layout, batch } = c;
    const k = new MlpKernels(g, layout, options);
    const P = layout.paramCount;
    const inDim = layout.sizes[0]!;
    const outDim = layout.sizes.at(-1)!;
    const { params, input, gout, tangent } = uploadCase(c);
    const output = poisoned('output', batch * outDim);
    const acts = poisoned('acts', k.actsLength(batch));
    const gradParams = poisoned('grad-params', P);
    const gradInput = poisoned('grad-input', batch * inDim);
    const outputTangent = poisoned('output-tangent', batch * outDim);
    const ops = [
      k.forwardOp({ params, input, output, acts, batch }),
      k.backwardOp({ params, input, acts, gradOutput: gout, gradParams, gradInput, batch }),
      k.jvpOp({ params, input, acts, tangent, outputTangent, batch }),
    ];
    runOps(g, 'mlp-test', ops);
    const [y, gp, gi, jt] = await g.readRanges([{ buffer: output }, { buffer: gradParams }, { buffer: gradInput }, { buffer: outputTangent }]);
    for (const b of [params, input, gout, tangent, output, acts, gradParams, gradInput, outputTangent]) b.destroy();
    for (const op of ops) op.destroy();
    k.destroy();
    return {
      output: new Float32Array(y!, 0, batch * outDim),
      gradParams: new Float32Array(gp!, 0, P),
      gradInput: new Float32Array(gi!, 0, batch * inDim),
      outputTangent: new Float32Array(jt!, 0, batch * outDim),
      chunk: k.gradChunk(batch),
    };
  }

  function check(c: Case, got: Awaited<ReturnType<typeof runAll>>): void {
    const { layout, batch } = c;
    const f = refForward(layout, c.theta, c.input, batch);
    const b = refBackward(layout, c.theta, c.input, c.gout, batch);
    const j = refJvp(layout, c.theta, c.input, c.tangent, batch);
    const nf = forwardTerms(layout);
    const nb = nf + backwardTerms(layout);
    // Batch sums: chunkLen samples in sequence, then the chunks.
    const ng = nb + got.chunk + Math.ceil(batch / got.chunk);
    record('forward', compare(got.output, f.output, f.outputScale, nf, 'output'));
    record('backward gradParams', compare(got.gradParams, b.gradParams, b.gradParamsScale, ng, 'gradParams'));
    record('backward gradInput', compare(got.gradInput, b.gradInput, b.gradInputScale, nb, 'gradInput'));
    record('jvp', compare(got.outputTangent, j.outputTangent, j.outputTangentScale, 2 * nf, 'outputTangent'));
  }

  // [32, 64], [8, 32, 128, 3] and [4, 30, 64, 64, 2] have layers that fit the stationary kernels
  // (R = 4 and 8, two row blocks, a single layer reading and writing the user's buffers); in the
  // last one the 64×64 layer's input starts at batch·30 floats, a multiple of 4 only for even
  // batches, so the odd batches run it on the other kernels. Their output layers, [64, 2],
  // [5, 32, 1] and [3, 64, 8] fit the thin output-layer kernels (one and two vec4 per lane, 1 to 8
  // rows, a single layer that is also the first, with dL/dinput).
  const shapes = [[1, 1], [3, 5, 2], [4, 64, 64, 2], [7, 63, 65, 3], [32, 64], [8, 32, 128, 3], [4, 30, 64, 64, 2], [64, 2], [5, 32, 1], [3, 64, 8]];
  const batches = [1, 63, 64, 65, 1000];
  // The stationary and subgroup kernels where the device allows them (the default), the
  // row-broadcast subgroup kernels alone, and the per-invocation ones.
  const paths: MlpKernelsOptions[] = [{}, { backend: 'generic' }, { backend: 'generic-no-subgroups' }];
  const grid = paths.flatMap((o) => shapes.flatMap((s) => batches.map((b) => [s, b, o] as const)));

  it('uses the subgroup kernels exactly where the device has subgroups of 8 or more', () => {
    const layout = mlpLayout([3, 5, 2]);
    const sg = g.subgroups;
    const able = !!sg && sg.min >= 8 && sg.max <= 64;
    expect(new MlpKernels(g, layout).subgroups).toBe(able);
    expect(new MlpKernels(g, layout, { backend: 'generic-no-subgroups' }).subgroups).toBe(false);
    // A workgroup narrower than the subgroup cannot run them.
    expect(new MlpKernels(g, layout, { workgroupSize: 4 }).subgroups).toBe(false);
    expect(() => new MlpKernels(g, layout, { backend: 'yes' as unknown as 'auto' })).toThrow(/kernel backend: "yes" is not one of auto, generic, generic-no-subgroups/);
  });

  it('uses the stationary kernels exactly where subgroups are 8 wide', () => {
    const layout = mlpLayout([3, 5, 2]);
    const sg = g.subgroups;
    const able = !!sg && sg.min === 8 && sg.max === 8;
    const isSubgroup8 = (o: MlpKernelsOptions = {}) => new MlpKernels(g, layout, o).backend.name === 'subgroup8';
    expect(isSubgroup8()).toBe(able);
    expect(isSubgroup8({ backend: 'generic' })).toBe(false);
    expect(isSubgroup8({ backend: 'generic-no-subgroups' })).toBe(false);
    expect(isSubgroup8({ workgroupSize: 4 })).toBe(false);
  });

  /** Labels of the pipelines an op dispatches, in order (nothing is encoded). */
  function pipelines(op: { encode(pass: GPUComputePassEncoder): void }): string[] {
    const labels: string[] = [];
    const recorder = {
      setPipeline: (p: GPUComputePipeline) => void labels.push(p.label),
      setBindGroup: () => {},
      dispatchWorkgroups: () => {},
    } as unknown as GPUComputePassEncoder;
    op.encode(recorder);
    return labels;
  }

  it.skipIf(!(g.subgroups?.min === 8 && g.subgroups.max === 8))('runs the stationary and thin kernels on the layers they fit, and only there', () => {
    const stationaryLayers = (sizes: number[], batch: number) => {
      const layout = mlpLayout(sizes);
      const k = new MlpKernels(g, layout);
      const P = layout.paramCount;
      const buf = (n: number) => g.storage('probe', Math.max(4, n) * 4);
      const params = buf(P);
      const input = buf(batch * sizes[0]!);
      const acts = buf(k.actsLength(batch));
      const out = buf(batch * sizes.at(-1)!);
      const ops = {
        forward: k.forwardOp({ params, input, output: out, acts, batch }),
        backward: k.backwardOp({ params, input, acts, gradOutput: buf(batch * sizes.at(-1)!), gradParams: buf(P), batch }),
        jvp: k.jvpOp({ params, input, acts, tangent: buf(P), outputTangent: buf(batch * sizes.at(-1)!), batch }),
      };
      // S: weight-stationary, T: thin output layer, -: the other kernels.
      const kind = (l: string) => (l.includes('stationary') ? 'S' : l.includes('-thin') ? 'T' : '-');
      const used = Object.fromEntries(Object.entries(ops).map(([name, op]) => [name, pipelines(op).map(kind).join('')]));
      k.destroy();
      return used;
    };
    // forward and JVP: one dispatch per layer; backward: deltas top down (layers 2, 1), then the
    // parameter gradients (layers 0, 1, 2), then the sum of the chunks.
    expect(stationaryLayers([8, 32, 128, 3], 65)).toEqual({ forward: 'SST', backward: 'TSSST-', jvp: 'SST' });
    // The 64×64 layer's input at batch·30 floats: stationary only where that is a multiple of 4,
    // and so is the output layer's input.
    expect(stationaryLayers([4, 30, 64, 64, 2], 64).forward).toBe('--ST');
    expect(stationaryLayers([4, 30, 64, 64, 2], 63).forward).toBe('----');
    // One thin layer; an output layer of 9 rows, or of 48 inputs, is not thin.
    expect(stationaryLayers([64, 2], 8)).toEqual({ forward: 'T', backward: 'T-', jvp: 'T' });
    expect(stationaryLayers([4, 64, 9], 8).forward).toBe('S-');
    expect(stationaryLayers([4, 48, 2], 8).forward).toBe('--');
  });

  it.each(grid)('forward, backward and JVP match the float64 reference (%j, batch %i, %j)', async (sizes, batch, options) => {
    const c = makeCase([...sizes], batch, 100 + batch);
    check(c, await runAll(c, options));
  });

  /**
   * J v and Jᵀ g through the output Jacobian G (mlp-jacobian.ts), where the device runs them:
   * the sums differ from forward mode's (G's backward chain, then a dot product per layer and a
   * sum over layers), so the rounding count is the forward chain plus the backward chain plus
   * the layers; the gradient's adds the D outputs of Gᵀg to backward's.
   */
  async function runJacobian(c: Case) {
    const { layout, batch } = c;
    const k = new MlpKernels(g, layout);
    if (!k.jacobianRows) {
      k.destroy();
      return null;
    }
    const P = layout.paramCount;
    const outDim = layout.sizes.at(-1)!;
    const { params, input, gout, tangent } = uploadCase(c);
    const output = poisoned('output', batch * outDim);
    const acts = poisoned('acts', k.actsLength(batch));
    const jacobian = poisoned('jacobian', k.jacobianLength(batch));
    const gradParams = poisoned('grad-params', P);
    const outputTangent = poisoned('output-tangent', batch * outDim);
    const ops = [
      k.forwardOp({ params, input, output, acts, batch }),
      k.outputJacobianOp({ params, acts, jacobian, batch }),
      k.jacobianVectorOp({ input, acts, jacobian, tangent, outputTangent, batch }),
      k.jacobianTransposeOp({ input, acts, jacobian, gradOutput: gout, gradParams, batch }),
    ];
    runOps(g, 'mlp-jacobian-test', ops);
    const [gp, jt] = await g.readRanges([{ buffer: gradParams }, { buffer: outputTangent }]);
    for (const b of [params, input, gout, tangent, output, acts, jacobian, gradParams, outputTangent]) b.destroy();
    for (const op of ops) op.destroy();
    const chunk = k.gradChunk(batch);
    k.destroy();
    return { gradParams: new Float32Array(gp!, 0, P), outputTangent: new Float32Array(jt!, 0, batch * outDim), chunk };
  }

  // Shapes whose hidden layers fit (32 or 64 units, each in one workgroup): an aligned and an
  // unaligned first layer (3 and 5 inputs, zero-padded to 4 and 8), 1, 2 and 8 outputs.
  const jacobianShapes = [[4, 64, 64, 2], [3, 64, 64, 1], [5, 32, 1], [3, 64, 8], [6, 32, 64, 3]];
  it.each(jacobianShapes.flatMap((s) => batches.map((b) => [s, b] as const)))(
    'J v and Jᵀ g through the output Jacobian match the float64 reference (%j, batch %i)',
    async (sizes, batch) => {
      const c = makeCase([...sizes], batch, 300 + batch);
      const got = await runJacobian(c);
      if (!got) return; // not this device: forward mode is what runs (tested above)
      const { layout } = c;
      const D = layout.sizes.at(-1)!;
      const nf = forwardTerms(layout);
      const nb = nf + backwardTerms(layout);
      const b = refBackward(layout, c.theta, c.input, c.gout, batch);
      const j = refJvp(layout, c.theta, c.input, c.tangent, batch);
      record('jacobian J v', compare(got.outputTangent, j.outputTangent, j.outputTangentScale, nb + layout.layers.length, 'outputTangent'));
      record('jacobian Jᵀ g', compare(got.gradParams, b.gradParams, b.gradParamsScale, nb + D + got.chunk + Math.ceil(batch / got.chunk), 'gradParams'));
    },
  );

  it('runs the output-Jacobian kernels exactly where the stationary kernels run, for hidden layers of one workgroup', () => {
    const rows = (sizes: number[], options?: MlpKernelsOptions) => {
      const k = new MlpKernels(g, mlpLayout(sizes), options);
      const r = k.jacobianRows;
      k.destroy();
      return r;
    };
    const stationary = new MlpKernels(g, mlpLayout([4, 64, 2])).backend.name === 'subgroup8';
    expect(rows([4, 64, 64, 2])).toEqual(stationary ? [8, 8] : null);
    expect(rows([5, 32, 1])).toEqual(stationary ? [4] : null);
    // 128 units need two workgroups; 63 do not fit the kernels; no hidden layer; 9 outputs.
    expect(rows([4, 128, 2])).toBeNull();
    expect(rows([4, 63, 2])).toBeNull();
    expect(rows([4, 2])).toBeNull();
    expect(rows([4, 64, 9])).toBeNull();
    expect(rows([4, 64, 64, 2], { backend: 'generic' })).toBeNull();
  });

  it.each(paths)('matches at batch 16384 on [4, 64, 64, 2] (%j)', async (options) => {
    const c = makeCase([4, 64, 64, 2], 16384, 7);
    check(c, await runAll(c, options));
  });

  // When fewer than 4 workgroups would run, the kernels halve the workgroup (down to 8), then
  // samplesPerInvocation: the small batches below run reduced blockings, batch 4099 the ones given.
  it.each([
    [{ samplesPerInvocation: 1, accumulators: 1, workgroupSize: 1 }],
    [{ samplesPerInvocation: 2, accumulators: 3, workgroupSize: 8, gradCols: 2 }],
    [{ samplesPerInvocation: 4, accumulators: 4, workgroupSize: 256, gradRows: 5, gradCols: 1, gradChunk: 7 }],
    [{ samplesPerInvocation: 8, accumulators: 2, workgroupSize: 4, gradRows: 3, gradCols: 8, gradChunk: 33 }],
    [{ samplesPerInvocation: 1, accumulators: 4, workgroupSize: 64, gradRows: 1, gradChunk: 1 }],
  ] satisfies Array<[MlpKernelsOptions]>)('every blocking gives the same answers (%j)', async (options) => {
    for (const [sizes, batch] of [[[7, 63, 65, 3], 130], [[3, 5, 2], 65], [[2, 9, 1], 1], [[3, 5, 2], 4099]] as const) {
      const c = makeCase([...sizes], batch, 5);
      check(c, await runAll(c, options));
    }
  });

  it('covers a 2-D workgroup grid (more than 65535 workgroups)', async () => {
    const c = makeCase([2, 3, 1], 70000, 9);
    check(c, await runAll(c, { workgroupSize: 1, samplesPerInvocation: 1, gradChunk: 1024 }));
  });

  it('evaluates several parameter sets in one pass, reading only their regions', async () => {
    const layout = mlpLayout([7, 63, 65, 3]);
    const P = layout.paramCount;
    const batch = 65;
    const sets = 3;
    const offset = 5;
    const stride = P + 11;
    const rnd = new TestRandom(21);
    // Set k's parameters at offset + k·stride; the gaps hold NaN, which would poison any output
    // that read them.
    const all = new Float32Array(offset + sets * stride).fill(NAN);
    const thetas = Array.from({ length: sets }, () => initParams(layout, rnd));
    thetas.forEach((t, k) => all.set(t, offset + k * stride));
    const x = rnd.f32(batch * 7, -2, 2);
    const k = new MlpKernels(g, layout);
    const params = g.upload('params', all);
    const input = g.upload('input', x);
    const outLen = sets * batch * 3;
    const actsLen = sets * k.actsLength(batch);
    // One extra float past each region, to see that nothing writes there.
    const output = poisoned('output', outLen + 1);
    const acts = poisoned('acts', actsLen + 1);
    g.device.queue.writeBuffer(output, outLen * 4, new Float32Array([123.5]));
    g.device.queue.writeBuffer(acts, actsLen * 4, new Float32Array([-7.25]));
    const op = k.forwardOp({ params, paramOffset: offset, paramStride: stride, input, output, acts, batch, sets });
    runOps(g, 'mlp-sets', [op]);
    const [y, a] = await g.readRanges([{ buffer: output }, { buffer: acts }]);
    const yf = new Float32Array(y!);
    const af = new Float32Array(a!);
    expect(yf[outLen]).toBe(123.5);
    expect(af[actsLen]).toBe(-7.25);
    thetas.forEach((t, s) => {
      const ref = refForward(layout, t, x, batch);
      record('forward', compare(yf.subarray(s * batch * 3, (s + 1) * batch * 3), ref.output, ref.outputScale, forwardTerms(layout), `set ${s}`));
    });
    // The acts of set 0 feed backward like a single-set forward's would.
    const gradParams = poisoned('grad-params', P);
    const gout = g.upload('gout', rnd.f32(batch * 3));
    runOps(g, 'mlp-sets-backward', [k.backwardOp({ params, paramOffset: offset, input, acts, gradOutput: gout, gradParams, batch })]);
    const gp = await g.readF32(gradParams);
    const b = refBackward(layout, thetas[0]!, x, new Float32Array(await g.readF32(gout)), batch);
    const ng = forwardTerms(layout) + backwardTerms(layout) + k.gradChunk(batch) + 1;
    record('backward gradParams', compare(gp, b.gradParams, b.gradParamsScale, ng, 'gradParams'));
    for (const buf of [params, input, output, acts, gradParams, gout]) buf.destroy();
    k.destroy();
  });

  it('honours paramOffset, gradParamsOffset and tangentOffset and leaves neighbours alone', async () => {
    const c = makeCase([3, 5, 2], 63, 31);
    const { layout, batch } = c;
    const P = layout.paramCount;
    const k = new MlpKernels(g, layout);
    const pOff = 9;
    const gOff = 4;
    const tOff = 13;
    const withNaN = (off: number, v: Float32Array) => {
      const a = new Float32Array(off + v.length + 3).fill(NAN);
      a.set(v, off);
      return a;
    };
    const params = g.upload('params', withNaN(pOff, c.theta));
    const tangent = g.upload('tangent', withNaN(tOff, c.tangent));
    const input = g.upload('input', c.input);
    const gout = g.upload('gout', c.gout);
    const acts = poisoned('acts', k.actsLength(batch));
    const output = poisoned('output', batch * 2);
    const sentinel = new Float32Array(gOff + P + 3).map((_, i) => 1000 + i);
    const gradParams = g.upload('grad-params', sentinel);
    const outputTangent = poisoned('output-tangent', batch * 2);
    runOps(g, 'mlp-offsets', [
      k.forwardOp({ params, paramOffset: pOff, input, output, acts, batch }),
      k.backwardOp({ params, paramOffset: pOff, input, acts, gradOutput: gout, gradParams, gradParamsOffset: gOff, batch }),
      k.jvpOp({ params, paramOffset: pOff, input, acts, tangent, tangentOffset: tOff, outputTangent, batch }),
    ]);
    const [gp, jt] = await g.readRanges([{ buffer: gradParams }, { buffer: outputTangent }]);
    const gpf = new Float32Array(gp!);
    expect(Array.from(gpf.subarray(0, gOff))).toEqual(Array.from(sentinel.subarray(0, gOff)));
    expect(Array.from(gpf.subarray(gOff + P))).toEqual(Array.from(sentinel.subarray(gOff + P)));
    const b = refBackward(layout, c.theta, c.input, c.gout, batch);
    const nb = forwardTerms(layout) + backwardTerms(layout);
    record('backward gradParams', compare(gpf.subarray(gOff, gOff + P), b.gradParams, b.gradParamsScale, nb + k.gradChunk(batch) + 1, 'gradParams'));
    const j = refJvp(layout, c.theta, c.input, c.tangent, batch);
    record('jvp', compare(new Float32Array(jt!), j.outputTangent, j.outputTangentScale, 2 * forwardTerms(layout), 'outputTangent'));
    for (const buf of [params, tangent, input, gout, acts, output, gradParams, outputTangent]) buf.destroy();
    k.destroy();
  });

  it('overwrites gradParams instead of accumulating, so running backward twice gives the same sum', async () => {
    const c = makeCase([4, 8, 2], 65, 41);
    const { layout, batch } = c;
    const k = new MlpKernels(g, layout);
    const params = g.upload('params', c.theta);
    const input = g.upload('input', c.input);
    const gout = g.upload('gout', c.gout);
    const acts = poisoned('acts', k.actsLength(batch));
    const output = poisoned('output', batch * 2);
    const gradParams = poisoned('grad-params', layout.paramCount);
    const fwd = k.forwardOp({ params, input, output, acts, batch });
    const bwd = k.backwardOp({ params, input, acts, gradOutput: gout, gradParams, batch });
    runOps(g, 'once', [fwd, bwd]);
    const once = await g.readF32(gradParams);
    runOps(g, 'twice', [bwd, bwd]);
    expect(await g.readF32(gradParams)).toEqual(once);
    for (const buf of [params, input, gout, acts, output, gradParams]) buf.destroy();
    k.destroy();
  });

  it('forward without acts uses its own scratch and gives the same output', async () => {
    const c = makeCase([7, 63, 65, 3], 65, 51);
    const { layout, batch } = c;
    const k = new MlpKernels(g, layout);
    const params = g.upload('params', c.theta);
    const input = g.upload('input', c.input);
    const acts = poisoned('acts', k.actsLength(batch));
    const a = poisoned('output-a', batch * 3);
    const b = poisoned('output-b', batch * 3);
    const withActs = k.forwardOp({ params, input, output: a, acts, batch });
    const withoutActs = k.forwardOp({ params, input, output: b, batch, sets: 1 });
    runOps(g, 'mlp-no-acts', [withActs, withoutActs]);
    const [ya, yb] = await g.readRanges([{ buffer: a }, { buffer: b }]);
    expect(new Float32Array(yb!)).toEqual(new Float32Array(ya!));
    const ref = refForward(layout, c.theta, c.input, batch);
    record('forward', compare(new Float32Array(yb!), ref.output, ref.outputScale, forwardTerms(layout), 'output'));
    withoutActs.destroy();
    withActs.destroy();
    for (const buf of [params, input, acts, a, b]) buf.destroy();
    k.destroy();
  });

  it('MlpParams has the same field offsets in WGSL as in TS', async () => {
    // A probe kernel copies every field to out[i]; a field at a different offset shows up as a
    // wrong value at its index.
    const fields = MlpParams.fields.map(([name]) => name);
    const probe = Kernel.get(g, {
      label: 'mlp-params-probe',
      entryPoint: 'main',
      bindings: [
        ['p', 'uniform'],
        ['out', 'storage'],
      ],
      code: wgsl(
        MlpParams.wgsl(),
        `@group(0) @binding(0) var<uniform> p: MlpParams;
         @group(0) @binding(1) var<storage, read_write> out: array<u32>;
         @compute @workgroup_size(1) fn main() { ${fields.map((f, i) => `out[${i}] = p.${f};`).join(' ')} }`,
      ),
    });
    const values = Object.fromEntries(fields.map((f, i) => [f, 1000 + 7 * i])) as Parameters<typeof MlpParams.pack>[0];
    const u = g.uniform('probe-params', MlpParams.pack(values));
    const out = g.upload('probe-out', new Uint32Array(fields.length).fill(0xdeadbeef));
    g.submit('probe', (enc) => {
      const pass = enc.beginComputePass();
      probe.dispatch(pass, probe.bind({ p: u, out }), 1);
      pass.end();
    });
    expect(Array.from(await g.readU32(out))).toEqual(fields.map((_, i) => 1000 + 7 * i));
    expect(MlpParams.size).toBe(Math.ceil((fields.length * 4) / 16) * 16);
    u.destroy();
    out.destroy();
  });

  it('rejects bad arguments before any GPU work', () => {
    const layout = mlpLayout([3, 5, 2]);
    const k = new MlpKernels(g, layout);
    const small = g.upload('small', new Float32Array(4));
    const params = g.upload('params', new Float32Array(layout.paramCount));
    const input = g.upload('input', new Float32Array(30));
    const output = g.upload('output', new Float32Array(20));
    const acts = g.upload('acts', new Float32Array(k.actsLength(10) + 6));
    expect(() => k.forwardOp({ params, input, output, batch: 0 })).toThrow(/batch must be an integer in \[1, /);
    expect(() => k.forwardOp({ params, input, output, batch: 2.5 })).toThrow(/batch .* got 2.5/);
    expect(() => k.forwardOp({ params: small, input, output, batch: 10 })).toThrow(/params 'small' has 16 bytes, needs at least 128 \(32 f32\)/);
    expect(() => k.forwardOp({ params, input, output, batch: 11 })).toThrow(/input 'input' has 120 bytes/);
    expect(() => k.forwardOp({ params, input, output, batch: 10, sets: 2 })).toThrow(/params 'params' has/);
    expect(() => k.forwardOp({ params, input, output, batch: 10, paramStride: 3, sets: 1 })).toThrow(/paramStride must be an integer in \[32, /);
    expect(() => k.forwardOp({ params, input, output: acts, acts, batch: 10 })).toThrow(/output and acts must be different buffers/);
    expect(() => k.backwardOp({ params, input, acts, gradOutput: output, gradParams: params, batch: 10 })).toThrow(
      /gradParams and params must be different buffers/,
    );
    expect(() => k.jvpOp({ params, input, acts: small, tangent: params, outputTangent: output, batch: 10 })).toThrow(/acts 'small'/);
    expect(() => new MlpKernels(g, layout, { samplesPerInvocation: 9 })).toThrow(/samplesPerInvocation must be an integer in \[1, 8\], got 9/);
    expect(() => new MlpKernels(g, layout, { samplesPerInvocation: 3 })).toThrow(/samplesPerInvocation must be 1, 2, 4 or 8, got 3/);
    expect(() => new MlpKernels(g, layout, { gradCols: 0 })).toThrow(/gradCols must be an integer in \[1, 8\], got 0/);
    expect(() => new MlpKernels(g, layout, { outputJacobian: 1 as unknown as boolean })).toThrow(/outputJacobian must be true or false, got 1/);
    // The output Jacobian: G's size, and products through it only where its kernels run.
    expect(() => k.outputJacobianOp({ params, acts, jacobian: small, batch: 10 })).toThrow(/jacobian 'small' has 16 bytes/);
    expect(() => k.jacobianVectorOp({ input, acts, jacobian: acts, tangent: params, outputTangent: output, batch: 10 })).toThrow(
      /jacobianVectorOp: not available for this network on this device/,
    );
    const fits = new MlpKernels(g, mlpLayout([4, 64, 2]));
    if (fits.jacobianRows) {
      expect(() => fits.jacobianTransposeOp({ input, acts, jacobian: small, gradOutput: output, gradParams: params, batch: 10 })).toThrow(/input 'input' has 120 bytes/);
    }
    fits.destroy();
    for (const b of [small, params, input, output, acts]) b.destroy();
    k.destroy();
  });
});
