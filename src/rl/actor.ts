/** The actor layout of an environment's policy: its head follows the env's action space. */
import type { EnvSpec } from '../envs/spaces.js';
import { actorLayout, type ActorHead, type ActorLayout } from '../nn/layout.js';

export function actorHead(spec: EnvSpec): ActorHead {
  return spec.actionSpace.type === 'Discrete'
    ? { kind: 'categorical', actions: spec.actionSpace.n }
    : { kind: 'gaussian', actionDim: spec.actionDim };
}

/** The policy network [obsDim, ...hidden, headDim] and, for continuous actions, its log-std. */
export function actorFor(spec: EnvSpec, hidden: readonly number[]): ActorLayout {
  return actorLayout(spec.obsDim, hidden, actorHead(spec));
}
