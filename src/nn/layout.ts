/**
 * Where each parameter lives in a network's flat parameter buffer. CG, the line search and Adam
 * see only the flat vector; these layouts are the one place that knows its structure.
 */

export interface MlpLayer {
  readonly inDim: number;
  readonly outDim: number;
  /** Element offset of W [outDim][inDim] (row-major) in the parameter vector. */
  readonly wOffset: number;
  /** Element offset of b [outDim]; equals wOffset + outDim·inDim. */
  readonly bOffset: number;
}

export interface MlpLayout {
  /** [in, hidden..., out] */
  readonly sizes: readonly number[];
  readonly paramCount: number;
  readonly layers: readonly MlpLayer[];
}

/** Largest layer width accepted; wider layers would still work but are far outside this project. */
export const MLP_MAX_WIDTH = 4096;

export function mlpLayout(sizes: readonly number[]): MlpLayout {
  if (!Array.isArray(sizes)) throw new Error(`mlp sizes: expected an array [in, hidden..., out], got ${String(sizes)}`);
  if (sizes.length < 2) {
    throw new Error(`mlp sizes: need at least [in, out] (2 entries), got ${sizes.length} entries: [${sizes.join(', ')}]`);
  }
  sizes.forEach((v, k) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MLP_MAX_WIDTH) {
      throw new Error(`mlp sizes[${k}]: got ${String(v)}, allowed: an integer in [1, ${MLP_MAX_WIDTH}]`);
    }
  });
  const layers: MlpLayer[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inDim = sizes[l]!;
    const outDim = sizes[l + 1]!;
    const wOffset = offset;
    const bOffset = wOffset + outDim * inDim;
    layers.push({ inDim, outDim, wOffset, bOffset });
    offset = bOffset + outDim;
  }
  return { sizes: [...sizes], paramCount: offset, layers };
}

/** The policy's output distribution: logits of a categorical, or the mean of a diagonal Gaussian. */
export type ActorHead = { readonly kind: 'categorical'; readonly actions: number } | { readonly kind: 'gaussian'; readonly actionDim: number };

/**
 * The policy's parameters θ: the MLP's [W | b] per layer, then (Gaussian heads) the
 * state-independent log-std vector. Built once per trainer and passed to everything that reads θ.
 */
export interface ActorLayout {
  readonly net: MlpLayout;
  readonly head: ActorHead['kind'];
  /** The network's outputs: one logit per action, or the action mean's dimensions. */
  readonly headDim: number;
  /** Float offset of the log-std vector in θ (= net.paramCount); it has headDim entries (Gaussian only). */
  readonly logStdOffset: number;
  /** Floats in θ: net.paramCount, plus headDim for a Gaussian head's log-std. */
  readonly paramCount: number;
}

export function actorLayout(obsDim: number, hidden: readonly number[], head: ActorHead): ActorLayout {
  const headDim = head.kind === 'categorical' ? head.actions : head.actionDim;
  const net = mlpLayout([obsDim, ...hidden, headDim]);
  return {
    net,
    head: head.kind,
    headDim,
    logStdOffset: net.paramCount,
    paramCount: net.paramCount + (head.kind === 'gaussian' ? headDim : 0),
  };
}
