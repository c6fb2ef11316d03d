/**
 * The per-iteration scalars the GPU leaves for the host, in one f32 buffer read back once per
 * iteration. Slot names are shared with WGSL through generated constants (S_NAME).
 */
import { slotConsts } from './codegen.js';

export const STAT_SLOTS = [
  'ADV_MEAN', // mean advantage after normalization (the surrogate at θ_old, without entropy)
  'ADV_STD_RAW', // std of the raw advantages
  'ADV_MEAN_RAW',
  'ENTROPY', // mean entropy of π_old
  'G_DOT_X', // gᵀx
  'X_DOT_R', // xᵀr, r the residual g − F x after CG
  'SHS', // xᵀFx = gᵀx − xᵀr
  'STEP_SCALE', // β = sqrt(2δ / xᵀFx), 0 when invalid
  'BAD_STEP', // 1 when xᵀFx was not finite and positive
  'EXPECTED_IMPROVE', // β gᵀx
  'POLICY_STD', // mean exp(log-std) (continuous)
  'CG_RR0', // ‖g‖²
  'CG_RR', // ‖r‖² after the last CG iteration
  'CG_PAP', // CG scratch: pᵀAp
  'CG_RR_NEW', // CG scratch: rᵀr alternates between CG_RR and this one
  'VALUE_LOSS', // mean (V(s) − R)² after the fit
  'VAR_RETURNS', // Var(R)
  'LS_SKIPPED', // 1 when the GPU accepted candidate 0 and skipped the others (line_search_gate.wgsl)
] as const;

export type StatSlot = (typeof STAT_SLOTS)[number];

export const stat = (name: StatSlot): number => STAT_SLOTS.indexOf(name);

/** First slot of the line-search candidates: surrogate of candidate k at CAND_BASE + k, KL at CAND_BASE + K + k. */
export const CAND_BASE = STAT_SLOTS.length;

export const statCount = (candidates: number): number => CAND_BASE + 2 * candidates;

export const statConsts = (): string => slotConsts('S_', STAT_SLOTS);
