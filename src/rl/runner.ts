/**
 * Runs an iteration's GPU work: one compute pass per phase, one submit, one readback. With a
 * second device for the value fit, the batch is submitted first, the update behind it, and the
 * fit on its own device as soon as the batch's data has come over: the update and the fit need
 * nothing from each other, so a CPU driver runs them at the same time on two cores.
 *
 * The runner knows devices, passes, timestamps and transfers; what the phases compute, and what
 * the results mean, belongs to the algorithm that planned them.
 */
import type { Gpu, Op } from '../gpu/index.js';

/** A compute pass of the iteration: its label (also its name in timings) and its ops. */
export interface Phase {
  readonly label: string;
  readonly ops: readonly Op[];
}

/** A range of a buffer to read back (the whole buffer by default). */
export interface ReadRange {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly size?: number;
}

/**
 * One iteration's work, by what each part needs: the batch (rollout, advantages), then the update
 * of the policy and the value fit, which both start from the batch.
 */
export interface IterationPlan {
  readonly batch: readonly Phase[];
  readonly update: readonly Phase[];
  readonly fit: readonly Phase[];
  /** What the main device reads back once its phases are done. */
  readonly reads: readonly ReadRange[];
  /** Where the fit runs on a second device: what goes there, and what comes back. */
  readonly transfer: FitTransfer | null;
}

/** The data of a value fit on a second device. */
export interface FitTransfer {
  /** Batch data read from the main device after the batch phases, written to the fit device's buffers. */
  readonly inputs: ReadonlyArray<{ readonly from: ReadRange; readonly to: GPUBuffer }>;
  /** What the fit device reads back after the fit. */
  readonly outputs: readonly ReadRange[];
}

export interface RunResult {
  /** The plan's `reads`, in order. */
  readonly reads: ArrayBuffer[];
  /** The transfer's `outputs` (empty without a fit device). */
  readonly fitOutputs: ArrayBuffer[];
  /** GPU milliseconds of the phase with this label, or null without timestamp queries. */
  readonly phaseMs: (label: string) => number | null;
  /** Host milliseconds from the first submit to the last readback. */
  readonly wallMs: number;
}

interface Timing {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  passes: number;
}

export class Runner {
  private readonly timings = new Map<Gpu, Timing | null>();

  /** `fitGpu`: a second device for the value fit, or null to run everything on `gpu`. */
  constructor(
    readonly gpu: Gpu,
    readonly fitGpu: Gpu | null,
  ) {}

  async run(label: string, plan: IterationPlan): Promise<RunResult> {
    const t0 = performance.now();
    if ((plan.transfer !== null) !== (this.fitGpu !== null)) {
      throw new Error(`runner: the plan ${plan.transfer ? 'has' : 'lacks'} a fit transfer, the runner ${this.fitGpu ? 'has' : 'lacks'} a fit device`);
    }
    const result = this.fitGpu && plan.transfer ? await this.runSplit(label, plan, this.fitGpu, plan.transfer) : await this.runTogether(label, plan);
    return { ...result, wallMs: performance.now() - t0 };
  }

  /** Everything in one submit and one readback. */
  private async runTogether(label: string, plan: IterationPlan): Promise<Omit<RunResult, 'wallMs'>> {
    const phases = [...plan.batch, ...plan.update, ...plan.fit];
    const timing = this.timing(this.gpu, phases.length);
    const [reads, ts] = splitTimestamps(await this.gpu.submitAndRead(label, (enc) => {
      encodePhases(enc, phases, timing, 0);
      if (timing) enc.resolveQuerySet(timing.querySet, 0, 2 * phases.length, timing.resolve, 0);
    }, withTimestamps(plan.reads, timing)), timing);
    const index = new Map(phases.map((p, i) => [p.label, i]));
    return { reads, fitOutputs: [], phaseMs: (l) => (timing && index.has(l) ? elapsedMs(ts, index.get(l)!) : null) };
  }

  /**
   * The batch, then the update (queued behind it) here; the batch's data goes to the fit's device
   * as soon as it is ready, and the fit runs there at the same time as the update.
   */
  private async runSplit(label: string, plan: IterationPlan, fitGpu: Gpu, transfer: FitTransfer): Promise<Omit<RunResult, 'wallMs'>> {
    const here = [...plan.batch, ...plan.update];
    const timing = this.timing(this.gpu, here.length);
    const fitTiming = this.timing(fitGpu, plan.fit.length);
    const data = this.gpu.submitAndRead(`${label}/batch`, (enc) => encodePhases(enc, plan.batch, timing, 0), transfer.inputs.map((t) => t.from));
    const update = this.gpu.submitAndRead(`${label}/update`, (enc) => {
      encodePhases(enc, plan.update, timing, plan.batch.length);
      if (timing) enc.resolveQuerySet(timing.querySet, 0, 2 * here.length, timing.resolve, 0);
    }, withTimestamps(plan.reads, timing)).then((r) => splitTimestamps(r, timing));
    // Both submits are queued before the first wait: a failure in either surfaces from its await.
    const fit = data.then((inputs) => {
      const q = fitGpu.device.queue;
      transfer.inputs.forEach((t, i) => q.writeBuffer(t.to, 0, inputs[i]!));
      return fitGpu.submitAndRead(`${label}/value-fit`, (enc) => {
        encodePhases(enc, plan.fit, fitTiming, 0);
        if (fitTiming) enc.resolveQuerySet(fitTiming.querySet, 0, 2 * plan.fit.length, fitTiming.resolve, 0);
      }, withTimestamps(transfer.outputs, fitTiming)).then((r) => splitTimestamps(r, fitTiming));
    });
    const [[reads, ts], [fitOutputs, fitTs]] = await Promise.all([update, fit]);
    const index = new Map(here.map((p, i) => [p.label, i]));
    const fitIndex = new Map(plan.fit.map((p, i) => [p.label, i]));
    return {
      reads,
      fitOutputs,
      phaseMs: (l) =>
        index.has(l) ? (timing ? elapsedMs(ts, index.get(l)!) : null) : fitIndex.has(l) && fitTiming ? elapsedMs(fitTs, fitIndex.get(l)!) : null,
    };
  }

  /** Begin and end timestamps for `passes` passes on `gpu`, where it has timestamp queries. */
  private timing(gpu: Gpu, passes: number): Timing | null {
    let t = this.timings.get(gpu);
    if (t === undefined || (t !== null && t.passes < passes)) {
      if (t) destroyTiming(t);
      t = gpu.hasTimestampQuery
        ? {
            querySet: gpu.device.createQuerySet({ label: 'iteration-timestamps', type: 'timestamp', count: 2 * passes }),
            resolve: gpu.buffer('iteration-timestamps', 16 * passes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC),
            passes,
          }
        : null;
      this.timings.set(gpu, t);
    }
    return t;
  }

  destroy(): void {
    for (const t of this.timings.values()) if (t) destroyTiming(t);
    this.timings.clear();
  }
}

/** The reads, with the resolved timestamps last where there are any. */
function withTimestamps(reads: readonly ReadRange[], timing: Timing | null): ReadRange[] {
  return timing ? [...reads, { buffer: timing.resolve }] : [...reads];
}

function splitTimestamps(results: ArrayBuffer[], timing: Timing | null): [ArrayBuffer[], ArrayBuffer | undefined] {
  return timing ? [results.slice(0, -1), results[results.length - 1]] : [results, undefined];
}

function destroyTiming(t: Timing): void {
  t.querySet.destroy();
  t.resolve.destroy();
}

/** One compute pass per phase, timestamps of phase i at 2(first + i) and 2(first + i) + 1. */
function encodePhases(enc: GPUCommandEncoder, phases: readonly Phase[], timing: Timing | null, first: number): void {
  phases.forEach(({ label, ops }, i) => {
    const at = 2 * (first + i);
    const pass = enc.beginComputePass({
      label,
      ...(timing ? { timestampWrites: { querySet: timing.querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } } : {}),
    });
    for (const op of ops) op.encode(pass);
    pass.end();
  });
}

/** Milliseconds between timestamps 2i and 2i + 1 of a resolved query set, or null. */
function elapsedMs(tsBytes: ArrayBuffer | undefined, i: number): number | null {
  if (!tsBytes) return null;
  const ts = new BigUint64Array(tsBytes);
  const d = Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6;
  return Number.isFinite(d) && d >= 0 ? d : null;
}
