/** TS twins of the WGSL envs (tests only): float64 Gymnasium equations, resets as the GPU draws them. */
import type { EnvId } from '../../../src/envs/index.js';

export interface TwinStep {
  state: number[];
  obs: number[];
  reward: number;
  terminated: boolean;
}

export interface EnvTwin {
  readonly id: EnvId;
  /** One step from state `s` with action `a` (Discrete: the index; Box: the raw, unclipped value). */
  step(s: readonly number[], a: number): TwinStep;
  observe(s: readonly number[]): number[];
  /** The reset state env_reset(seed, stream, (counterLo, counterHi)) computes, with f32 rounding. */
  reset(seed: number, stream: number, counterLo: number, counterHi: number): number[];
}

/** `lo + (hi - lo) * u` rounded as the WGSL does it in f32 (product, then sum). */
export const f32Affine = (lo: number, width: number, u: number): number =>
  Math.fround(Math.fround(lo) + Math.fround(Math.fround(width) * u));
