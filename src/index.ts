/**
 * webgpu-trpo: TRPO with every heavy step in WebGPU compute shaders, in the browser and in
 * Node.js (Dawn). The public API.
 */
export { createGpu, Gpu, NoWebGpuError, GpuError, DeviceLostError, Kernel, StructLayout, runOps, wgsl, grid1d } from './gpu/index.js';
export { compilesOnFirstDispatch, runsOnCpu } from './gpu/index.js';
export type { CreateGpuOptions, AdapterSummary, KernelSpec, Op } from './gpu/index.js';
export { makeVecEnv, ENV_IDS, envSpecs, getEnvSpec, envWgsl } from './envs/index.js';
export type { VecEnv, EnvId, EnvSpec } from './envs/index.js';
export { Trainer } from './train/trainer.js';
export type { TrainerOptions, TrainOptions, EvaluateOptions, TrainerState } from './train/trainer.js';
export { ALGORITHM_NAMES, type AlgorithmName } from './algos/index.js';
export { DEFAULT_CONFIG, resolveConfig, ConfigError, type TRPOConfig } from './algos/trpo/config.js';
export { PRESETS, PRESET_NAMES, getPreset, presetConfig, presetForEnv, type Preset } from './algos/trpo/presets.js';
export type { IterationMetrics, PhaseTimes } from './algos/trpo/metrics.js';
export type { Algorithm, AlgorithmContext, LearnedState, UpdateOutcome } from './rl/algorithm.js';
export type { IterationPlan, Phase, ReadRange, RunResult } from './rl/runner.js';
export type { EvaluationResult } from './rl/evaluate.js';
export { CheckpointError } from './rl/checkpoint.js';
export { compileValueFitAhead } from './train/compile-ahead.js';
export { pickBackend, type BackendChoice, type KernelBackend } from './nn/backend.js';
export { actorLayout, mlpLayout, type ActorLayout, type MlpLayout } from './nn/layout.js';
export { MlpKernels } from './nn/mlp.js';
