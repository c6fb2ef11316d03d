/**
 * Checkpoints: the algorithm's name, both networks, the value function's Adam state, counters and
 * the full config, as UTF-8 JSON with little-endian float32 arrays in base64. Everything is
 * validated (format, algorithm, env, config, shapes, finiteness) before a trainer is built from it.
 * The config is validated by the algorithm that wrote it, which the caller passes in, so this file
 * knows no algorithm.
 */
import { ConfigError } from '../errors.js';
import { checkEnvId, getEnvSpec } from '../envs/registry.js';
import type { EnvId } from '../envs/registry.js';
import { mlpLayout } from '../nn/layout.js';
import { actorFor } from './actor.js';
import type { LearnedState } from './algorithm.js';
import type { OnPolicyConfig } from './config.js';

/** Everything a trainer is rebuilt from. */
export interface TrainerState extends LearnedState {
  /** The algorithm's name (the first argument of Trainer.create). */
  algorithm: string;
  env: EnvId;
  seed: number;
  config: OnPolicyConfig;
  iteration: number;
  timesteps: number;
  totalEpisodes: number;
}

/** Validates a saved config for `algorithm` (throws ConfigError), or throws for an unknown algorithm. */
export type SavedConfigResolver = (algorithm: string, saved: unknown) => OnPolicyConfig;

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
    algorithm: s.algorithm,
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

export function decodeCheckpoint(bytes: Uint8Array, resolveSaved: SavedConfigResolver): TrainerState {
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
  // Version-1 files written before there was a second algorithm name none: they are TRPO's.
  const algorithm = doc.algorithm ?? 'trpo';
  if (typeof algorithm !== 'string') throw new CheckpointError(`checkpoint field algorithm: ${JSON.stringify(algorithm)} is not an algorithm name`);
  let env;
  let config;
  try {
    env = checkEnvId(doc.env, 'checkpoint field env');
    config = resolveSaved(algorithm, doc.config);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`checkpoint field config: ${e.message}`);
    throw new CheckpointError(String((e as Error).message));
  }
  const seed = count('seed', doc.seed);
  if (seed > 0xffffffff) throw new CheckpointError(`checkpoint field seed: ${seed} is not a 32-bit seed`);
  const spec = getEnvSpec(env);
  const P = actorFor(spec, config.policyHidden).paramCount;
  const Pv = mlpLayout([spec.obsDim, ...config.valueHidden, 1]).paramCount;
  return {
    algorithm,
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
