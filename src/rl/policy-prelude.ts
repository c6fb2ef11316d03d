/**
 * The WGSL every "policy in the loop" kernel (rollout, evaluation, preview) starts with: the
 * head and network constants, the RNG, the heads library, the env's step function, the
 * one-sample policy forward and policy_act. The kernel's own file follows it.
 */
import { envWgsl } from '../envs/registry.js';
import type { EnvSpec } from '../envs/spaces.js';
import type { ActorLayout } from '../nn/layout.js';
import { wgsl } from '../gpu/index.js';
import { headsWgsl } from '../dist/heads.js';
import { rngWgsl } from '../math/rng.js';
import mlpSampleWgsl from '../nn/mlp_sample.wgsl?raw';
import policyActWgsl from './policy_act.wgsl?raw';
import { headConsts, mlpConsts } from './codegen.js';

export function policyPrelude(spec: EnvSpec, actor: ActorLayout): string {
  return wgsl(
    headConsts(spec, actor),
    mlpConsts(actor.net.sizes),
    rngWgsl,
    headsWgsl,
    envWgsl(spec.id),
    mlpSampleWgsl,
    policyActWgsl,
  );
}
