/** TRPO: its config, presets and the algorithm, as the registry (src/algos/index.ts) uses them. */
export { Trpo } from './algorithm.js';
export { CONFIG_RULES, DEFAULT_CONFIG, resolveConfig, type TRPOConfig } from './config.js';
export { PRESETS, PRESET_NAMES, getPreset, presetConfig, presetForEnv, type Preset } from './presets.js';
export type { IterationMetrics, PhaseTimes, TrpoUpdateMetrics } from './metrics.js';
