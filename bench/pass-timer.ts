/**
 * Times compute passes of one submit: GPU milliseconds per pass from timestamp queries where the
 * adapter has them, and always the host milliseconds from submit to completion.
 */
import type { Gpu } from '../src/gpu/index.js';

export interface TimedPass {
  label: string;
  encode(pass: GPUComputePassEncoder): void;
}

export interface PassTiming {
  /** GPU ms of each pass (timestamps), or null without timestamp queries. */
  gpuMs: number[] | null;
  /** Host ms from recording the submit to the completion of its work. */
  wallMs: number;
}

export class PassTimer {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;

  constructor(
    private readonly gpu: Gpu,
    private readonly maxPasses = 16,
  ) {
    this.querySet = gpu.hasTimestampQuery
      ? gpu.device.createQuerySet({ label: 'bench/timestamps', type: 'timestamp', count: 2 * maxPasses })
      : null;
    this.resolve = gpu.hasTimestampQuery
      ? gpu.buffer('bench/timestamps', 16 * maxPasses, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC)
      : null;
  }

  get hasTimestamps(): boolean {
    return this.querySet !== null;
  }

  /** Runs the passes in order, in one command buffer, and waits for them. */
  async run(label: string, passes: readonly TimedPass[]): Promise<PassTiming> {
    if (passes.length > this.maxPasses) throw new Error(`PassTimer: ${passes.length} passes, at most ${this.maxPasses}`);
    const qs = this.querySet;
    const encodeAll = (enc: GPUCommandEncoder) => {
      passes.forEach((p, i) => {
        const pass = enc.beginComputePass({
          label: p.label,
          ...(qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : {}),
        });
        p.encode(pass);
        pass.end();
      });
      if (qs) enc.resolveQuerySet(qs, 0, 2 * passes.length, this.resolve!, 0);
    };
    const t0 = performance.now();
    if (!qs) {
      this.gpu.submit(label, encodeAll);
      await this.gpu.flush();
      return { gpuMs: null, wallMs: performance.now() - t0 };
    }
    const [bytes] = await this.gpu.submitAndRead(label, encodeAll, [{ buffer: this.resolve!, size: 16 * passes.length }]);
    const wallMs = performance.now() - t0;
    const ts = new BigUint64Array(bytes!);
    const gpuMs = passes.map((_, i) => Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6);
    return { gpuMs, wallMs };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
  }
}
