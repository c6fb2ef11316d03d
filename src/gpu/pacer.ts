/**
 * Paced waits for Dawn in Node.
 *
 * While a `mapAsync` (or `onSubmittedWorkDone`) is pending, Dawn's Node binding polls for its
 * completion by re-queueing itself with `setImmediate`: the JavaScript thread spins at 100% of a
 * core until the GPU is done. On a CPU Vulkan driver (lavapipe) the "GPU" is the machine's other
 * threads, so the spin takes a core away from the very work it waits for (measured here: an
 * iteration at batch 16,384 ran ~25% faster, on two cores, when the spin was avoided).
 *
 * So a submit that repeats (a training iteration) is awaited in two parts: first a plain timer for
 * most of the time the same kind of submit took before, during which the thread sleeps, then the
 * map, which by then spins only briefly. The estimate follows the measured durations: it drops at
 * once to a shorter one (an early finish costs at most one over-long sleep, and the next sleep is
 * shorter still), and rises only halfway towards a longer one.
 */

/** Fraction of the expected duration spent sleeping before the map. */
export const PACE_SLEEP_FRACTION = 0.85;
/** Sleeps shorter than this are skipped (timers are ~1 ms coarse). */
export const PACE_MIN_SLEEP_MS = 2;

export class WaitPacer {
  private readonly expected = new Map<string, number>();

  /** Milliseconds to sleep before waiting on a submit of kind `key`, `elapsedMs` after it. */
  sleepBefore(key: string, elapsedMs: number): number {
    const e = this.expected.get(key);
    if (e === undefined) return 0;
    const ms = PACE_SLEEP_FRACTION * e - elapsedMs;
    return ms >= PACE_MIN_SLEEP_MS ? ms : 0;
  }

  /** Records that a submit of kind `key` took `ms` from submit to results. */
  observe(key: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const e = this.expected.get(key);
    this.expected.set(key, e === undefined ? ms : Math.min(ms, (e + ms) / 2));
  }

  /** The current estimate for `key` in ms, if any. */
  estimate(key: string): number | undefined {
    return this.expected.get(key);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
