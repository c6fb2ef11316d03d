/** Metrics as CSV, and browser downloads. */
import type { IterationMetrics } from '../../src/index.js';

const COLUMNS: Array<[string, (m: IterationMetrics) => unknown]> = [
  ['iteration', (m) => m.iteration],
  ['timesteps', (m) => m.timesteps],
  ['episodes', (m) => m.episodes],
  ['totalEpisodes', (m) => m.totalEpisodes],
  ['episodeReturnMean', (m) => m.episodeReturnMean],
  ['episodeReturnP10', (m) => m.episodeReturnP10],
  ['episodeReturnP90', (m) => m.episodeReturnP90],
  ['episodeLengthMean', (m) => m.episodeLengthMean],
  ['rollingReturnMean', (m) => m.rollingReturnMean],
  ['kl', (m) => m.kl],
  ['surrogateBefore', (m) => m.surrogateBefore],
  ['surrogateAfter', (m) => m.surrogateAfter],
  ['expectedImprovement', (m) => m.expectedImprovement],
  ['stepFraction', (m) => m.stepFraction],
  ['backtracks', (m) => m.backtracks],
  ['accepted', (m) => m.accepted],
  ['rejectReason', (m) => m.rejectReason],
  ['entropy', (m) => m.entropy],
  ['policyStd', (m) => m.policyStd],
  ['valueLoss', (m) => m.valueLoss],
  ['explainedVariance', (m) => m.explainedVariance],
  ['cgResidual', (m) => m.cgResidual],
  ['stepsPerSecond', (m) => m.stepsPerSecond],
  ['timeRolloutMs', (m) => m.time.rollout],
  ['timeAdvantagesMs', (m) => m.time.advantages],
  ['timePolicyMs', (m) => m.time.policy],
  ['timeValueFitMs', (m) => m.time.valueFit],
  ['timeGpuWallMs', (m) => m.time.gpuWall],
  ['timeHostMs', (m) => m.time.host],
];

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One header line, then one line per iteration; empty cells for missing values. */
export function metricsCsv(history: readonly IterationMetrics[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(',')];
  for (const m of history) lines.push(COLUMNS.map(([, get]) => cell(get(m))).join(','));
  return `${lines.join('\n')}\n`;
}

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(name: string, text: string, type: string): void {
  download(name, new Blob([text], { type }));
}

export function downloadBytes(name: string, bytes: Uint8Array, type: string): void {
  download(name, new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
}
