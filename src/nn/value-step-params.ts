/** Uniforms of the value fit's minibatch step (backends/generic/value_step.wgsl, backends/subgroup8/value-step.ts). */
import { StructLayout } from '../gpu/index.js';

export const ValueStepParams = new StructLayout('ValueStepParams', [
  ['batch', 'u32'],
  ['obsDim', 'u32'],
  ['layerCount', 'u32'],
  ['chunks', 'u32'],
  // Samples per chunk of the weight-stationary kernel (value_grad's are WG·S, a constant).
  ['chunkSize', 'u32'],
  ['paramCount', 'u32'],
  // Features of the network (input, hidden, output): the rows of a chunk's activations.
  ['features', 'u32'],
  ['deltaBase', 'u32'],
  // Where the chunks' gradients start: a float offset in value_step.wgsl's scratch, a vec4
  // offset in the weight-stationary kernel's acts (backends/subgroup8/value-step.ts), as replicaBase.
  ['partialBase', 'u32'],
  ['replicaBase', 'u32'],
  ['lr', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  // Minibatch steps one dispatch of the weight-stationary kernel takes, one after the other (1
  // where a minibatch is split across workgroups, which cannot wait for each other).
  ['steps', 'u32'],
] as const);

/** Layers the value fit's layer table holds (8 hidden layers and the output; value_step.wgsl's LayerTable has 2 rows each). */
export const VALUE_MAX_LAYERS = 9;
