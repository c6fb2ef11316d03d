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
 * once to a shorter one and rises only halfway towards a longer one. The first submit of a kind is
 * not used (it carries one-time costs such as pipeline compilation), and when the results were
 * already there after the sleep (an oversleep: the true duration is unknown, only shorter) the
 * estimate is halved, so a wrong estimate costs a few iterations at most.
 */

/** Fraction of the expected duration spent sleeping before the map. */
export const PACE_SLEEP_FRACTION = 0.85;
/** Sleeps shorter than this are skipped (timers are ~1 ms coarse). */
export const PACE_MIN_SLEEP_MS = 2;
/** A map that resolves this soon after the sleep means the work was done before it ended. */
export const PACE_OVERSLEEP_MS = 1;

interface Pace {
  /** Submits of this kind observed so far. */
  seen: number;
  /** Expected ms from submit to results; undefined until the second submit. */
  expected?: number;
}

export class WaitPacer {
  private readonly paces = new Map<string, Pace>();

  /** Milliseconds to sleep before waiting on a submit of kind `key`, `elapsedMs` after it. */
  sleepBefore(key: string, elapsedMs: number): number {
    const e = this.paces.get(key)?.expected;
    if (e === undefined) return 0;
    const ms = PACE_SLEEP_FRACTION * e - elapsedMs;
    return ms >= PACE_MIN_SLEEP_MS ? ms : 0;
  }

  /**
   * Records that a submit of kind `key` took `ms` from submit to results, of which `waitedMs` were
   * spent waiting on the map after the sleep (if there was one).
   */
  observe(key: string, ms: number, waitedMs = Number.POSITIVE_INFINITY): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const pace = this.paces.get(key) ?? { seen: 0 };
    this.paces.set(key, pace);
    pace.seen += 1;
    if (pace.seen === 1) return;
    const e = pace.expected;
    if (e === undefined) pace.expected = ms;
    else if (waitedMs < PACE_OVERSLEEP_MS) pace.expected = ms / 2;
    else pace.expected = Math.min(ms, (e + ms) / 2);
  }

  /** The current estimate for `key` in ms, if any. */
  estimate(key: string): number | undefined {
    return this.paces.get(key)?.expected;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
