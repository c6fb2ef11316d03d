/**
 * Batched vector environments stepped on the GPU, one invocation per env, with Gymnasium's
 * TimeLimit truncation and automatic resets. The state stays on the GPU between calls;
 * each `step` is one compute submit and one readback round trip.
 */
import { Kernel, StructLayout, grid1d, wgsl, type Gpu } from '../gpu/index.js';
import { rngWgsl } from '../math/rng.js';
import vecEnvSource from './vec_env.wgsl?raw';
import { checkEnvId, envWgsl, getEnvSpec } from './registry.js';
import type { EnvSpec } from './spaces.js';
import type { EnvId } from './registry.js';

/** WGSL source text, to include in other kernels. */
export const vecEnvWgsl: string = vecEnvSource;

/** Uniforms of vec_env.wgsl. */
export const VecEnvParams = new StructLayout('VecEnvParams', [
  ['num_envs', 'u32'],
  ['seed', 'u32'],
  ['auto_reset', 'u32'],
] as const);

export interface VecEnvOptions {
  /** Number of environments stepped in parallel; a positive integer. */
  numEnvs: number;
  /** Seed of the reset RNG, an integer in [0, 2^32 - 1]. `reset(seed)` replaces it. */
  seed: number;
  /** Reset an env on the step it terminates or truncates (Gymnasium's vector envs do). Default true. */
  autoReset?: boolean;
  /** Invocations per workgroup (results do not depend on it). Default 64. */
  workgroupSize?: number;
}

/** One step of all envs; arrays are env-major (env i's obs at [i·obsDim, (i+1)·obsDim)). */
export interface VecEnvStep {
  /** Observation after this step, before any automatic reset: numEnvs × obsDim. */
  obs: Float32Array;
  /** Raw state after this step, before any automatic reset: numEnvs × stateDim. */
  state: Float32Array;
  reward: Float32Array;
  /** 1 where the env reached a terminal state on this step. */
  terminated: Uint8Array;
  /** 1 where this step reached maxEpisodeSteps since the last reset (independent of terminated). */
  truncated: Uint8Array;
  /** The observation each env acts on next: the reset observation where it was reset, else `obs`. */
  nextObs: Float32Array;
}

export interface VecEnvSnapshot {
  /** Live state (after any automatic reset): numEnvs × stateDim. */
  state: Float32Array;
  /** Steps since each env's last reset. */
  elapsedSteps: Uint32Array;
  /** Resets done per env since `reset(seed)` (or creation); env i's next reset uses this count. */
  episodeCounts: Uint32Array;
}

/** Actions: numEnvs × actionDim numbers; Discrete actions are integer indices. */
export type VecEnvActions = ArrayLike<number>;

type Binding = 'params' | 'env_state' | 'env_elapsed' | 'env_episodes' | 'actions' | 'out_f32' | 'out_flags';

const BINDINGS = [
  ['params', 'uniform'],
  ['env_state', 'storage'],
  ['env_elapsed', 'storage'],
  ['env_episodes', 'storage'],
  ['actions', 'read-only-storage'],
  ['out_f32', 'storage'],
  ['out_flags', 'storage'],
] as const satisfies ReadonlyArray<readonly [Binding, 'uniform' | 'storage' | 'read-only-storage']>;

/** Unwritten outputs read back as these, so a kernel that skips an element cannot pass for correct. */
const POISON_F32 = Number.NaN;
const POISON_FLAG = 0xffffffff;

function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return Object.prototype.toString.call(v);
}

function checkU32(where: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`${where}: ${field} must be an integer in [0, 4294967295]; got ${show(v)}`);
  }
  return v;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { length?: unknown }).length === 'number'
  );
}

function checkLength(where: string, field: string, v: unknown, expected: string, n: number): ArrayLike<unknown> {
  if (!isArrayLike(v)) throw new TypeError(`${where}: ${field} must be an array or typed array of ${expected} = ${n} numbers; got ${show(v)}`);
  if (v.length !== n) throw new RangeError(`${where}: ${field} must have length ${expected} = ${n}; got length ${v.length}`);
  return v;
}

function spaceText(spec: EnvSpec): string {
  const s = spec.actionSpace;
  if (s.type === 'Discrete') return `Discrete(${s.n})`;
  return `Box(${s.low.join(',')}, ${s.high.join(',')}, (${s.shape.join(',')}))`;
}

/** Makes `numEnvs` copies of env `id` on `gpu`. Synchronous; call `reset()` or `setState()` before `step()`. */
export function makeVecEnv(gpu: Gpu, id: EnvId, options: VecEnvOptions): VecEnv {
  const where = 'makeVecEnv';
  checkEnvId(id, `${where} id`);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: options must be an object { numEnvs, seed, autoReset? }; got ${show(options)}`);
  }
  const { numEnvs, seed, autoReset = true, workgroupSize = 64 } = options;
  if (typeof numEnvs !== 'number' || !Number.isInteger(numEnvs) || numEnvs < 1) {
    throw new RangeError(`${where}: numEnvs must be a positive integer; got ${show(numEnvs)}`);
  }
  checkU32(where, 'seed', seed);
  if (typeof autoReset !== 'boolean') {
    throw new TypeError(`${where}: autoReset must be true or false; got ${show(autoReset)}`);
  }
  const maxWg = gpu.limits.maxComputeInvocationsPerWorkgroup;
  if (!Number.isInteger(workgroupSize) || workgroupSize < 1 || workgroupSize > Math.min(maxWg, gpu.limits.maxComputeWorkgroupSizeX)) {
    throw new RangeError(`${where}: workgroupSize must be an integer in [1, ${Math.min(maxWg, gpu.limits.maxComputeWorkgroupSizeX)}]; got ${show(workgroupSize)}`);
  }
  const spec = getEnvSpec(id);
  const outBytes = 4 * numEnvs * (2 * spec.obsDim + spec.stateDim + 1);
  const maxBinding = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  if (outBytes > maxBinding) {
    throw new RangeError(
      `${where}: numEnvs = ${numEnvs} needs a ${outBytes}-byte output buffer, over this device's limit of ${maxBinding} bytes`,
    );
  }
  const maxGroups = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(numEnvs / workgroupSize) > maxGroups * maxGroups) {
    throw new RangeError(`${where}: numEnvs = ${numEnvs} is more than one dispatch can cover with workgroupSize ${workgroupSize}`);
  }
  return new VecEnv(gpu, spec, numEnvs, seed, autoReset, workgroupSize);
}

export class VecEnv {
  readonly spec: EnvSpec;
  readonly numEnvs: number;
  readonly autoReset: boolean;
  private seedValue: number;
  private ready = false;
  private destroyed = false;
  private readonly label: string;
  private readonly params: GPUBuffer;
  private readonly state: GPUBuffer;
  private readonly elapsed: GPUBuffer;
  private readonly episodes: GPUBuffer;
  private readonly actions: GPUBuffer;
  private readonly outF32: GPUBuffer;
  private readonly outFlags: GPUBuffer;
  private readonly stepKernel: Kernel<Binding>;
  private readonly resetKernel: Kernel<Binding>;
  private readonly stepGroup: GPUBindGroup;
  private readonly resetGroup: GPUBindGroup;
  private readonly grid: [number, number];
  /** Offsets (in floats) of the sections of out_f32. */
  private readonly sections: { obs: number; state: number; reward: number; nextObs: number; end: number };

  /** Use {@link makeVecEnv}, which validates the options. */
  constructor(
    private readonly gpu: Gpu,
    spec: EnvSpec,
    numEnvs: number,
    seed: number,
    autoReset: boolean,
    workgroupSize: number,
  ) {
    this.spec = spec;
    this.numEnvs = numEnvs;
    this.autoReset = autoReset;
    this.seedValue = seed;
    const n = numEnvs;
    const { obsDim, stateDim, actionDim } = spec;
    this.label = `vec-env/${spec.id}`;
    const L = this.label;
    this.sections = {
      obs: 0,
      state: n * obsDim,
      reward: n * (obsDim + stateDim),
      nextObs: n * (obsDim + stateDim + 1),
      end: n * (2 * obsDim + stateDim + 1),
    };
    const code = wgsl(VecEnvParams.wgsl(), rngWgsl, envWgsl(spec.id), vecEnvWgsl);
    const kernelSpec = (entryPoint: string) => ({
      label: L,
      entryPoint,
      bindings: BINDINGS,
      code,
      constants: { WG: workgroupSize },
    });
    this.stepKernel = Kernel.get<Binding>(gpu, kernelSpec('vec_env_step'));
    this.resetKernel = Kernel.get<Binding>(gpu, kernelSpec('vec_env_reset'));

    this.params = gpu.uniform(`${L}/params`, this.packParams());
    this.state = gpu.upload(`${L}/state`, new Float32Array(n * stateDim).fill(POISON_F32));
    this.elapsed = gpu.upload(`${L}/elapsed`, new Uint32Array(n));
    this.episodes = gpu.upload(`${L}/episodes`, new Uint32Array(n));
    this.actions = gpu.upload(`${L}/actions`, new Float32Array(n * actionDim));
    this.outF32 = gpu.upload(`${L}/out-f32`, new Float32Array(this.sections.end).fill(POISON_F32));
    this.outFlags = gpu.upload(`${L}/out-flags`, new Uint32Array(2 * n).fill(POISON_FLAG));
    const resources = {
      params: this.params,
      env_state: this.state,
      env_elapsed: this.elapsed,
      env_episodes: this.episodes,
      actions: this.actions,
      out_f32: this.outF32,
      out_flags: this.outFlags,
    };
    this.stepGroup = this.stepKernel.bind(resources, `${L}/step`);
    this.resetGroup = this.resetKernel.bind(resources, `${L}/reset`);
    this.grid = grid1d(n, workgroupSize, gpu.limits.maxComputeWorkgroupsPerDimension);
  }

  /** The seed resets currently draw from. */
  get seed(): number {
    return this.seedValue;
  }

  private packParams(): ArrayBuffer {
    return VecEnvParams.pack({ num_envs: this.numEnvs, seed: this.seedValue, auto_reset: this.autoReset ? 1 : 0 });
  }

  private checkAlive(where: string): void {
    if (this.destroyed) throw new Error(`${where}: this VecEnv was destroyed`);
  }

  private dispatch(kernel: Kernel<Binding>, group: GPUBindGroup, what: string): void {
    const label = `${this.label}/${what}`;
    this.gpu.submit(label, (enc) => {
      const pass = enc.beginComputePass({ label });
      kernel.dispatch(pass, group, this.grid[0], this.grid[1]);
      pass.end();
    });
  }

  /**
   * Resets every env and resolves to the initial observations (numEnvs × obsDim).
   * With `seed`, the seed is replaced and episode counts restart at 0, so the same seed gives
   * the same initial states; without it, each env draws its next, unused reset.
   * Env i's reset number e uses rng key (seed, i) and counter (e · resetCounters, 1).
   */
  reset(seed?: number): Promise<Float32Array> {
    const where = 'reset';
    this.checkAlive(where);
    if (seed !== undefined) {
      checkU32(where, 'seed', seed);
      this.seedValue = seed;
      const q = this.gpu.device.queue;
      q.writeBuffer(this.params, 0, this.packParams());
      q.writeBuffer(this.episodes, 0, new Uint32Array(this.numEnvs));
    }
    this.dispatch(this.resetKernel, this.resetGroup, 'reset');
    this.ready = true;
    const { nextObs } = this.sections;
    return this.gpu
      .readRanges([{ buffer: this.outF32, offset: 4 * nextObs, size: 4 * this.numEnvs * this.spec.obsDim }])
      .then(([b]) => new Float32Array(b!));
  }

  /**
   * Sets the raw physics state of every env (numEnvs × stateDim, Gymnasium's state layout; values
   * are rounded to f32) and the steps since reset (default 0). Episode counts are kept.
   */
  setState(states: Float32Array | Float64Array | number[], elapsedSteps?: ArrayLike<number>): void {
    const where = 'setState';
    this.checkAlive(where);
    const { stateDim, maxEpisodeSteps, stateLayout } = this.spec;
    const n = this.numEnvs;
    const src = checkLength(where, 'states', states, `numEnvs × stateDim = ${n} × ${stateDim}`, n * stateDim);
    const s = new Float32Array(n * stateDim);
    for (let k = 0; k < s.length; k++) {
      const v = src[k];
      const f = typeof v === 'number' ? Math.fround(v) : Number.NaN;
      if (!Number.isFinite(f)) {
        throw new RangeError(
          `${where}: states[${k}] (env ${Math.floor(k / stateDim)}, ${stateLayout[k % stateDim]}) must be a finite number within float32 range; got ${show(v)}`,
        );
      }
      s[k] = f;
    }
    const e = new Uint32Array(n);
    if (elapsedSteps !== undefined) {
      const el = checkLength(where, 'elapsedSteps', elapsedSteps, 'numEnvs', n);
      for (let i = 0; i < n; i++) {
        const v = el[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= maxEpisodeSteps) {
          throw new RangeError(
            `${where}: elapsedSteps[${i}] must be an integer in [0, ${maxEpisodeSteps - 1}] (steps since reset; maxEpisodeSteps = ${maxEpisodeSteps}); got ${show(v)}`,
          );
        }
        e[i] = v;
      }
    }
    const q = this.gpu.device.queue;
    q.writeBuffer(this.state, 0, s);
    q.writeBuffer(this.elapsed, 0, e);
    this.ready = true;
  }

  /**
   * Steps every env once with `actions` (numEnvs × actionDim). Discrete actions must be integer
   * indices in [0, n); Box actions any finite numbers (clipped to the bounds inside the step).
   * Invalid input throws synchronously, before any GPU work.
   */
  step(actions: VecEnvActions): Promise<VecEnvStep> {
    const where = 'step';
    this.checkAlive(where);
    if (!this.ready) throw new Error(`${where}: call reset() or setState() before the first step()`);
    const { actionDim, actionSpace } = this.spec;
    const n = this.numEnvs;
    const src = checkLength(where, 'actions', actions, `numEnvs × actionDim = ${n} × ${actionDim}`, n * actionDim);
    const a = new Float32Array(n * actionDim);
    for (let k = 0; k < a.length; k++) {
      const v = src[k];
      if (actionSpace.type === 'Discrete') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= actionSpace.n) {
          throw new RangeError(
            `${where}: actions[${k}] must be an integer in [0, ${actionSpace.n - 1}] (${spaceText(this.spec)}); got ${show(v)}`,
          );
        }
        a[k] = v;
      } else {
        const f = typeof v === 'number' ? Math.fround(v) : Number.NaN;
        if (!Number.isFinite(f)) {
          throw new RangeError(
            `${where}: actions[${k}] must be a finite number (${spaceText(this.spec)}; out-of-range values are clipped); got ${show(v)}`,
          );
        }
        a[k] = f;
      }
    }
    this.gpu.device.queue.writeBuffer(this.actions, 0, a);
    this.dispatch(this.stepKernel, this.stepGroup, 'step');
    const sec = this.sections;
    return this.gpu
      .readRanges([
        { buffer: this.outF32, offset: 0, size: 4 * sec.end },
        { buffer: this.outFlags, offset: 0, size: 8 * n },
      ])
      .then(([f, u]) => {
        const flags = new Uint32Array(u!);
        const { obsDim, stateDim } = this.spec;
        return {
          obs: new Float32Array(f!, 4 * sec.obs, n * obsDim),
          state: new Float32Array(f!, 4 * sec.state, n * stateDim),
          reward: new Float32Array(f!, 4 * sec.reward, n),
          terminated: Uint8Array.from(flags.subarray(0, n)),
          truncated: Uint8Array.from(flags.subarray(n, 2 * n)),
          nextObs: new Float32Array(f!, 4 * sec.nextObs, n * obsDim),
        };
      });
  }

  /** Reads the live state, steps since reset and episode counts (one round trip). */
  async getState(): Promise<VecEnvSnapshot> {
    this.checkAlive('getState');
    const [s, e, c] = await this.gpu.readRanges([{ buffer: this.state }, { buffer: this.elapsed }, { buffer: this.episodes }]);
    const n = this.numEnvs;
    return {
      state: new Float32Array(s!, 0, n * this.spec.stateDim),
      elapsedSteps: new Uint32Array(e!, 0, n),
      episodeCounts: new Uint32Array(c!, 0, n),
    };
  }

  /** Frees the GPU buffers. Safe to call twice; any later call throws. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.params, this.state, this.elapsed, this.episodes, this.actions, this.outF32, this.outFlags]) b.destroy();
  }
}
