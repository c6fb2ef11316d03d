/**
 * The one place that decides which kernels a device runs.
 *
 * - `generic`: per-invocation kernels that run on any WebGPU device. Where the device has the
 *   `subgroups` feature with subgroups of 8 to 64 lanes, the dense layers share each weight load
 *   across 8 lanes with subgroupBroadcast (the `*_sg.wgsl` entry points); elsewhere every lane
 *   loads its own. Both compute the same sums in the same order.
 * - `subgroup8`: where subgroups are exactly 8 lanes wide (a CPU Vulkan driver's SIMD vector, e.g.
 *   Mesa's lavapipe), kernels generated per shape keep weights in the lanes of a subgroup for a
 *   whole dispatch (backends/subgroup8/). Layers or networks they do not fit fall back to the
 *   generic kernels, so a subgroup8 backend always includes the generic one.
 *
 * Real GPUs (subgroups of 32 or 64) get `generic` with subgroup sharing; nothing of subgroup8 may
 * leak into that path, which is why every caller asks here instead of testing sizes itself.
 */
import type { Gpu } from '../gpu/index.js';

/** What the caller asks for: the device's best, or the generic kernels with or without subgroups. */
export type BackendChoice = 'auto' | 'generic' | 'generic-no-subgroups';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'generic', 'generic-no-subgroups'];

export interface KernelBackend {
  readonly name: 'generic' | 'subgroup8';
  /**
   * Subgroup sizes the kernels may rely on (the generic kernels' subgroup sharing, and all of
   * subgroup8), or null where they use no subgroup operation.
   */
  readonly subgroups: { readonly min: number; readonly max: number } | null;
}

/** Lanes of the subgroup8 backend: one subgroup of exactly this many lanes per workgroup. */
export const SUBGROUP8_LANES = 8;
/** The generic kernels' subgroup sharing hands loads among groups of this many lanes. */
const SHARE_LANES = 8;
/** Widest subgroup the generic kernels' workgroups are laid out for. */
const MAX_SHARE_SUBGROUP = 64;

/** Picks the backend for `gpu`; `choice` can only take capabilities away, never add them. */
export function pickBackend(gpu: Gpu, choice: BackendChoice = 'auto'): KernelBackend {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`kernel backend: ${JSON.stringify(choice)} is not one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const sg = gpu.subgroups;
  // An unknown size (0) is not trusted; subgroups narrower than the sharing group cannot share.
  const shares = choice !== 'generic-no-subgroups' && sg !== null && sg.min >= SHARE_LANES && sg.max <= MAX_SHARE_SUBGROUP;
  if (!shares) return { name: 'generic', subgroups: null };
  const lanes8 = sg.min === SUBGROUP8_LANES && sg.max === SUBGROUP8_LANES;
  return { name: choice === 'auto' && lanes8 ? 'subgroup8' : 'generic', subgroups: { min: sg.min, max: sg.max } };
}

/**
 * The backend a kernel family can use with workgroups of `workgroupSize` invocations: subgroup
 * operations need whole subgroups in a workgroup, so a smaller workgroup runs without them.
 */
export function backendForWorkgroup(backend: KernelBackend, workgroupSize: number): KernelBackend {
  if (backend.subgroups === null || backend.subgroups.max <= workgroupSize) return backend;
  return { name: 'generic', subgroups: null };
}
