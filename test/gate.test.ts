/** GPU-side gating: indirect dispatches the GPU can skip, and the line search that uses them. */
import { afterAll, describe, expect, it } from 'vitest';
import { GatedOps } from '../src/gpu/gate.js';
import { Kernel, dispatchOp, runOps, type Op } from '../src/gpu/index.js';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import { f32AtMost } from '../src/algos/trpo/line-search-gate.js';
import { lineSearch } from '../src/algos/trpo/line-search.js';
import { CAND_BASE, stat } from '../src/rl/stats.js';
import { Trainer } from '../src/train/trainer.js';
import { testGpu } from './gpu-context.js';

const gpu = await testGpu();
afterAll(() => gpu?.destroy());

describe('f32AtMost', () => {
  it('gives the largest float32 not above x', () => {
    for (const x of [0.01, 0.02, 1e-9, 0.1, 1, 3.3, 1e-30]) {
      const f = f32AtMost(x);
      expect(Math.fround(f)).toBe(f);
      expect(f).toBeLessThanOrEqual(x);
      // The next float32 up is above x.
      const bits = new Uint32Array(new Float32Array([f]).buffer);
      bits[0] = bits[0]! + 1;
      expect(new Float32Array(bits.buffer)[0]!).toBeGreaterThan(x);
    }
  });
});

describe.skipIf(!gpu)('GatedOps', () => {
  it('runs the recorded workgroup counts until a gate zeroes them, dispatch by dispatch', async () => {
    const g = gpu!;
    const n = 150; // three workgroups of 64, the last one partly past the end
    const kernel = Kernel.get(g, {
      label: 'test-add-one',
      entryPoint: 'main',
      bindings: [['y', 'storage']],
      code: `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
        @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
          if (id.x < ${n}u) { y[id.x] += 1.0; }
        }`,
    });
    const y = g.storage('test/gated-y', n * 4);
    const addOne = dispatchOp('add-one', kernel, kernel.bind({ y }), 3);
    const gated = new GatedOps(g, 'test/gated', [addOne, addOne]);
    expect(gated.dispatches).toBe(2);
    expect([...(await g.readU32(gated.counts))]).toEqual([3, 1, 1, 3, 1, 1]);

    runOps(g, 'test/gated-1', [gated]);
    expect(new Set(await g.readF32(y))).toEqual(new Set([2]));
    // A gate that keeps the first dispatch and skips the second.
    g.device.queue.writeBuffer(gated.args, 0, new Uint32Array([3, 1, 1, 0, 0, 0]));
    runOps(g, 'test/gated-2', [gated]);
    expect(new Set(await g.readF32(y))).toEqual(new Set([3]));
    g.device.queue.writeBuffer(gated.args, 0, new Uint32Array(6));
    runOps(g, 'test/gated-3', [gated]);
    expect(new Set(await g.readF32(y))).toEqual(new Set([3]));
    gated.destroy();
    y.destroy();
  });
});

describe.skipIf(!gpu)('line-search gate', () => {
  it.each([
    { name: 'the usual trust region', seed: 1, nEnvs: 8, K: 6, maxKl: 0.01, iterations: 6, expectSkips: true },
    // The configuration of 'keeps θ_old when every candidate leaves the trust region'.
    { name: 'a first step no candidate fits', seed: 3, nEnvs: 4, K: 3, maxKl: 1e-9, iterations: 1, expectSkips: false },
  ])('skips the other candidates exactly when the host rule accepts candidate 0 ($name)', async ({ seed, nEnvs, K, maxKl, iterations, expectSkips }) => {
    const g = gpu!;
    const t = await Trainer.create('trpo', {
      env: 'CartPole-v1',
      seed,
      gpu: g,
      config: { nEnvs, nSteps: 64, vfBatchSize: 64, lineSearchSteps: K, maxKl },
    });
    const cfg: TRPOConfig = t.config;
    // The line search's ops are the same every iteration: any plan's phase serves.
    const lineSearchOps = () => t.lastIterationPlan!.update.find((p) => p.label === 'line-search')!.ops;
    const internals = { stats: t.algorithm.stats };
    let skipped = 0;
    for (let i = 0; i < iterations; i++) {
      const m = await t.iterate();
      const rest = lineSearchOps().find((op): op is GatedOps => op instanceof GatedOps)!;
      expect(rest).toBeDefined();
      const s = await g.readF32(internals.stats);
      const before = s[stat('ADV_MEAN')]! + cfg.entCoef * s[stat('ENTROPY')]!;
      if (s[stat('LS_SKIPPED')] === 1) {
        skipped += 1;
        expect(m.accepted).toBe(true);
        expect(m.backtracks).toBe(0);
        for (let c = 1; c < K; c++) {
          expect(s[CAND_BASE + c]).toBeNaN();
          expect(s[CAND_BASE + K + c]).toBeNaN();
        }
        // Evaluate the skipped candidates after all: the host rule over all of them picks 0 too.
        g.submit('test/ungate', (enc) => enc.copyBufferToBuffer(rest.counts, 0, rest.args, 0, rest.counts.size));
        runOps(g, 'test/rest', [rest]);
        const full = await g.readF32(internals.stats);
        full[stat('LS_SKIPPED')] = 0;
        for (let c = 0; c < 2 * K; c++) expect(Number.isFinite(full[CAND_BASE + c]!)).toBe(true);
        expect(lineSearch(full, cfg, before).accepted).toBe(0);
      } else {
        expect(s[stat('LS_SKIPPED')]).toBe(0);
        // Every candidate was evaluated, and the host rule does not take candidate 0.
        for (let c = 0; c < 2 * K; c++) expect(Number.isFinite(s[CAND_BASE + c]!)).toBe(true);
        expect(lineSearch(s, cfg, before).accepted).not.toBe(0);
        if (m.accepted) expect(m.backtracks).toBeGreaterThan(0);
      }
    }
    if (expectSkips) expect(skipped).toBeGreaterThan(0);
    else expect(skipped).toBe(0);
    t.destroy();
  });
});
