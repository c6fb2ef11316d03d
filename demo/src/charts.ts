/**
 * Live training charts (uPlot). Metrics are appended to column arrays once per iteration; the
 * charts redraw at most once per animation frame, so a fast run never waits on drawing.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { IterationMetrics } from '../../src/index.js';

type Col = (number | null)[];

const COLORS = {
  blue: '#3b82f6',
  blueBand: 'rgba(59, 130, 246, 0.18)',
  green: '#10b981',
  orange: '#f59e0b',
  red: '#ef4444',
  purple: '#8b5cf6',
  grey: '#6b7280',
  teal: '#14b8a6',
  pink: '#ec4899',
};

/** The columns every chart reads; one entry per iteration. */
export class MetricsTable {
  readonly iteration: number[] = [];
  readonly cols = {
    returnMean: [] as Col,
    returnP10: [] as Col,
    returnP90: [] as Col,
    rolling: [] as Col,
    kl: [] as Col,
    maxKl: [] as Col,
    actual: [] as Col,
    expected: [] as Col,
    expectedFull: [] as Col,
    stepFraction: [] as Col,
    backtracks: [] as Col,
    entropy: [] as Col,
    policyStd: [] as Col,
    valueLoss: [] as Col,
    explainedVariance: [] as Col,
    stepsPerSecond: [] as Col,
    tRollout: [] as Col,
    tAdvantages: [] as Col,
    tPolicy: [] as Col,
    tValueFit: [] as Col,
    tWall: [] as Col,
  };

  get length(): number {
    return this.iteration.length;
  }

  push(m: IterationMetrics, maxKl: number): void {
    const c = this.cols;
    this.iteration.push(m.iteration);
    c.returnMean.push(m.episodeReturnMean);
    c.returnP10.push(m.episodeReturnP10);
    c.returnP90.push(m.episodeReturnP90);
    c.rolling.push(m.rollingReturnMean);
    c.kl.push(m.kl);
    c.maxKl.push(maxKl);
    c.actual.push(m.surrogateAfter - m.surrogateBefore);
    c.expected.push(m.expectedImprovement * m.stepFraction);
    c.expectedFull.push(m.expectedImprovement);
    c.stepFraction.push(m.stepFraction);
    c.backtracks.push(m.backtracks);
    c.entropy.push(m.entropy);
    c.policyStd.push(m.policyStd);
    c.valueLoss.push(m.valueLoss > 0 ? m.valueLoss : null);
    c.explainedVariance.push(m.explainedVariance);
    c.stepsPerSecond.push(m.stepsPerSecond);
    c.tRollout.push(m.time.rollout);
    c.tAdvantages.push(m.time.advantages);
    c.tPolicy.push(m.time.policy);
    c.tValueFit.push(m.time.valueFit);
    c.tWall.push(m.time.gpuWall);
  }

  /** Keeps the first n rows. */
  truncate(n: number): void {
    this.iteration.length = Math.min(n, this.iteration.length);
    for (const col of Object.values(this.cols)) col.length = Math.min(n, col.length);
  }

  clear(): void {
    this.iteration.length = 0;
    for (const col of Object.values(this.cols)) col.length = 0;
  }
}

type ColName = keyof MetricsTable['cols'];

interface SeriesDef {
  label: string;
  col: ColName;
  color: string;
  scale?: string;
  dash?: number[];
  width?: number;
  /** Drawn only as a band edge (no line, no legend value of its own). */
  bandEdge?: boolean;
  points?: boolean;
  fmt?: (v: number) => string;
}

interface ChartDef {
  id: string;
  title: string;
  hint: string;
  series: SeriesDef[];
  /** Band between two series (indices into `series`, upper first). */
  band?: [number, number, string];
  /** Scales other than x and y: [key, axis label, side, log?]. */
  rightAxis?: { scale: string; label: string; range?: [number, number]; integer?: boolean };
  yLabel: string;
  yRange?: [number, number];
}

/** A legend value: about 3 significant digits, exponents for very large or small magnitudes. */
const fmtNum = (v: number): string => {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
};

/** Axis ticks: as many decimals as the tick step needs, so neighbouring ticks never read alike. */
function axisValues(_u: uPlot, splits: number[], _axis: number, _space: number, incr: number): string[] {
  const big = Math.max(...splits.map(Math.abs));
  if (big >= 1e5 || (incr > 0 && incr < 1e-3)) {
    const digits = incr > 0 && big > 0 ? Math.min(6, Math.max(1, Math.ceil(Math.log10(big / incr)))) : 2;
    return splits.map((v) => (v === 0 ? '0' : v.toExponential(digits)));
  }
  // The decimals of the step itself (0.0025 → 4), so 0.0125 never reads as 0.013.
  const step = incr > 0 ? String(parseFloat(incr.toPrecision(6))) : '0.01';
  const decimals = Math.min(6, step.includes('.') ? step.length - step.indexOf('.') - 1 : 0);
  return splits.map((v) => v.toFixed(decimals));
}

const CHARTS: ChartDef[] = [
  {
    id: 'return',
    title: 'Episodic return',
    hint: 'mean of the episodes finished in each iteration, with its 10th–90th percentile band',
    yLabel: 'return',
    series: [
      { label: 'mean', col: 'returnMean', color: COLORS.blue, width: 2, points: true },
      { label: 'p90', col: 'returnP90', color: 'transparent', bandEdge: true },
      { label: 'p10', col: 'returnP10', color: 'transparent', bandEdge: true },
      { label: 'last 100 episodes', col: 'rolling', color: COLORS.green, dash: [6, 4] },
    ],
    band: [1, 2, COLORS.blueBand],
  },
  {
    id: 'kl',
    title: 'Mean KL per update',
    hint: 'KL(π_old ‖ π_new) of the accepted step, against the trust region δ (max KL)',
    yLabel: 'KL',
    series: [
      { label: 'KL', col: 'kl', color: COLORS.purple, width: 2, points: true },
      { label: 'max KL δ', col: 'maxKl', color: COLORS.red, dash: [8, 5] },
    ],
  },
  {
    id: 'surrogate',
    title: 'Surrogate improvement',
    hint: 'L(θ_new) − L(θ_old): actual, and what the linear model expects at the accepted step',
    yLabel: 'ΔL',
    series: [
      { label: 'actual', col: 'actual', color: COLORS.blue, width: 2, points: true },
      { label: 'expected', col: 'expected', color: COLORS.orange, dash: [6, 4] },
      { label: 'expected, full step', col: 'expectedFull', color: COLORS.grey, dash: [2, 4] },
    ],
  },
  {
    id: 'linesearch',
    title: 'Line search',
    hint: 'fraction of the natural-gradient step taken (0 = rejected), and backtracks',
    yLabel: 'step fraction',
    yRange: [0, 1.05],
    series: [
      { label: 'step fraction', col: 'stepFraction', color: COLORS.teal, width: 2, points: true },
      { label: 'backtracks', col: 'backtracks', color: COLORS.pink, scale: 'bt', points: true, fmt: (v) => v.toFixed(0) },
    ],
    rightAxis: { scale: 'bt', label: 'backtracks', integer: true },
  },
  {
    id: 'entropy',
    title: 'Entropy and policy std',
    hint: 'mean entropy of the action distribution; σ of a Gaussian policy',
    yLabel: 'entropy',
    series: [
      { label: 'entropy', col: 'entropy', color: COLORS.purple, width: 2 },
      { label: 'policy std σ', col: 'policyStd', color: COLORS.orange, scale: 'std' },
    ],
    rightAxis: { scale: 'std', label: 'σ' },
  },
  {
    id: 'value',
    title: 'Value function',
    hint: 'loss (V(s) − R)² after the fit, and explained variance before it',
    yLabel: 'value loss',
    series: [
      { label: 'value loss', col: 'valueLoss', color: COLORS.red, width: 2 },
      { label: 'explained variance', col: 'explainedVariance', color: COLORS.green, scale: 'ev' },
    ],
    rightAxis: { scale: 'ev', label: 'explained var.' },
  },
  {
    id: 'throughput',
    title: 'Throughput',
    hint: 'environment steps per second, whole training loop included',
    yLabel: 'steps/s',
    series: [{ label: 'steps/s', col: 'stepsPerSecond', color: COLORS.blue, width: 2, fmt: (v) => v.toFixed(0) }],
  },
  {
    id: 'phases',
    title: 'Time per iteration',
    hint: 'GPU time of each phase (timestamp queries where available) and wall time',
    yLabel: 'ms',
    series: [
      { label: 'rollout', col: 'tRollout', color: COLORS.teal },
      { label: 'GAE', col: 'tAdvantages', color: COLORS.orange },
      { label: 'policy step', col: 'tPolicy', color: COLORS.purple },
      { label: 'value fit', col: 'tValueFit', color: COLORS.red },
      { label: 'wall', col: 'tWall', color: COLORS.grey, dash: [6, 4] },
    ],
  },
];

/** Tick steps for integer axes (iterations, backtracks). */
const INTEGER_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

/** Pixel height of each chart's plot area (axes included). */
const HEIGHT = 190;

export class Charts {
  private readonly plots: Array<{ def: ChartDef; plot: uPlot; el: HTMLElement }> = [];
  private dirty = false;
  private readonly observer: ResizeObserver;

  constructor(
    container: HTMLElement,
    private readonly table: MetricsTable,
  ) {
    this.observer = new ResizeObserver(() => this.resize());
    for (const def of CHARTS) {
      const card = document.createElement('div');
      card.className = 'card chart-card';
      card.dataset.chart = def.id;
      card.innerHTML = `<div class="card-head"><h2></h2><span class="hint"></span></div><div class="plot"></div>`;
      card.querySelector('h2')!.textContent = def.title;
      card.querySelector('.hint')!.textContent = def.hint;
      container.appendChild(card);
      const el = card.querySelector<HTMLElement>('.plot')!;
      const plot = new uPlot(this.options(def, el.clientWidth || 400), this.data(def), el);
      this.plots.push({ def, plot, el });
      this.observer.observe(el);
    }
  }

  private options(def: ChartDef, width: number): uPlot.Options {
    const scales: uPlot.Scales = {
      x: { time: false },
      y: def.yRange ? { range: def.yRange } : {},
    };
    const axes: uPlot.Axis[] = [
      { label: 'iteration', labelSize: 18, size: 36, stroke: '#4b5563', grid: { stroke: '#eef0f3' }, incrs: INTEGER_INCRS },
      { label: def.yLabel, labelSize: 18, size: 58, stroke: '#4b5563', grid: { stroke: '#eef0f3' }, values: axisValues },
    ];
    if (def.rightAxis) {
      const r = def.rightAxis;
      // Integer counts start at 0 and span at least 0..1, so a run of zeros draws at the bottom.
      scales[r.scale] = r.range ? { range: r.range } : r.integer ? { range: (_u, _min, max) => [0, Math.max(1, max)] } : {};
      axes.push({
        scale: r.scale,
        side: 1,
        label: r.label,
        labelSize: 18,
        size: 62,
        stroke: '#4b5563',
        grid: { show: false },
        values: axisValues,
        ...(r.integer ? { incrs: INTEGER_INCRS } : {}),
      });
    }
    const series: uPlot.Series[] = [
      { label: 'iteration', value: (_u, v) => (v == null ? '–' : String(v)) },
      ...def.series.map<uPlot.Series>((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.width ?? 1.5,
        scale: s.scale ?? 'y',
        spanGaps: true,
        ...(s.dash ? { dash: s.dash } : {}),
        points: { show: s.points ? undefined : false, size: 4 },
        value: (_u: uPlot, v: number | null) => (v == null ? '–' : (s.fmt ?? fmtNum)(v)),
        ...(s.bandEdge ? { width: 0, points: { show: false } } : {}),
      })),
    ];
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      scales,
      axes,
      series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    if (def.band) opts.bands = [{ series: [def.band[0] + 1, def.band[1] + 1], fill: def.band[2] }];
    return opts;
  }

  private data(def: ChartDef): uPlot.AlignedData {
    return [this.table.iteration, ...def.series.map((s) => this.table.cols[s.col])] as unknown as uPlot.AlignedData;
  }

  /** Marks the charts for redraw at the next animation frame. */
  invalidate(): void {
    this.dirty = true;
  }

  /** Redraws if something changed; call from requestAnimationFrame. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const { def, plot } of this.plots) {
      plot.setData(this.data(def));
      showLatestInLegend(plot);
    }
  }

  /** Points in each chart (all charts have one per iteration). */
  get points(): number {
    return Math.min(...this.plots.map((p) => p.plot.data[0]?.length ?? 0));
  }

  private resize(): void {
    for (const { plot, el } of this.plots) {
      const w = Math.floor(el.clientWidth);
      if (w > 0 && Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: HEIGHT });
    }
  }
}

/** Policy pictures: one curve per snapshot iteration, older ones lighter. */
export class PolicyPlot {
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;
  private width = 400;

  constructor(private readonly el: HTMLElement) {
    this.observer = new ResizeObserver(() => {
      const w = Math.floor(this.el.clientWidth);
      if (w > 0 && this.plot && Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: 220 });
      this.width = w || this.width;
    });
    this.observer.observe(el);
  }

  /** Redraws with these curves (x grid shared by all). */
  show(xLabel: string, yLabel: string, xs: number[], curves: Array<{ iteration: number; ys: number[] }>): void {
    this.plot?.destroy();
    const n = curves.length;
    const series: uPlot.Series[] = [
      { label: xLabel, value: (_u, v) => (v == null ? '–' : v.toFixed(2)) },
      ...curves.map<uPlot.Series>((c, i) => ({
        label: `iteration ${c.iteration}`,
        stroke: curveColor(n <= 1 ? 1 : i / (n - 1)),
        width: i === n - 1 ? 2.5 : 1.5,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v == null ? '–' : v.toFixed(3)),
      })),
    ];
    this.plot = new uPlot(
      {
        width: this.el.clientWidth || this.width,
        height: 220,
        scales: { x: { time: false } },
        axes: [
          { label: xLabel, labelSize: 18, size: 36, stroke: '#4b5563', grid: { stroke: '#eef0f3' } },
          { label: yLabel, labelSize: 18, size: 54, stroke: '#4b5563', grid: { stroke: '#eef0f3' }, values: axisValues },
        ],
        series,
        // One entry per snapshot: labels only, values would make it long.
        legend: { live: false },
      },
      [xs, ...curves.map((c) => c.ys)] as uPlot.AlignedData,
      this.el,
    );
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

/** While the cursor is off the chart, the legend shows the newest values. */
function showLatestInLegend(plot: uPlot): void {
  const n = plot.data[0]?.length ?? 0;
  if (n > 0 && (plot.cursor.left ?? -1) < 0) plot.setLegend({ idx: n - 1 });
}

/** Light blue (oldest) to dark blue (newest). */
function curveColor(t: number): string {
  const a = [191, 219, 254];
  const b = [30, 58, 138];
  const c = a.map((v, i) => Math.round(v + (b[i]! - v) * t));
  return `rgb(${c.join(',')})`;
}
