/** Loader for the recorded Gymnasium trajectories in test/fixtures/golden/ (see its README). */
import { readFileSync } from 'node:fs';
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

/** The golden data, kept in the repository: test/fixtures/golden/. */
export const GOLDEN_DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));

/** Reads and parses `<envId>.json`; a missing or unparsable file throws (the tests never skip for it). */
export function loadGolden(envId: string): GoldenFile {
  const path = `${GOLDEN_DIR}${envId}.json`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`golden data for ${envId} missing: cannot read ${path}`, { cause: e });
  }
  return JSON.parse(text) as GoldenFile;
}

/** "inf" / "-inf" as written in the JSON, as numbers. */
export const parseBound = (v: number | string): number =>
  v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
