/**
 * A compute kernel: shader module + explicit bind-group layout from a named binding table +
 * lazily created pipeline, memoized per device. The binding table is checked against the WGSL
 * declarations when the kernel is made, so a mismatch fails loudly instead of binding garbage.
 */
import type { Gpu } from './device.js';

export type BindingKind = 'uniform' | 'storage' | 'read-only-storage';

export interface KernelSpec<B extends string> {
  /** Label for every GPU object the kernel makes; also part of the memo key. */
  label: string;
  /** Full WGSL source (join parts with {@link wgsl}). */
  code: string;
  entryPoint: string;
  /** Binding i of this table is `@group(0) @binding(i)` in the WGSL. */
  bindings: ReadonlyArray<readonly [B, BindingKind]>;
  /** Values for `override` constants (workgroup sizes, widths). */
  constants?: Readonly<Record<string, number>>;
}

export type BindingResource = GPUBuffer | GPUBufferBinding;

/** Every kernel made on a device, in the order Kernel.get first made them. */
const kernelsByGpu = new WeakMap<Gpu, Array<Kernel<string>>>();
/** Called once per kernel, when Kernel.get first makes it (see onKernelCreated). */
const createdListeners = new Set<(kernel: Kernel<string>, gpu: Gpu) => void>();

/**
 * The kernels made on `gpu` so far, in creation order (one per label, entry point, constants and
 * code: what Kernel.get memoizes). `compiled` on each says whether its pipeline was built.
 */
export function listKernels(gpu: Gpu): ReadonlyArray<Kernel<string>> {
  return [...(kernelsByGpu.get(gpu) ?? [])];
}

/**
 * Calls `listener` for each kernel Kernel.get makes from now on, on any device, synchronously
 * inside the Kernel.get call (so a stack trace taken there shows who asked for it). Returns a
 * function that stops the calls.
 */
export function onKernelCreated(listener: (kernel: Kernel<string>, gpu: Gpu) => void): () => void {
  createdListeners.add(listener);
  return () => {
    createdListeners.delete(listener);
  };
}

/** Joins WGSL parts (struct declarations, shared helpers, the kernel file) into one module. */
export function wgsl(...parts: string[]): string {
  return parts.join('\n');
}

const DECL = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*([a-z_]+)\s*(?:,\s*([a-z_]+)\s*)?>\s*([A-Za-z_][A-Za-z0-9_]*)/g;

function kindOf(space: string, access: string | undefined): BindingKind | 'other' {
  if (space === 'uniform') return 'uniform';
  if (space === 'storage') return access === 'read_write' ? 'storage' : 'read-only-storage';
  return 'other';
}

/** Throws if the binding table does not match the WGSL declarations. */
export function checkBindings(label: string, code: string, bindings: ReadonlyArray<readonly [string, BindingKind]>): void {
  const decls = new Map<number, Array<{ name: string; kind: string }>>();
  for (const m of code.matchAll(DECL)) {
    const i = Number(m[1]);
    const list = decls.get(i) ?? [];
    list.push({ name: m[4]!, kind: kindOf(m[2]!, m[3]) });
    decls.set(i, list);
  }
  bindings.forEach(([name, kind], i) => {
    const found = decls.get(i) ?? [];
    if (!found.some((d) => d.name === name && d.kind === kind)) {
      const seen = found.map((d) => `${d.name} (${d.kind})`).join(', ') || 'nothing';
      throw new Error(`kernel ${label}: binding ${i} should be ${name} (${kind}) but the WGSL declares ${seen}`);
    }
  });
}

export class Kernel<B extends string> {
  readonly layout: GPUBindGroupLayout;
  private pipelineCache: GPUComputePipeline | undefined;

  private constructor(
    private readonly gpu: Gpu,
    readonly spec: KernelSpec<B>,
  ) {
    checkBindings(spec.label, spec.code, spec.bindings);
    this.layout = gpu.device.createBindGroupLayout({
      label: `${spec.label}/layout`,
      entries: spec.bindings.map(([, kind], binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: kind },
      })),
    });
  }

  /** The kernel for `spec` on this device, made once and then reused. */
  static get<B extends string>(gpu: Gpu, spec: KernelSpec<B>): Kernel<B> {
    const key = `kernel:${spec.label}:${spec.entryPoint}:${JSON.stringify(spec.constants ?? {})}:${spec.code}`;
    return gpu.memo(key, () => {
      const kernel = new Kernel(gpu, spec);
      const list = kernelsByGpu.get(gpu) ?? [];
      list.push(kernel);
      kernelsByGpu.set(gpu, list);
      for (const listener of createdListeners) listener(kernel, gpu);
      return kernel;
    });
  }

  /** The kernels made on `gpu` so far, in creation order (see listKernels). */
  static all(gpu: Gpu): ReadonlyArray<Kernel<string>> {
    return listKernels(gpu);
  }

  /** Whether the pipeline was built (the WGSL compiled), i.e. the kernel was dispatched or asked for it. */
  get compiled(): boolean {
    return this.pipelineCache !== undefined;
  }

  get pipeline(): GPUComputePipeline {
    if (!this.pipelineCache) {
      const { device } = this.gpu;
      const module = this.gpu.memo(`module:${this.spec.code}`, () =>
        device.createShaderModule({ label: `${this.spec.label}/module`, code: this.spec.code }),
      );
      this.pipelineCache = device.createComputePipeline({
        label: `${this.spec.label}/${this.spec.entryPoint}`,
        layout: device.createPipelineLayout({ label: `${this.spec.label}/pipeline-layout`, bindGroupLayouts: [this.layout] }),
        compute: { module, entryPoint: this.spec.entryPoint, constants: { ...this.spec.constants } },
      });
    }
    return this.pipelineCache;
  }

  /** A bind group for these resources (make it once per buffer set and reuse it). */
  bind(resources: Readonly<Record<B, BindingResource>>, label = this.spec.label): GPUBindGroup {
    return this.gpu.device.createBindGroup({
      label: `${label}/bind-group`,
      layout: this.layout,
      entries: this.spec.bindings.map(([name], binding) => {
        const r: BindingResource | undefined = resources[name];
        if (!r) throw new Error(`kernel ${this.spec.label}: no buffer given for binding ${name}`);
        const resource: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
        return { binding, resource };
      }),
    });
  }

  dispatch(pass: GPUComputePassEncoder, group: GPUBindGroup, x: number, y = 1, z = 1): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  }
}

/**
 * Workgroup counts for n items in workgroups of `wg`, split over x and y when more than
 * `maxPerDim` groups are needed. Shaders recover the flat index as
 * `gid.x + gid.y * nwg.x * WG` and skip indices ≥ n.
 */
export function grid1d(n: number, wg: number, maxPerDim = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
