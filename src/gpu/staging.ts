/** Pooled MAP_READ staging buffers, bucketed by power-of-two size, for readbacks. */
export class StagingPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly all: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {}

  acquire(minBytes: number): GPUBuffer {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(4, minBytes))));
    const bucket = this.free.get(size);
    const reused = bucket?.pop();
    if (reused) return reused;
    const buf = this.device.createBuffer({
      label: `staging-${size}`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.all.push(buf);
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (buf.mapState !== 'unmapped') buf.unmap();
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.length = 0;
    this.free.clear();
  }
}
