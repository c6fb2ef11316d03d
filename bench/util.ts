/** Small helpers of the benchmarks: statistics, tables, the machine description. */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

/**
 * Trainer options every trainer of a run gets (Trainer.create), set once from the command line:
 * `--no-output-jacobian` for A/B runs of the Fisher-vector product's two forms.
 */
export const trainerOptions: { outputJacobian?: boolean } = {};

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median where some values are missing (unsolved runs count as +∞): null if the median is +∞. */
export function medianCensored(xs: ReadonlyArray<number | null>): number | null {
  const m = median(xs.map((x) => (x === null ? Number.POSITIVE_INFINITY : x)));
  return Number.isFinite(m) ? m : null;
}

export function minMax(xs: readonly number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rounds for JSON output: 4 significant digits (keeps files readable). */
export function round(x: number | null | undefined, digits = 4): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  if (x === 0) return 0;
  return Number(x.toPrecision(digits));
}

/** Human formatting: thousands separators for big numbers, a few digits for small ones. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a === 0) return '0';
  return x.toPrecision(digits);
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !Number.isFinite(a)) return null;
  return a / b;
}

/** A plain-text table with aligned columns (Markdown-compatible). */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export interface LoadSample {
  at: string;
  /** 1, 5 and 15 minute load averages (runnable processes; this machine's core count is in `machine`). */
  load: [number, number, number];
}

export function loadSample(): LoadSample {
  const [a, b, c] = loadavg();
  return { at: new Date().toISOString(), load: [round(a!, 3)!, round(b!, 3)!, round(c!, 3)!] };
}

export const loadText = (s: LoadSample) => s.load.map((x) => x.toFixed(2)).join(' / ');

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: round(totalmem() / 2 ** 30, 3),
    freeMemoryGiB: round(freemem() / 2 ** 30, 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit: git(['rev-parse', '--short', 'HEAD']),
    /** src/ has changes or untracked files that the commit does not contain. */
    srcDiffersFromCommit: (git(['status', '--porcelain', '--', 'src']) ?? '') !== '',
  };
}
