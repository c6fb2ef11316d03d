/**
 * Short generated WGSL constant blocks that specialize the trainer's kernels to one env and one
 * network shape (the kernels themselves live in .wgsl files beside their TS). Everything here is a `const` line.
 */
import type { EnvSpec } from '../envs/spaces.js';
import type { ActorLayout } from '../nn/layout.js';
import { f32Literal } from '../gpu/index.js';

const f32 = f32Literal;

/** Policy head: IS_DISCRETE, HEAD_DIM (actions or action dims), ACTION_LOW/HIGH (clip bounds). */
export function headConsts(spec: EnvSpec, actor: ActorLayout): string {
  const discrete = actor.head === 'categorical';
  const headDim = actor.headDim;
  const low = spec.actionSpace.type === 'Box' ? spec.actionSpace.low : [0];
  const high = spec.actionSpace.type === 'Box' ? spec.actionSpace.high : [0];
  return [
    `const IS_DISCRETE: bool = ${discrete};`,
    `const HEAD_DIM: u32 = ${headDim}u;`,
    `const ACTION_LOW = array<f32, ${low.length}>(${low.map(f32).join(', ')});`,
    `const ACTION_HIGH = array<f32, ${high.length}>(${high.map(f32).join(', ')});`,
  ].join('\n');
}

/** Network shape for mlp_sample.wgsl: MLP_LAYERS, MLP_DIMS, MLP_MAX_WIDTH. */
export function mlpConsts(sizes: readonly number[]): string {
  return [
    `const MLP_LAYERS: u32 = ${sizes.length - 1}u;`,
    `const MLP_DIMS = array<u32, ${sizes.length}>(${sizes.map((s) => `${s}u`).join(', ')});`,
    `const MLP_MAX_WIDTH: u32 = ${Math.max(...sizes)}u;`,
  ].join('\n');
}

/** `const PREFIX_NAME: u32 = i;` for each name, so TS and WGSL agree on slot indices. */
export function slotConsts(prefix: string, names: readonly string[]): string {
  return names.map((n, i) => `const ${prefix}${n}: u32 = ${i}u;`).join('\n');
}
