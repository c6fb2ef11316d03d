/** Episode bookkeeping on the host: what finished in each rollout, and the rolling return. */

/** Episodes the rolling return averages over (as sb3's ep_info_buffer). */
export const ROLLING_WINDOW = 100;

export interface EpisodeSummary {
  /** Mean / 10th / 90th percentile return of the episodes that finished this iteration (null if none). */
  episodeReturnMean: number | null;
  episodeReturnP10: number | null;
  episodeReturnP90: number | null;
  episodeLengthMean: number | null;
}

export class EpisodeTracker {
  totalEpisodes = 0;
  private readonly recent: number[] = [];

  constructor(readonly window = ROLLING_WINDOW) {}

  /**
   * Records the episodes of one rollout's log: a u32 count, padding to 16 bytes, then
   * [return, length] f32 pairs (rollout.wgsl). Returns what finished.
   */
  record(log: ArrayBuffer, capacity: number): { count: number; returns: number[]; lengths: number[] } {
    const count = Math.min(new Uint32Array(log, 0, 1)[0]!, capacity);
    const entries = new Float32Array(log, 16, 2 * count);
    const returns: number[] = [];
    const lengths: number[] = [];
    for (let i = 0; i < count; i++) {
      returns.push(entries[2 * i]!);
      lengths.push(entries[2 * i + 1]!);
    }
    this.recent.push(...returns);
    if (this.recent.length > this.window) this.recent.splice(0, this.recent.length - this.window);
    this.totalEpisodes += count;
    return { count, returns, lengths };
  }

  /** Mean return of the last `window` finished episodes, null before the first. */
  get rollingReturnMean(): number | null {
    return this.recent.length > 0 ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : null;
  }
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function episodeSummary(returns: readonly number[], lengths: readonly number[]): EpisodeSummary {
  if (returns.length === 0) {
    return { episodeReturnMean: null, episodeReturnP10: null, episodeReturnP90: null, episodeLengthMean: null };
  }
  const sorted = [...returns].sort((a, b) => a - b);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    episodeReturnMean: mean(returns),
    episodeReturnP10: quantile(sorted, 0.1),
    episodeReturnP90: quantile(sorted, 0.9),
    episodeLengthMean: mean(lengths),
  };
}
