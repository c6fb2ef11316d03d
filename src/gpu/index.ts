export { createGpu, Gpu, type CreateGpuOptions, type AdapterSummary } from './device.js';
export { NoWebGpuError, GpuError, DeviceLostError } from './errors.js';
export { Kernel, wgsl, grid1d, checkBindings, listKernels, onKernelCreated, type KernelSpec, type BindingKind, type BindingResource } from './kernel.js';
export { StructLayout, type ScalarType } from './struct.js';
export { runOps, dispatchOp, type Op } from './op.js';
export { runsOnCpu, compilesOnFirstDispatch } from './cpu-driver.js';
export { f32Literal } from './literals.js';
