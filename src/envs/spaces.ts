/** Spaces and env specs, described as Gymnasium describes them. */

/** `gymnasium.spaces.Discrete(n)`: actions 0, 1, ..., n - 1. */
export interface DiscreteSpace {
  readonly type: 'Discrete';
  readonly n: number;
}

/** `gymnasium.spaces.Box(low, high, shape, float32)`; bounds are per element, ±Infinity when unbounded. */
export interface BoxSpace {
  readonly type: 'Box';
  readonly shape: readonly number[];
  readonly low: readonly number[];
  readonly high: readonly number[];
  readonly dtype: 'float32';
}

export type Space = DiscreteSpace | BoxSpace;

export interface EnvSpec {
  /** Gymnasium's id, e.g. 'CartPole-v1'; the registry's key. */
  readonly id: string;
  /** Floats per observation (the policy input). */
  readonly obsDim: number;
  /** Floats per raw physics state, in Gymnasium's `env.unwrapped.state` layout. */
  readonly stateDim: number;
  /** Floats per action in the action buffers: 1 for Discrete (the index as f32), else the Box size. */
  readonly actionDim: number;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: Space;
  /** Gymnasium's TimeLimit: `truncated` is set on the step whose 1-based index reaches this. */
  readonly maxEpisodeSteps: number;
  /** Gymnasium's `spec.reward_threshold` (mean episode return counted as solved), if any. */
  readonly rewardThreshold?: number;
  /** Names of the state components, in order. */
  readonly stateLayout: readonly string[];
  /** Names of the observation components, in order. */
  readonly obsLayout: readonly string[];
  /**
   * Consecutive RNG counter values that `env_reset` reads (counter, counter + (1, 0), ...).
   * Successive resets of one env must use counters this far apart.
   */
  readonly resetCounters: number;
}

/** A float32 Box with the given per-element bounds (bounds rounded to float32, as Gymnasium stores them). */
export function box(low: readonly number[], high: readonly number[]): BoxSpace {
  if (low.length !== high.length) throw new Error('box: low and high must have the same length');
  return {
    type: 'Box',
    shape: [low.length],
    low: low.map((v) => Math.fround(v)),
    high: high.map((v) => Math.fround(v)),
    dtype: 'float32',
  };
}

/** One environment: its spec and its WGSL (the interface constants, EnvStep, env_reset, env_observe, env_step). */
export interface EnvDefinition {
  readonly spec: EnvSpec;
  readonly wgsl: string;
}
