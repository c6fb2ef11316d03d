/**
 * Checkpoints: both networks, the value function's Adam state, counters and the full config, as
 * UTF-8 JSON with little-endian float32 arrays in base64. Everything is validated (format, env,
 * config, shapes, finiteness) before a trainer is built from it.
 */
import { checkEnvId } from '../envs/registry.js';
import { mlpLayout } from '../nn/mlp.js';
import { getEnvSpec } from '../envs/registry.js';
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from '../algos/trpo/config.js';
import type { TrainerState } from '../train/trainer.js';

export const CHECKPOINT_FORMAT = 'webgpu-trpo-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** A checkpoint that cannot be used; says which field is wrong and why. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

function toBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(field: string, s: unknown, expected: number): Float32Array {
  if (typeof s !== 'string') throw new CheckpointError(`checkpoint field ${field}: expected base64 text, got ${typeof s}`);
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new CheckpointError(`checkpoint field ${field}: not valid base64`);
  }
  if (bin.length !== expected * 4) {
    throw new CheckpointError(`checkpoint field ${field}: ${bin.length} bytes, the config and env need ${expected} floats (${expected * 4} bytes)`);
  }
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const a = new Float32Array(bytes.buffer);
  const bad = a.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CheckpointError(`checkpoint field ${field}: element ${bad} is ${a[bad]} (must be finite)`);
  return a;
}

export function encodeCheckpoint(s: TrainerState): Uint8Array {
  const doc = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    env: s.env,
    seed: s.seed,
    config: s.config,
    iteration: s.iteration,
    timesteps: s.timesteps,
    totalEpisodes: s.totalEpisodes,
    adamStep: s.adamStep,
    policy: toBase64(s.policy),
    value: toBase64(s.value),
    adamMoments: toBase64(s.adamMoments),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

function count(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new CheckpointError(`checkpoint field ${field}: ${String(v)} is not a non-negative integer`);
  }
  return v;
}

export function decodeCheckpoint(bytes: Uint8Array): TrainerState {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new CheckpointError('checkpoint: not a webgpu-trpo checkpoint (not UTF-8 JSON)');
  }
  if (doc === null || typeof doc !== 'object' || doc.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`checkpoint: not a webgpu-trpo checkpoint (format must be "${CHECKPOINT_FORMAT}")`);
  }
  if (doc.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`checkpoint field version: ${String(doc.version)} (this build reads version ${CHECKPOINT_VERSION})`);
  }
  let env;
  let config;
  try {
    env = checkEnvId(doc.env, 'checkpoint field env');
    config = resolveConfig(doc.config as Record<string, never>, DEFAULT_CONFIG);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`checkpoint field config: ${e.message}`);
    throw new CheckpointError(String((e as Error).message));
  }
  const seed = count('seed', doc.seed);
  if (seed > 0xffffffff) throw new CheckpointError(`checkpoint field seed: ${seed} is not a 32-bit seed`);
  const spec = getEnvSpec(env);
  const headDim = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionDim;
  const policyMlp = mlpLayout([spec.obsDim, ...config.policyHidden, headDim]).paramCount;
  const P = policyMlp + (spec.actionSpace.type === 'Discrete' ? 0 : headDim);
  const Pv = mlpLayout([spec.obsDim, ...config.valueHidden, 1]).paramCount;
  return {
    env,
    seed,
    config,
    iteration: count('iteration', doc.iteration),
    timesteps: count('timesteps', doc.timesteps),
    totalEpisodes: count('totalEpisodes', doc.totalEpisodes),
    adamStep: count('adamStep', doc.adamStep),
    policy: fromBase64('policy', doc.policy, P),
    value: fromBase64('value', doc.value, Pv),
    adamMoments: fromBase64('adamMoments', doc.adamMoments, 2 * Pv),
  };
}
