/** The one backend choice (src/nn/backend.ts), the actor layout and the episode tracker: no GPU needed. */
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../src/gpu/index.js';
import { backendForWorkgroup, pickBackend } from '../src/nn/backend.js';
import { actorLayout, mlpLayout } from '../src/nn/layout.js';
import { actorFor } from '../src/rl/actor.js';
import { EpisodeTracker, episodeSummary } from '../src/rl/episodes.js';
import { getEnvSpec } from '../src/envs/registry.js';

const fakeGpu = (subgroups: { min: number; max: number } | null) => ({ subgroups }) as unknown as Gpu;

describe('pickBackend', () => {
  it.each([
    // [device subgroups, choice, backend name, subgroups kept]
    [{ min: 8, max: 8 }, 'auto', 'subgroup8', true],
    [{ min: 8, max: 8 }, 'generic', 'generic', true],
    [{ min: 8, max: 8 }, 'generic-no-subgroups', 'generic', false],
    [{ min: 32, max: 32 }, 'auto', 'generic', true],
    [{ min: 32, max: 64 }, 'auto', 'generic', true],
    [{ min: 4, max: 128 }, 'auto', 'generic', false],
    [{ min: 4, max: 4 }, 'auto', 'generic', false],
    [{ min: 0, max: 0 }, 'auto', 'generic', false],
    [{ min: 8, max: 16 }, 'auto', 'generic', true],
    [null, 'auto', 'generic', false],
  ] as const)('subgroups %j, %s: %s (subgroups %s)', (sg, choice, name, keeps) => {
    const b = pickBackend(fakeGpu(sg), choice);
    expect(b.name).toBe(name);
    expect(b.subgroups !== null).toBe(keeps);
  });
  it('never gives a real GPU (subgroups of 32 or 64) the CPU driver kernels', () => {
    for (const max of [16, 32, 64]) expect(pickBackend(fakeGpu({ min: max, max })).name).toBe('generic');
  });
  it('rejects an unknown choice, naming the allowed ones', () => {
    expect(() => pickBackend(fakeGpu(null), 'fast' as never)).toThrow(/"fast" is not one of auto, generic, generic-no-subgroups/);
  });
  it('drops subgroup operations for a workgroup narrower than the subgroup', () => {
    const b = pickBackend(fakeGpu({ min: 8, max: 8 }));
    expect(backendForWorkgroup(b, 8)).toBe(b);
    expect(backendForWorkgroup(b, 4)).toEqual({ name: 'generic', subgroups: null });
  });
});

describe('actorLayout', () => {
  it('categorical: logits only, no log-std', () => {
    const a = actorLayout(4, [64, 64], { kind: 'categorical', actions: 2 });
    expect(a.net.sizes).toEqual([4, 64, 64, 2]);
    expect(a.headDim).toBe(2);
    expect(a.paramCount).toBe(mlpLayout([4, 64, 64, 2]).paramCount);
    expect(a.logStdOffset).toBe(a.paramCount);
  });
  it('gaussian: the mean, then one log-std per action dimension', () => {
    const a = actorLayout(3, [7], { kind: 'gaussian', actionDim: 2 });
    const net = mlpLayout([3, 7, 2]).paramCount;
    expect(a.logStdOffset).toBe(net);
    expect(a.paramCount).toBe(net + 2);
  });
  it('follows the env action space', () => {
    expect(actorFor(getEnvSpec('CartPole-v1'), [8]).head).toBe('categorical');
    const p = actorFor(getEnvSpec('Pendulum-v1'), [8]);
    expect([p.head, p.headDim, p.paramCount]).toEqual(['gaussian', 1, (3 * 8 + 8) + (8 + 1) + 1]);
  });
});

describe('EpisodeTracker', () => {
  const log = (entries: Array<[number, number]>, count = entries.length) => {
    const b = new ArrayBuffer(16 + 8 * Math.max(entries.length, 1));
    new Uint32Array(b, 0, 1)[0] = count;
    const f = new Float32Array(b, 16);
    entries.forEach(([r, l], i) => ((f[2 * i] = r), (f[2 * i + 1] = l)));
    return b;
  };
  it('counts episodes, caps at the capacity and keeps a rolling window', () => {
    const t = new EpisodeTracker(3);
    expect(t.rollingReturnMean).toBeNull();
    expect(t.record(log([[1, 10], [2, 20]]), 8)).toEqual({ count: 2, returns: [1, 2], lengths: [10, 20] });
    // A count past the capacity (the GPU counted episodes it had no room for) reads only what fits.
    expect(t.record(log([[3, 30], [5, 50]], 9), 2).count).toBe(2);
    expect(t.totalEpisodes).toBe(4);
    expect(t.rollingReturnMean).toBeCloseTo((2 + 3 + 5) / 3, 6);
  });
  it('summarizes an iteration (null without episodes)', () => {
    expect(episodeSummary([], []).episodeReturnMean).toBeNull();
    const s = episodeSummary([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect([s.episodeReturnMean, s.episodeReturnP10, s.episodeReturnP90, s.episodeLengthMean]).toEqual([50, 10, 90, 1]);
  });
});
