/** Loader for the recorded Gymnasium trajectories (see the golden data's README). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenStep {
  action: number | number[];
  next_obs: number[];
  next_state: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

export interface GoldenEpisode {
  seed: number;
  initial_obs: number[];
  initial_state: number[];
  steps: GoldenStep[];
  num_steps: number;
  ended_by: string;
  terminated_at_step: number | null;
  truncated_at_step: number | null;
  controller?: string;
}

export interface GoldenFile {
  env_id: string;
  constants: Record<string, unknown>;
  observation_space: { type: 'Box'; shape: number[]; low: Array<number | string>; high: Array<number | string> };
  action_space: { type: 'Discrete'; n: number; start: number } | { type: 'Box'; shape: number[]; low: number[]; high: number[] };
  obs_layout: string[];
  state_layout: string[];
  trajectories: GoldenEpisode[];
  controller_episodes: GoldenEpisode[];
}

/** The golden directory: $GOLDEN_DIR, else ../shared/golden next to the repository. */
export const GOLDEN_DIR =
  process.env.GOLDEN_DIR ?? fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

export function hasGolden(envId: string): boolean {
  return existsSync(`${GOLDEN_DIR}/${envId}.json`);
}

export function loadGolden(envId: string): GoldenFile {
  return JSON.parse(readFileSync(`${GOLDEN_DIR}/${envId}.json`, 'utf8')) as GoldenFile;
}

/** "inf" / "-inf" as written in the JSON, as numbers. */
export const parseBound = (v: number | string): number =>
  v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
