/**
 * Pictures of the policy: its head evaluated on a line of observations (one GPU dispatch through
 * PolicyPreview.probe). For PointMass this is the TRPO notebook's picture, the mean action
 * μ(x, v = 0) over the position x.
 */
import type { EnvId } from '../../src/index.js';

export interface Probe {
  title: string;
  hint: string;
  xLabel: string;
  yLabel: string;
  xs: number[];
  /** The observations [xs.length][obsDim]. */
  observations(): Float32Array;
  /** The plotted value from the head output of one observation (logits or Gaussian means). */
  value(head: Float32Array): number;
}

const linspace = (a: number, b: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

function probe(p: Omit<Probe, 'observations'> & { obs: (x: number) => number[] }): Probe {
  return {
    ...p,
    observations: () => Float32Array.from(p.xs.flatMap(p.obs)),
  };
}

export const PROBES: Record<EnvId, Probe> = {
  'PointMass-v0': probe({
    title: 'Policy: mean action μ(x, v = 0)',
    hint: 'one curve per snapshot iteration (darker = later); actions are clipped to [−1, 1]',
    xLabel: 'position x',
    yLabel: 'μ',
    xs: linspace(-2.5, 2.5, 101),
    obs: (x) => [x, 0],
    value: (h) => h[0]!,
  }),
  'Pendulum-v1': probe({
    title: 'Policy: mean torque μ(θ, θ̇ = 0)',
    hint: 'θ = 0 is upright; one curve per snapshot iteration (darker = later); torque is clipped to [−2, 2]',
    xLabel: 'angle θ (rad)',
    yLabel: 'μ',
    xs: linspace(-Math.PI, Math.PI, 121),
    obs: (th) => [Math.cos(th), Math.sin(th), 0],
    value: (h) => h[0]!,
  }),
  'CartPole-v1': probe({
    title: 'Policy: P(push right | θ)',
    hint: 'pole angle θ, cart at rest in the middle; one curve per snapshot iteration (darker = later)',
    xLabel: 'pole angle θ (rad)',
    yLabel: 'P(right)',
    xs: linspace(-0.21, 0.21, 85),
    obs: (th) => [0, 0, th, 0],
    value: (h) => 1 / (1 + Math.exp(h[0]! - h[1]!)),
  }),
};
