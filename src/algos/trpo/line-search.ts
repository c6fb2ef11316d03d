/**
 * The line search's acceptance rule (Schulman et al. 2015, Appendix C): of the candidates
 * θ_old + shrinkᵏ β x the GPU evaluated, accept the first whose mean KL is within δ and whose
 * surrogate improved; else keep θ_old. The GPU's gate (line_search_gate.wgsl) applies the same
 * rule to candidate 0, and a test holds the two to the same decisions.
 */
import { CAND_BASE, stat } from '../../rl/stats.js';
import type { TRPOConfig } from './config.js';
import type { TrpoUpdateMetrics } from './metrics.js';

export interface LineSearchDecision {
  accepted: number | null;
  reason: TrpoUpdateMetrics['rejectReason'];
}

/** Backtracking line search over the candidates the GPU evaluated: the first with KL ≤ δ and L improved. */
export function lineSearch(stats: Float32Array, cfg: TRPOConfig, surrogateBefore: number): LineSearchDecision {
  if (stats[stat('BAD_STEP')] !== 0) return { accepted: null, reason: 'non-finite-step' };
  // The GPU found candidate 0 acceptable by this same rule and did not evaluate the others.
  if (stats[stat('LS_SKIPPED')] === 1) return { accepted: 0, reason: null };
  const K = cfg.lineSearchSteps;
  let reason: LineSearchDecision['reason'] = 'no-improvement';
  for (let k = 0; k < K; k++) {
    const sur = stats[CAND_BASE + k]!;
    const kl = stats[CAND_BASE + K + k]!;
    if (!Number.isFinite(sur) || !Number.isFinite(kl)) {
      reason = 'non-finite';
      continue;
    }
    if (kl > cfg.maxKl) {
      reason = 'kl';
      continue;
    }
    if (sur - surrogateBefore > 0) return { accepted: k, reason: null };
    reason = 'no-improvement';
  }
  return { accepted: null, reason };
}

