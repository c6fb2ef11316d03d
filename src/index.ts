/**
 * webgpu-trpo: TRPO with every heavy step in WebGPU compute shaders, in the browser and in
 * Node.js (Dawn). The public API.
 */
export { createGpu, Gpu, NoWebGpuError, GpuError, DeviceLostError, Kernel, StructLayout, runOps, wgsl, grid1d } from './gpu/index.js';
export type { CreateGpuOptions, AdapterSummary, KernelSpec, Op } from './gpu/index.js';
export { makeVecEnv, ENV_IDS, envSpecs, getEnvSpec, envWgsl } from './envs/index.js';
export type { VecEnv, EnvId, EnvSpec } from './envs/index.js';
export { Trainer } from './train/trainer.js';
export type { TrainerOptions, TrainOptions, EvaluateOptions, TrainerState } from './train/trainer.js';
export { DEFAULT_CONFIG, resolveConfig, ConfigError, type TRPOConfig } from './algos/trpo/config.js';
export { PRESETS, PRESET_NAMES, getPreset, presetConfig, type Preset } from './algos/trpo/presets.js';
export type { IterationMetrics, PhaseTimes } from './algos/trpo/metrics.js';
export type { EvaluationResult } from './rl/evaluate.js';
export { CheckpointError } from './rl/checkpoint.js';
export { compileValueFitAhead, compilesOnFirstDispatch, runsOnCpu } from './train/compile-ahead.js';
export { MlpKernels, mlpLayout, type MlpLayout } from './nn/mlp.js';
