import { StructLayout } from '../gpu/index.js';

/**
 * Uniforms of every MLP dispatch (one buffer per dispatch, written when the op is built); a kernel
 * reads only the fields it needs and the rest are 0. Offsets and strides are in f32 elements.
 */
export const MlpParams = new StructLayout('MlpParams', [
  ['batch', 'u32'],
  // The layer's matrix is [outDim][inDim] (for the backward deltas: the transposed view).
  ['inDim', 'u32'],
  ['outDim', 'u32'],
  // Workgroups covering one set's samples, and in total (spare workgroups of a 2-D grid exit).
  ['groupsPerSet', 'u32'],
  ['groups', 'u32'],
  // The layer's W and b (in theta; in the parameter layout for mlp_backward_params).
  ['wBase', 'u32'],
  ['bBase', 'u32'],
  ['paramStride', 'u32'],
  // The layer's Ẇ and ḃ in the tangent (JVP).
  ['w2Base', 'u32'],
  ['b2Base', 'u32'],
  // Layer input in a sample-major scratch buffer, and its stride between sets.
  ['xBase', 'u32'],
  ['xSetStride', 'u32'],
  // Activations read from acts: the layer input (JVP, gradients) and the layer output (tanh').
  ['hBase', 'u32'],
  ['h2Base', 'u32'],
  // Layer output in a sample-major scratch buffer (or 0 for a user buffer).
  ['yBase', 'u32'],
  ['ySetStride', 'u32'],
  // Parameter gradients: samples per chunk, chunks, tiles of the layer's [W | b]. The stationary
  // kernels (backends/subgroup8/stationary.ts) read chunks as the batch's slices per set and rowBlocks as their
  // blocks of 8·R rows.
  ['chunkLen', 'u32'],
  ['chunks', 'u32'],
  ['paramCount', 'u32'],
  ['outBase', 'u32'],
  ['colBlocks', 'u32'],
  ['rowBlocks', 'u32'],
] as const);

/**
 * Binding tables of the MLP kernels, one per op family; the per-invocation, subgroup and
 * weight-stationary kernels of a family share it (binding i is the i-th entry).
 */
export const MLP_BINDINGS = {
  forward: [
    ['p', 'uniform'],
    ['theta', 'read-only-storage'],
    ['input', 'read-only-storage'],
    ['acts', 'storage'],
    ['output', 'storage'],
  ],
  jvp: [
    ['p', 'uniform'],
    ['theta', 'read-only-storage'],
    ['tangent', 'read-only-storage'],
    ['input', 'read-only-storage'],
    ['acts', 'read-only-storage'],
    ['dacts', 'storage'],
    ['outputTangent', 'storage'],
  ],
  // Backward deltas, parameter gradients and the sum of the gradient's chunks.
  backward: [
    ['p', 'uniform'],
    ['theta', 'read-only-storage'],
    ['input', 'read-only-storage'],
    ['gradOutput', 'read-only-storage'],
    ['acts', 'read-only-storage'],
    ['deltas', 'storage'],
    ['result', 'storage'],
  ],
} as const;
