/**
 * The TRPO policy step (Schulman et al. 2015, Appendix C), as one fixed list of GPU ops built once
 * and re-run every iteration. It reads top to bottom like the algorithm:
 *
 *   1. π_old:      z = f_θ(s) for the batch, log π_old(a|s), entropy
 *   2. gradient:   g = ∇_θ L(θ) at θ_old, L the importance-sampled surrogate
 *   3. CG:         x ≈ F⁻¹ g with F v = Jᵀ M J v / N + damping·v (Gauss-Newton form of ∇²KL)
 *   4. step:       β = sqrt(2δ / xᵀFx), guarded against non-finite or non-positive xᵀFx
 *   5. candidates: θ_k = θ_old + shrinkᵏ β x, k < K: L(θ_k) and mean KL(π_old ‖ π_k) into the
 *                  stats buffer; θ_0 first, the rest in one batched pass that runs only when the
 *                  GPU finds θ_0 rejected (line-search-gate.ts)
 *
 * The host then reads the stats once and accepts the first candidate with KL ≤ δ and an
 * improvement > 0 (line-search.ts, in Trpo.complete), or keeps θ_old.
 */
import type { EnvSpec } from '../../envs/spaces.js';
import type { ActorLayout } from '../../nn/layout.js';
import { runOps, type Gpu, type Op } from '../../gpu/index.js';
import type { MlpKernels } from '../../nn/mlp.js';
import { axpyOp, copyOp, fillOp, xpbyOp, type ScalarRef, type VecRef } from '../../math/vec.js';
import { dotOp, meanOp, sumOp } from '../../math/reduce.js';
import { derived, type TRPOConfig } from './config.js';
import { fisherVectorProductOps, fvpPrepareOps, fvpScratch, type FvpContext } from './fvp.js';
import { PolicyKernels } from './policy-kernels.js';
import { lineSearchGate } from './line-search-gate.js';
import { CAND_BASE, stat, type StatSlot } from '../../rl/stats.js';


export interface PolicyStepInputs {
  /** θ: the flat policy parameters, network then log-std (continuous heads). */
  theta: GPUBuffer;
  /** Observations [N][obsDim] (the first N rows of the rollout's obs buffer). */
  obs: GPUBuffer;
  actions: GPUBuffer;
  /** Advantages [N], normalized when configured. */
  advantages: GPUBuffer;
  /** The stats buffer the host reads back. */
  stats: GPUBuffer;
}

export class PolicyStep {
  /** Ops of steps 1–2 (π_old and g), 3–4 (CG and the step length) and 5 (candidates), in order. */
  readonly phases: { gradient: Op[]; conjugateGradient: Op[]; lineSearch: Op[] } = {
    gradient: [],
    conjugateGradient: [],
    lineSearch: [],
  };
  readonly candidates: number;
  /** Floats in θ (ActorLayout.paramCount). */
  readonly paramCount: number;
  private readonly owned: GPUBuffer[] = [];
  private readonly kernels: PolicyKernels;
  private readonly destroyers: Array<() => void> = [];
  private readonly cand: GPUBuffer;
  /** Internal vectors, exposed for tests and benchmarks: g = ∇L, x ≈ F⁻¹g. */
  readonly vectors: { g: GPUBuffer; x: GPUBuffer };

  constructor(
    private readonly gpu: Gpu,
    spec: EnvSpec,
    actor: ActorLayout,
    private readonly mlp: MlpKernels,
    private readonly inputs: PolicyStepInputs,
    cfg: TRPOConfig,
  ) {
    const { batch: N, fvpBatch: nFvp } = derived(cfg);
    const A = actor.headDim;
    const P = (this.paramCount = actor.paramCount);
    const K = (this.candidates = cfg.lineSearchSteps);
    const { theta, obs, actions, advantages: adv, stats } = inputs;
    const buf = (label: string, floats: number) => this.own(gpu.storage(`policy/${label}`, floats * 4));
    const vec = (buffer: GPUBuffer, length: number, offset = 0): VecRef => ({ buffer, offset, length });
    const slot = (name: StatSlot): ScalarRef => ({ buffer: stats, index: stat(name) });

    this.kernels = new PolicyKernels(gpu, spec, actor, {
      n: N,
      nFvp,
      paramCount: P,
      logStdOffset: actor.logStdOffset,
      candidates: K,
      distOldOffset: 2 * N * A + N,
      logpOldOffset: 2 * N * A,
      maxKl: cfg.maxKl,
      shrink: cfg.lineSearchShrink,
      entCoef: cfg.entCoef,
      damping: cfg.damping,
    });
    const k = this.kernels;
    let phase = this.phases.gradient;
    const push = (op: Op & { destroy?: () => void }) => {
      phase.push(op);
      if (op.destroy) this.destroyers.push(op.destroy);
    };

    // 1. π_old on the batch: z = f_θ(s) with activations kept for the backward pass.
    const distOld = buf('dist-old', N * A);
    const acts = buf('acts', mlp.actsLength(N));
    push(mlp.forwardOp({ params: theta, input: obs, output: distOld, acts, batch: N }));

    // 2. g = ∇_θ L at θ_old: ∂L/∂z per sample, then back through the network (Jᵀ); the log-std
    //    part is a plain sum over samples. surrogate_grad also records log π_old and z_old.
    const sur = buf('surrogate', 2 * N * A + N + N * A);
    const g = buf('g', P);
    push(k.op('surrogate_grad', N, { theta, dist: distOld, adv, actions, out: sur, stats }));
    push(mlp.backwardOp({ params: theta, input: obs, acts, gradOutput: sur, gradParams: g, batch: N }));
    if (actor.head === 'gaussian') {
      for (let j = 0; j < A; j++) push(sumOp(gpu, vec(sur, N, N * A + j * N), { buffer: g, index: actor.logStdOffset + j }));
    }
    const ent = buf('entropy', N);
    push(k.op('old_entropy', N, { theta, dist: distOld, out: ent, stats }));
    push(meanOp(gpu, vec(ent, N), slot('ENTROPY')));
    push(meanOp(gpu, vec(adv, N), slot('ADV_MEAN')));

    // 3. Conjugate gradient on F x = g, every scalar kept on the GPU.
    phase = this.phases.conjugateGradient;
    //    The FVP may use a subsample: the first nFvp samples (whole leading time steps of every env).
    const fvpDist = nFvp === N ? distOld : buf('fvp-dist', nFvp * A);
    const fvpActs = nFvp === N ? acts : buf('fvp-acts', mlp.actsLength(nFvp));
    if (nFvp !== N) push(mlp.forwardOp({ params: theta, input: obs, output: fvpDist, acts: fvpActs, batch: nFvp }));
    const fvpCtx: FvpContext = { gpu, mlp, kernels: k, theta, obs, dist: fvpDist, acts: fvpActs, batch: nFvp, headDim: A, stats };
    const scratch = fvpScratch(fvpCtx);
    this.owned.push(scratch.jv, scratch.mjv, ...(scratch.jacobian ? [scratch.jacobian] : []));
    fvpPrepareOps(fvpCtx, scratch).forEach(push);
    const fvp = (v: GPUBuffer, out: GPUBuffer) => fisherVectorProductOps(fvpCtx, scratch, v, out).forEach(push);
    const x = buf('x', P);
    const r = buf('r', P);
    const p = buf('p', P);
    const Ap = buf('Ap', P);
    push(fillOp(gpu, vec(x, P), 0));
    push(copyOp(gpu, vec(g, P), vec(r, P)));
    push(copyOp(gpu, vec(g, P), vec(p, P)));
    push(dotOp(gpu, vec(r, P), vec(r, P), slot('CG_RR0')));
    //    rᵀr before iteration i is rr(i): ‖g‖², then CG_RR and CG_RR_NEW in turn so that the last
    //    lands in CG_RR; α and β are ratios the vector ops divide out themselves (guarded: 0 on
    //    breakdown, as divideOp), so no scalar needs a dispatch or a copy of its own.
    const n = cfg.cgIters;
    const rr = (i: number): ScalarRef => slot(i === 0 ? 'CG_RR0' : (n - i) % 2 === 0 ? 'CG_RR' : 'CG_RR_NEW');
    for (let i = 0; i < n; i++) {
      fvp(p, Ap);
      push(dotOp(gpu, vec(p, P), vec(Ap, P), slot('CG_PAP')));
      const alpha = { scalar: rr(i), over: slot('CG_PAP') }; // α = rᵀr / pᵀAp
      push(axpyOp(gpu, vec(x, P), vec(p, P), alpha)); // x += α p
      push(axpyOp(gpu, vec(r, P), vec(Ap, P), { ...alpha, times: -1 })); // r −= α Ap
      push(dotOp(gpu, vec(r, P), vec(r, P), rr(i + 1)));
      push(xpbyOp(gpu, vec(p, P), vec(r, P), { scalar: rr(i + 1), over: rr(i) })); // p = r + β p, β = r'ᵀr' / rᵀr
    }

    // 4. Step length from the quadratic model of the KL: ½ (βx)ᵀF(βx) = δ. CG's recurrences keep
    //    r = g − F x (both updated with the same F p), so xᵀF x = xᵀg − xᵀr: two dot products
    //    instead of one more Fisher-vector product. (xᵀr is ~0, r being orthogonal to the Krylov
    //    space that holds x; it corrects for the orthogonality f32 loses.)
    this.vectors = { g, x };
    push(dotOp(gpu, vec(g, P), vec(x, P), slot('G_DOT_X')));
    push(dotOp(gpu, vec(x, P), vec(r, P), slot('X_DOT_R')));
    push(k.op('step_scale', 1, { theta, out: Ap, stats }));

    phase = this.phases.lineSearch;
    // 5. Candidates θ_k, and for each the surrogate and mean KL over the batch. Candidate 0 (the
    //    full step) first; the others, in one batched pass, only if the GPU finds candidate 0
    //    rejected (the full step is accepted in most iterations).
    this.cand = buf('candidates', K * P);
    push(k.op('make_candidates', K * P, { theta, aux: x, out: this.cand, stats }));
    const candOut = buf('candidate-dist', K * N * A);
    const terms = buf('candidate-terms', 2 * K * N);
    const candidateMeans = (c: number): Op[] => [
      meanOp(gpu, vec(terms, N, c * N), { buffer: stats, index: CAND_BASE + c }),
      meanOp(gpu, vec(terms, N, K * N + c * N), { buffer: stats, index: CAND_BASE + K + c }),
    ];
    const termBindings = { theta, cand: this.cand, dist: candOut, adv, actions, aux: sur, out: terms, stats };
    push(mlp.forwardOp({ params: this.cand, input: obs, output: candOut, batch: N, sets: 1, paramStride: P }));
    push(k.op('candidate_terms', N, termBindings));
    for (const op of candidateMeans(0)) push(op);
    if (K > 1) {
      const restForward = mlp.forwardOp({ params: this.cand, input: obs, output: candOut, batch: N, sets: K, paramStride: P });
      this.destroyers.push(restForward.destroy);
      const rest = [restForward, k.op('candidate_terms', K * N, termBindings)];
      for (let c = 1; c < K; c++) rest.push(...candidateMeans(c));
      const gate = lineSearchGate(gpu, rest, stats, cfg);
      this.destroyers.push(gate.destroy);
      push(gate.gate);
      push(gate.rest);
    }
  }

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  /** θ ← θ_k (run after the host accepted candidate k). */
  accept(k: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.candidates) throw new Error(`no line-search candidate ${k}`);
    const P = this.paramCount;
    this.gpu.submit('policy/accept', (enc) => enc.copyBufferToBuffer(this.cand, k * P * 4, this.inputs.theta, 0, P * 4));
  }

  /** All ops of the step, in order. */
  get ops(): Op[] {
    return [...this.phases.gradient, ...this.phases.conjugateGradient, ...this.phases.lineSearch];
  }

  run(): void {
    runOps(this.gpu, 'trpo-policy-step', this.ops);
  }

  destroy(): void {
    for (const d of this.destroyers) d();
    for (const b of this.owned) b.destroy();
    this.kernels.destroy();
  }
}
