/**
 * Device acquisition for the browser (navigator.gpu) and Node.js (Dawn via the `webgpu` package),
 * plus the error plumbing that turns uncaptured GPU errors and device loss into thrown errors.
 */
import { DeviceLostError, GpuError, NoWebGpuError } from './errors.js';
import { StagingPool } from './staging.js';
import { waitSleeping } from './wait.js';

export interface CreateGpuOptions {
  /** Passed to requestAdapter. Default: 'high-performance'. */
  powerPreference?: GPUPowerPreference;
  /** Use this GPU object instead of navigator.gpu / Dawn (e.g. a custom Dawn instance). */
  gpu?: GPU;
  /** Extra Dawn flags for Node, e.g. 'disable-dawn-features=timestamp_quantization'. */
  dawnFlags?: string[];
  /** Request the adapter's timestamp-query feature when it has one (benchmarks). Default: true. */
  timestampQuery?: boolean;
  /**
   * Request the adapter's `subgroups` feature when it has one, so kernels can share loads across a
   * subgroup (see Gpu.subgroups). Default: true.
   */
  subgroups?: boolean;
  /** Label prefix for the device. */
  label?: string;
  /**
   * While waiting for the GPU, sleep between Dawn's polls instead of letting its Node binding spin
   * a core (see wait.ts). Only has an effect with Dawn in Node. Default: true.
   */
  sleepWhileWaiting?: boolean;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'browser' when navigator.gpu was used, 'dawn-node' for the `webgpu` package. */
  backend: 'browser' | 'dawn-node' | 'custom';
}

/** Limits we request at the adapter's maximum: Dawn's defaults are far lower (see docs/DESIGN.md). */
const RAISED_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxBufferSize',
] as const;

/**
 * Dawn crashes if the object `create()` returned is garbage-collected while a device made from it
 * is in use. We pin every such object for the life of the process; there is one per createGpu.
 */
const pinnedDawnInstances: unknown[] = [];

async function nodeGpu(flags: string[]): Promise<GPU> {
  // A variable specifier keeps browser bundlers from trying to bundle the native addon.
  const specifier = 'webgpu';
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (e) {
    throw new NoWebGpuError(`the 'webgpu' package (Dawn for Node) could not be loaded: ${String(e)}`);
  }
  // Dawn's GPUBufferUsage, GPUMapMode, ... constants; browsers have them already.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const instance = mod.create(flags);
  pinnedDawnInstances.push(instance);
  return instance;
}

export class Gpu {
  readonly staging: StagingPool;
  /** Command-buffer submits and readback round trips so far (for benchmarks and tests). */
  readonly counters = { submits: 0, readbacks: 0 };
  private readonly errors: Error[] = [];
  private readonly cache = new Map<string, unknown>();
  private destroyed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    readonly hasTimestampQuery: boolean,
    /** Whether waits for the GPU sleep between Dawn's polls (see CreateGpuOptions). */
    readonly sleepsWhileWaiting: boolean,
    /**
     * The device's subgroup sizes when the `subgroups` feature is enabled on it, else null. A size
     * of 0 means the adapter did not report it.
     */
    readonly subgroups: { readonly min: number; readonly max: number } | null = null,
  ) {
    this.staging = new StagingPool(device);
    device.addEventListener('uncapturederror', (ev) => {
      const err = ev.error;
      const kind =
        err instanceof GPUValidationError
          ? 'validation'
          : err instanceof GPUOutOfMemoryError
            ? 'out-of-memory'
            : typeof GPUInternalError !== 'undefined' && err instanceof GPUInternalError
              ? 'internal'
              : 'unknown';
      this.errors.push(new GpuError(kind, err.message));
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.errors.push(new DeviceLostError(info.reason, info.message));
    });
  }

  static async create(options: CreateGpuOptions = {}): Promise<Gpu> {
    let gpu = options.gpu;
    let backend: AdapterSummary['backend'] = 'custom';
    if (!gpu) {
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      const isNode = typeof process !== 'undefined' && !!process.versions?.node;
      if (nav?.gpu && !isNode) {
        gpu = nav.gpu;
        backend = 'browser';
      } else if (isNode) {
        gpu = await nodeGpu(options.dawnFlags ?? []);
        backend = 'dawn-node';
      } else {
        throw new NoWebGpuError('this browser does not expose navigator.gpu');
      }
    }
    const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    if (!adapter) throw new NoWebGpuError('requestAdapter() returned null: no compatible GPU or driver');

    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) {
      const v = adapter.limits[name];
      if (typeof v === 'number') requiredLimits[name] = v;
    }
    const wantTs = (options.timestampQuery ?? true) && adapter.features.has('timestamp-query');
    const info = adapter.info;
    const wantSubgroups = (options.subgroups ?? true) && adapter.features.has('subgroups');
    const requiredFeatures: GPUFeatureName[] = [];
    if (wantTs) requiredFeatures.push('timestamp-query');
    if (wantSubgroups) requiredFeatures.push('subgroups');
    const device = await adapter.requestDevice({
      label: options.label ?? 'webgpu-trpo',
      requiredLimits,
      requiredFeatures,
    });
    const sizes = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
    return new Gpu(
      device,
      {
        vendor: info?.vendor ?? '',
        architecture: info?.architecture ?? '',
        device: info?.device ?? '',
        description: info?.description ?? '',
        backend,
      },
      wantTs,
      backend === 'dawn-node' && (options.sleepWhileWaiting ?? true),
      wantSubgroups ? { min: sizes.subgroupMinSize ?? 0, max: sizes.subgroupMaxSize ?? 0 } : null,
    );
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Per-device memo for kernels and other objects that depend only on the device. */
  memo<T>(key: string, make: () => T): T {
    let v = this.cache.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.cache.set(key, v);
    }
    return v;
  }

  /** Throws the first GPU error seen so far (validation, OOM, internal, device loss). */
  throwIfFailed(): void {
    if (this.destroyed) throw new Error('this Gpu was destroyed');
    const e = this.errors[0];
    if (e) throw e;
  }

  /** Creates a labelled buffer. */
  buffer(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    // WebGPU requires sizes that are multiples of 4 for copies; 0 is not a useful buffer here.
    const aligned = Math.max(4, Math.ceil(size / 4) * 4);
    return this.device.createBuffer({ label, size: aligned, usage });
  }

  /** A zero-filled storage buffer that can also be copied from and to. */
  storage(label: string, size: number): GPUBuffer {
    return this.buffer(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  /** A storage buffer holding `data` (f32/u32/i32), usable as copy source and destination. */
  upload(label: string, data: Float32Array | Uint32Array | Int32Array, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    const buf = this.buffer(
      label,
      data.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    );
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** A uniform buffer with the given bytes (written once; reuse it across dispatches). */
  uniform(label: string, bytes: ArrayBuffer): GPUBuffer {
    const buf = this.buffer(label, bytes.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buf, 0, bytes);
    return buf;
  }

  /** Records commands with `record` and submits them as one command buffer. */
  submit(label: string, record: (encoder: GPUCommandEncoder) => void): void {
    const encoder = this.device.createCommandEncoder({ label });
    record(encoder);
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits += 1;
  }

  /** Waits for all submitted work, then throws the first GPU error if any. */
  async flush(): Promise<void> {
    await this.wait(this.device.queue.onSubmittedWorkDone());
    this.throwIfFailed();
  }

  /** Awaits a WebGPU promise, sleeping between Dawn's polls where that is on. */
  private wait<T>(promise: Promise<T>): Promise<T> {
    return this.sleepsWhileWaiting ? waitSleeping(promise) : promise;
  }

  /**
   * Reads several buffer ranges back in one submit and one map (one round trip).
   * Throws if any GPU error happened before the data arrived.
   */
  readRanges(ranges: ReadonlyArray<{ buffer: GPUBuffer; offset?: number; size?: number }>): Promise<ArrayBuffer[]> {
    return this.submitAndRead('readback', () => {}, ranges);
  }

  /**
   * Records `record`'s commands and the copies of `ranges` into a staging buffer in ONE command
   * buffer, submits it, and maps the results: a whole step plus its readback in one submit.
   */
  async submitAndRead(
    label: string,
    record: (encoder: GPUCommandEncoder) => void,
    ranges: ReadonlyArray<{ buffer: GPUBuffer; offset?: number; size?: number }>,
  ): Promise<ArrayBuffer[]> {
    this.throwIfFailed();
    const sized = ranges.map((r) => {
      const offset = r.offset ?? 0;
      const size = r.size ?? r.buffer.size - offset;
      if (offset % 4 !== 0 || size % 4 !== 0) throw new Error('readback offsets and sizes must be multiples of 4');
      return { buffer: r.buffer, offset, size };
    });
    const total = sized.reduce((s, r) => s + r.size, 0);
    const staging = this.staging.acquire(total);
    try {
      this.submit(label, (enc) => {
        record(enc);
        let dst = 0;
        for (const r of sized) {
          if (r.size > 0) enc.copyBufferToBuffer(r.buffer, r.offset, staging, dst, r.size);
          dst += r.size;
        }
      });
      this.counters.readbacks += 1;
      await this.wait(staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, total)));
      this.throwIfFailed();
      const all = staging.getMappedRange(0, Math.max(4, total)).slice(0);
      staging.unmap();
      const out: ArrayBuffer[] = [];
      let src = 0;
      for (const r of sized) {
        out.push(all.slice(src, src + r.size));
        src += r.size;
      }
      return out;
    } finally {
      this.staging.release(staging);
    }
  }

  async readF32(buffer: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
    const [b] = await this.readRanges([{ buffer, offset, size: count === undefined ? undefined : count * 4 }]);
    return new Float32Array(b!);
  }

  async readU32(buffer: GPUBuffer, offset = 0, count?: number): Promise<Uint32Array> {
    const [b] = await this.readRanges([{ buffer, offset, size: count === undefined ? undefined : count * 4 }]);
    return new Uint32Array(b!);
  }

  /** Releases the device and everything made from it. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.staging.destroy();
    this.cache.clear();
    this.device.destroy();
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** Acquires a WebGPU device in the browser or in Node (Dawn). See {@link CreateGpuOptions}. */
export function createGpu(options?: CreateGpuOptions): Promise<Gpu> {
  return Gpu.create(options);
}
