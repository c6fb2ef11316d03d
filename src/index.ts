/**
 * webgpu-trpo: TRPO with every heavy step in WebGPU compute shaders, in the browser and in
 * Node.js (Dawn). The public API.
 */
export { createGpu, Gpu, NoWebGpuError, GpuError, DeviceLostError, Kernel, StructLayout, runOps, wgsl, grid1d } from './gpu/index.js';
export type { CreateGpuOptions, AdapterSummary, KernelSpec, Op } from './gpu/index.js';
export { makeVecEnv, ENV_IDS, envSpecs, getEnvSpec, envWgsl } from './envs/index.js';
export type { VecEnv, EnvId, EnvSpec } from './envs/index.js';
export { Trainer } from './trpo/trainer.js';
export type { TrainerOptions, TrainOptions, EvaluateOptions, TrainerState } from './trpo/trainer.js';
export { DEFAULT_CONFIG, resolveConfig, ConfigError, type TRPOConfig } from './trpo/config.js';
export { PRESETS, PRESET_NAMES, getPreset, presetConfig, type Preset } from './trpo/presets.js';
export type { IterationMetrics, PhaseTimes } from './trpo/metrics.js';
export type { EvaluationResult } from './trpo/evaluate.js';
export { CheckpointError } from './trpo/checkpoint.js';
export { compileValueFitAhead, compilesOnFirstDispatch, runsOnCpu } from './trpo/compile-ahead.js';
export { MlpKernels, mlpLayout, type MlpLayout } from './kernels/mlp.js';
