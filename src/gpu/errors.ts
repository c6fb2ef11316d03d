/** Errors raised by the GPU layer. Each says what happened and, where it can, what to do. */

/** No WebGPU adapter could be obtained. The message says how to get one. */
export class NoWebGpuError extends Error {
  override readonly name = 'NoWebGpuError';
  constructor(detail: string) {
    super(
      `No WebGPU adapter is available (${detail}). ` +
        'To get one: install a GPU driver with Vulkan, Metal or D3D12 support; ' +
        'on Debian/Ubuntu without a GPU, install Mesa\'s lavapipe software Vulkan driver ' +
        '(Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers`, Mesa 24 or newer); ' +
        'in Chromium, start it with `--enable-unsafe-webgpu --enable-features=Vulkan`.',
    );
  }
}

/** A validation, out-of-memory or internal error reported by the WebGPU implementation. */
export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'unknown',
    message: string,
  ) {
    super(`WebGPU ${kind} error: ${message}`);
  }
}

/** The device was lost (driver reset, GPU removed, or destroyed while work was pending). */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`WebGPU device lost (${reason}): ${message || 'no message'}. Create a new Gpu to continue.`);
  }
}
