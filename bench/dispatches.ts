/**
 * Where an iteration's GPU time goes, kernel by kernel: every dispatch of the trainer's stages
 * (as its last iteration recorded them) re-run in a timestamped pass of its own, and the times
 * summed per kernel (pipeline label). A dispatch alone also pays the fixed cost a pass of many
 * dispatches shares, so the sums exceed the phase times; they say which kernels to look at. It
 * was this view that showed the policy's 64 → 2 output layer taking a quarter of FVP + CG.
 */
import type { Gpu } from '../src/gpu/index.js';
import type { EnvId } from '../src/envs/registry.js';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import { Trainer } from '../src/train/trainer.js';
import { stageOps, type Phase } from './loop.js';
import { PassTimer } from './pass-timer.js';
import { median, round, trainerOptions } from './util.js';

export interface DispatchCase {
  env: EnvId;
  preset: string;
  config: Partial<TRPOConfig>;
  /** How the case is named in the table. */
  name: string;
}

export interface KernelTime {
  stage: Phase;
  kernel: string;
  dispatches: number;
  /** Median over the repeats of the summed GPU ms of this kernel's dispatches. */
  ms: number;
}

interface Dispatch {
  stage: Phase;
  kernel: string;
  pipeline: GPUComputePipeline;
  groups: GPUBindGroup[];
  size: [number, number, number] | null;
  indirect: [GPUBuffer, number] | null;
}

/** The dispatches an op list encodes, by a stand-in pass encoder that records instead of encoding. */
function record(stage: Phase, encode: (pass: GPUComputePassEncoder) => void): Dispatch[] {
  const out: Dispatch[] = [];
  let pipeline: GPUComputePipeline | null = null;
  let groups: GPUBindGroup[] = [];
  const recorder = {
    setPipeline: (p: GPUComputePipeline) => void (pipeline = p),
    setBindGroup: (i: number, g: GPUBindGroup) => void ((groups = [...groups]), (groups[i] = g)),
    dispatchWorkgroups: (x: number, y = 1, z = 1) =>
      void out.push({ stage, kernel: pipeline!.label, pipeline: pipeline!, groups, size: [x, y, z], indirect: null }),
    dispatchWorkgroupsIndirect: (b: GPUBuffer, o: number) =>
      void out.push({ stage, kernel: pipeline!.label, pipeline: pipeline!, groups, size: null, indirect: [b, o] }),
  } as unknown as GPUComputePassEncoder;
  encode(recorder);
  return out;
}

/** Trains `warmup` iterations, then times every dispatch of the stages alone (median of `repeats`). */
export async function measureDispatches(gpu: Gpu, c: DispatchCase, opts: { warmup: number; repeats: number }): Promise<KernelTime[] | null> {
  const trainer = await Trainer.create('trpo', { ...trainerOptions, env: c.env, seed: 0, gpu, preset: c.preset, config: c.config });
  const perPass = 64;
  const timer = new PassTimer(gpu, perPass);
  try {
    for (let i = 0; i < opts.warmup; i++) await trainer.iterate();
    const stages = stageOps(trainer);
    if (!stages || !timer.hasTimestamps) return null;
    const dispatches = stages.flatMap(([stage, ops]) => record(stage, (p) => ops.forEach((op) => op.encode(p))));
    const key = (d: Dispatch) => `${d.stage}\u0000${d.kernel}`;
    const samples = new Map<string, number[]>();
    for (let r = 0; r < opts.repeats; r++) {
      const sums = new Map<string, number>();
      for (let i = 0; i < dispatches.length; i += perPass) {
        const batch = dispatches.slice(i, i + perPass);
        const { gpuMs } = await timer.run(
          'bench/dispatches',
          batch.map((d) => ({
            label: d.kernel,
            encode: (p: GPUComputePassEncoder) => {
              p.setPipeline(d.pipeline);
              d.groups.forEach((g, j) => p.setBindGroup(j, g));
              if (d.indirect) p.dispatchWorkgroupsIndirect(...d.indirect);
              else p.dispatchWorkgroups(...d.size!);
            },
          })),
        );
        batch.forEach((d, j) => sums.set(key(d), (sums.get(key(d)) ?? 0) + gpuMs![j]!));
      }
      for (const [k, v] of sums) samples.set(k, [...(samples.get(k) ?? []), v]);
    }
    return [...samples]
      .map(([k, v]) => {
        const [stage, kernel] = k.split('\u0000') as [Phase, string];
        return { stage, kernel, dispatches: dispatches.filter((d) => key(d) === k).length, ms: round(median(v))! };
      })
      .sort((a, b) => b.ms - a.ms);
  } finally {
    timer.destroy();
    trainer.destroy();
  }
}
