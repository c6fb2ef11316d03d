/**
 * The demo page: TRPO learning live in this tab on its own GPU, with the same library code as in
 * Node. One training iteration is one submit and one readback (Trainer.iterate); between
 * iterations the page yields to the browser, and all drawing happens in requestAnimationFrame.
 */
import './style.css';
import {
  CheckpointError,
  ConfigError,
  createGpu,
  DeviceLostError,
  NoWebGpuError,
  PRESETS,
  Trainer,
  type EnvId,
  type Gpu,
  type IterationMetrics,
  type TRPOConfig,
} from '../../src/index.js';
import { PolicyPreview } from '../../src/rl/preview.js';
import { Charts, MetricsTable, PolicyPlot } from './charts.js';
import { metricsCsv, downloadBytes, downloadText } from './export.js';
import { FIELD_DEFS, Panel } from './panel.js';
import { PROBES } from './probes.js';
import { EnvAnimator } from './render.js';

export type DemoState =
  | 'loading'
  | 'no-webgpu'
  | 'ready'
  | 'running'
  | 'pausing'
  | 'paused'
  | 'finished'
  | 'device-lost'
  | 'error';

/** What the page exposes for automation as `window.trpoDemo`. */
export interface TrpoDemoApi {
  readonly state: DemoState;
  readonly iteration: number;
  readonly timesteps: number;
  /** Mean return of the episodes that finished in the latest iteration that had any. */
  readonly lastMeanReturn: number | null;
  readonly rollingReturn: number | null;
  readonly lastError: string | null;
  readonly env: EnvId;
  /** Points in each live chart (one per iteration). */
  readonly chartPoints: number;
  /** Animation frames drawn with GPU-recorded env states. */
  readonly framesDrawn: number;
  readonly adapter: string | null;
  /** The running trainer's config (null before a run starts). */
  readonly config: TRPOConfig | null;
  /** Per-iteration mean returns (null where no episode finished). */
  returns(): Array<number | null>;
  /** Loses the GPU device on purpose, to see how the page recovers. */
  simulateDeviceLoss(): void;
}

declare global {
  interface Window {
    trpoDemo: TrpoDemoApi;
  }
}

const PREVIEW_MAX_STEPS = 2048;
/**
 * In-memory checkpoints a device loss restarts from: after an iteration when this many ms passed
 * since the last one, and whenever training pauses.
 */
const CHECKPOINT_MS = 2000;
/** Policy curves kept: the first and the most recent ones. */
const MAX_CURVES = 8;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from index.html`);
  return el as T;
};

const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(digits);

class App {
  state: DemoState = 'loading';
  lastError: string | null = null;
  private gpu: Gpu | null = null;
  private trainer: Trainer | null = null;
  private preview: PolicyPreview | null = null;
  private readonly history: IterationMetrics[] = [];
  private readonly table = new MetricsTable();
  private readonly charts: Charts;
  private readonly policyPlot: PolicyPlot;
  private readonly animator: EnvAnimator;
  private readonly panel: Panel;
  private chain: Promise<void> = Promise.resolve();
  private pendingConfig = false;
  private checkpoint: { bytes: Uint8Array; iteration: number; at: number } | null = null;
  private curves: Array<{ iteration: number; ys: number[] }> = [];
  private lastReturn: number | null = null;
  private deviceLost: { reason: string; message: string } | null = null;
  private lastIterationMs = 0;
  /** The iteration in flight, if any: a checkpoint taken meanwhile would mix two iterations. */
  private inFlight: Promise<unknown> | null = null;

  constructor() {
    this.charts = new Charts($('charts'), this.table);
    this.policyPlot = new PolicyPlot($('policy-plot'));
    this.animator = new EnvAnimator($<HTMLCanvasElement>('envs'));
    this.animator.onError = (e) => this.fail(e);
    this.panel = new Panel($('panel'), {
      start: () => this.start(),
      pause: () => this.pause(),
      step: () => this.stepOnce(),
      reset: () => this.reset(),
      downloadCsv: () => this.downloadCsv(),
      downloadCheckpoint: () => void this.downloadCheckpoint(),
      loadCheckpoint: () => $<HTMLInputElement>('checkpoint-file').click(),
      configChanged: (_key, hot) => this.configChanged(hot),
      runChanged: () => this.runChanged(),
      viewChanged: (key) => this.viewChanged(key),
    });
    $<HTMLInputElement>('checkpoint-file').addEventListener('change', (ev) => {
      const input = ev.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) void file.arrayBuffer().then((b) => this.loadCheckpoint(new Uint8Array(b), file.name));
    });
    this.animator.speed = this.panel.view.speed;
    this.animator.idleEnvs = this.panel.view.envsDrawn;
    this.showPolicyCard();
    this.updateTitles();
    const frame = (now: number) => {
      this.charts.flush();
      this.animator.tick(now);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    this.setState('loading');
  }

  // ---------------------------------------------------------------------------------------------
  // Device

  async init(): Promise<void> {
    try {
      await this.ensureGpu();
      this.setState('ready');
    } catch (e) {
      this.fail(e);
    }
  }

  private async ensureGpu(): Promise<Gpu> {
    if (this.gpu) return this.gpu;
    if (!window.isSecureContext) {
      throw new NoWebGpuError('this page is not a secure context; WebGPU needs https:// or http://localhost');
    }
    const gpu = await createGpu({ label: 'webgpu-trpo-demo' });
    this.gpu = gpu;
    this.deviceLost = null;
    void gpu.device.lost.then((info) => {
      if (this.gpu !== gpu || gpu.isDestroyed) return;
      this.deviceLost = { reason: info.reason, message: info.message };
      this.onDeviceLost();
    });
    this.showDeviceInfo(gpu);
    return gpu;
  }

  private showDeviceInfo(gpu: Gpu): void {
    const a = gpu.adapter;
    const l = gpu.limits;
    const rows: Array<[string, string]> = [
      ['adapter', [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(' · ') || 'unnamed'],
      ['API', a.backend === 'browser' ? 'navigator.gpu (this browser)' : a.backend],
      ['timestamp queries', gpu.hasTimestampQuery ? 'yes (GPU time per phase)' : 'no (wall time only)'],
      ['max invocations / workgroup', String(l.maxComputeInvocationsPerWorkgroup)],
      ['max workgroup size x', String(l.maxComputeWorkgroupSizeX)],
      ['workgroup storage', `${(l.maxComputeWorkgroupStorageSize / 1024).toFixed(0)} KiB`],
      ['storage buffers / stage', String(l.maxStorageBuffersPerShaderStage)],
      ['max storage binding', `${(l.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`],
      ['max buffer', `${(l.maxBufferSize / 2 ** 20).toFixed(0)} MiB`],
    ];
    const dl = $('device-info');
    dl.innerHTML = '';
    for (const [k, v] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dl.append(dt, dd);
    }
  }

  private onDeviceLost(): void {
    const lost = this.deviceLost;
    if (!lost) return;
    this.dropGpu();
    this.setState('device-lost');
    this.lastError = `device lost (${lost.reason}): ${lost.message || 'no message'}`;
    const at = this.checkpoint ? `the checkpoint of iteration ${this.checkpoint.iteration}` : 'the start (no checkpoint was taken yet)';
    this.notice(
      'error',
      'The GPU device was lost',
      [
        `The browser or the driver took the GPU away from this page (reason: ${lost.reason}${lost.message ? `, “${lost.message}”` : ''}). ` +
          'This happens after a driver reset or update, when the GPU is needed elsewhere, or after a long time in a background tab.',
        `The charts are kept. Restart continues on a new device from ${at}.`,
      ],
      [
        { label: this.checkpoint ? `Restart from iteration ${this.checkpoint.iteration}` : 'Restart', action: () => this.restartAfterLoss() },
        { label: 'Start over', action: () => this.reset() },
      ],
    );
  }

  /** Forgets the GPU and everything on it (after a loss or a fatal error). */
  private dropGpu(): void {
    this.animator.setPreview(null, this.panel.run.env);
    try {
      this.preview?.destroy();
      this.trainer?.destroy();
    } catch {
      // The device is gone; its objects cannot be released any more cleanly than this.
    }
    this.preview = null;
    this.trainer = null;
    const gpu = this.gpu;
    this.gpu = null;
    try {
      gpu?.destroy();
    } catch {
      // as above
    }
  }

  private restartAfterLoss(): void {
    this.hideNotice();
    const cp = this.checkpoint;
    void this.enqueue(async () => {
      this.setState('loading');
      const gpu = await this.ensureGpu();
      if (cp) {
        const trainer = await Trainer.load(cp.bytes, { gpu });
        this.truncateHistory(cp.iteration);
        this.adoptTrainer(trainer);
        this.lastError = null;
        this.setState('paused');
      } else {
        this.clearRun();
        this.setState('ready');
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Run control

  /** Runs `fn` after every operation queued before it (training loop, step, reset, load). */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn).catch((e: unknown) => this.fail(e));
    this.chain = p;
    return p;
  }

  private start(): void {
    if (this.state === 'running' || this.state === 'loading' || this.state === 'no-webgpu') return;
    if (this.state === 'pausing') {
      this.setState('running');
      return;
    }
    const invalid = this.panel.validate();
    if (invalid) {
      this.lastError = invalid.message;
      return;
    }
    if (this.trainer && this.trainer.timesteps >= this.panel.run.stopAt) {
      this.notice('info', 'Reached the timestep budget', [`Raise “stop at timesteps” (now ${this.panel.run.stopAt}) to train further.`]);
      return;
    }
    this.hideNotice();
    this.setState('running');
    void this.enqueue(() => this.trainLoop());
  }

  private pause(): void {
    if (this.state === 'running') this.setState('pausing');
  }

  private stepOnce(): void {
    if (this.state === 'running' || this.state === 'pausing' || this.state === 'loading' || this.state === 'no-webgpu') return;
    const invalid = this.panel.validate();
    if (invalid) {
      this.lastError = invalid.message;
      return;
    }
    this.hideNotice();
    void this.enqueue(async () => {
      this.setState('running');
      await this.ensureTrainer();
      await this.iterateOnce();
      await this.takeCheckpoint();
      this.setState(this.finished() ? 'finished' : 'paused');
    });
  }

  private reset(): void {
    if (this.state === 'running') this.setState('pausing');
    this.hideNotice();
    void this.enqueue(async () => {
      this.clearRun();
      this.lastError = null;
      if (!this.gpu && this.state !== 'no-webgpu') {
        this.setState('loading');
        await this.ensureGpu();
      }
      if (this.state !== 'no-webgpu') this.setState('ready');
    });
  }

  private finished(): boolean {
    return !!this.trainer && this.trainer.timesteps >= this.panel.run.stopAt;
  }

  private async trainLoop(): Promise<void> {
    if (this.state !== 'running') {
      if (this.state === 'pausing') this.setState(this.trainer ? 'paused' : 'ready');
      return;
    }
    await this.ensureTrainer();
    while (this.state === 'running') {
      await this.iterateOnce();
      if (this.finished()) {
        await this.takeCheckpoint();
        this.setState('finished');
        return;
      }
      // Let the browser handle input and paint between iterations.
      await new Promise((r) => setTimeout(r, 0));
    }
    await this.takeCheckpoint();
    if (this.state === 'pausing') this.setState('paused');
  }

  private async ensureTrainer(): Promise<Trainer> {
    if (this.trainer) return this.trainer;
    const gpu = await this.ensureGpu();
    const config = this.panel.config();
    const trainer = await Trainer.create('trpo', { env: this.panel.run.env, seed: this.panel.run.seed, config, gpu });
    this.pendingConfig = false;
    this.adoptTrainer(trainer);
    await this.takeCheckpoint();
    await this.snapshotPolicy();
    return trainer;
  }

  /** Makes `trainer` the current one, with a fresh live preview of its policy. */
  private adoptTrainer(trainer: Trainer): void {
    if (this.trainer && this.trainer !== trainer) this.trainer.destroy();
    this.trainer = trainer;
    this.makePreview();
    this.panel.setRunLocked(true);
    this.updateStatus();
  }

  private makePreview(): void {
    const t = this.trainer;
    this.preview?.destroy();
    this.preview = null;
    if (!t || !this.gpu) {
      this.animator.setPreview(null, this.panel.run.env);
      return;
    }
    this.preview = new PolicyPreview(this.gpu, t.spec, t.actor, t.policyBuffer, {
      nEnvs: this.panel.view.envsDrawn,
      maxSteps: PREVIEW_MAX_STEPS,
      seed: (t.seed + 7777) >>> 0,
      deterministic: this.panel.view.deterministic,
      maxProbe: 256,
    });
    this.animator.setPreview(this.preview, t.env);
  }

  private async iterateOnce(): Promise<void> {
    await this.applyPendingConfig();
    const trainer = this.trainer!;
    const t0 = performance.now();
    const pending = trainer.iterate();
    this.inFlight = pending;
    const m = await pending.finally(() => {
      this.inFlight = null;
    });
    this.lastIterationMs = performance.now() - t0;
    // Animation chunks must outlast an iteration: a preview submitted behind one waits for it.
    this.animator.chunkSeconds = Math.min(20, Math.max(1, (1.5 * this.lastIterationMs) / 1000));
    this.history.push(m);
    this.table.push(m, trainer.config.maxKl);
    if (m.episodeReturnMean !== null) this.lastReturn = m.episodeReturnMean;
    this.charts.invalidate();
    this.updateStatus();
    if (m.iteration % this.panel.view.snapshotEvery === 0) await this.snapshotPolicy();
    if (!this.checkpoint || performance.now() - this.checkpoint.at >= CHECKPOINT_MS) await this.takeCheckpoint();
  }

  /** Keeps the trainer's state in memory (both networks, Adam, counters, config). */
  private async takeCheckpoint(): Promise<void> {
    const t = this.trainer;
    if (!t || this.checkpoint?.iteration === t.iteration) return;
    this.checkpoint = { bytes: await t.save(), iteration: t.iteration, at: performance.now() };
  }

  private configChanged(hot: boolean): void {
    const err = this.panel.validate();
    this.lastError = err ? err.message : null;
    if (!this.trainer) return;
    if (hot) this.pendingConfig = true;
    else this.notice('info', 'Applies on reset', ['Network sizes and the initial log-std take effect when the run is reset.']);
  }

  /**
   * Applies changed hyperparameters to the running trainer: a new trainer from the current state
   * (both networks, Adam, counters) with the new config. Invalid values wait, and the panel says why.
   */
  private async applyPendingConfig(): Promise<void> {
    const t = this.trainer;
    if (!this.pendingConfig || !t || !this.gpu) return;
    let next: TRPOConfig;
    try {
      next = this.panel.config();
    } catch (e) {
      if (e instanceof ConfigError) return;
      throw e;
    }
    this.pendingConfig = false;
    const hotKeys = FIELD_DEFS.filter((f) => f.hot).map((f) => f.key);
    if (hotKeys.every((k) => JSON.stringify(next[k]) === JSON.stringify(t.config[k]))) return;
    const state = await t.state();
    const config = { ...t.config };
    for (const k of hotKeys) (config as Record<string, unknown>)[k] = next[k];
    const trainer = await Trainer.fromState({ ...state, config }, { gpu: this.gpu });
    this.adoptTrainer(trainer);
  }

  private runChanged(): void {
    const err = this.panel.validate();
    this.lastError = err ? err.message : null;
    if (this.trainer) this.pendingConfig = true;
    else {
      this.animator.setPreview(null, this.panel.run.env);
      this.showPolicyCard();
    }
    this.updateTitles();
  }

  private viewChanged(key: string): void {
    if (key === 'speed') this.animator.speed = this.panel.view.speed;
    this.animator.idleEnvs = this.panel.view.envsDrawn;
    if (key === 'envsDrawn' || key === 'deterministic') {
      if (this.trainer && this.gpu) this.makePreview();
    }
  }

  /** Forgets the run: trainer, preview, metrics, curves, checkpoint. */
  private clearRun(): void {
    this.animator.setPreview(null, this.panel.run.env);
    this.preview?.destroy();
    this.preview = null;
    this.trainer?.destroy();
    this.trainer = null;
    this.history.length = 0;
    this.table.clear();
    this.charts.invalidate();
    this.curves = [];
    this.policyPlot.clear();
    this.checkpoint = null;
    this.lastReturn = null;
    this.pendingConfig = false;
    this.panel.setRunLocked(false);
    this.showPolicyCard();
    this.updateTitles();
    this.updateStatus();
  }

  private truncateHistory(iteration: number): void {
    const keep = this.history.filter((m) => m.iteration <= iteration).length;
    this.history.length = keep;
    this.table.truncate(keep);
    this.curves = this.curves.filter((c) => c.iteration <= iteration);
    this.charts.invalidate();
  }

  // ---------------------------------------------------------------------------------------------
  // Policy picture

  private showPolicyCard(): void {
    const probe = PROBES[this.panel.run.env];
    $('policy-title').textContent = probe.title;
    $('policy-hint').textContent = probe.hint;
  }

  private async snapshotPolicy(): Promise<void> {
    const t = this.trainer;
    const preview = this.preview;
    if (!t || !preview) return;
    const probe = PROBES[t.env];
    const out = await preview.probe(probe.observations());
    const head = t.actor.headDim;
    const ys = probe.xs.map((_, i) => probe.value(out.subarray(i * head, (i + 1) * head)));
    this.curves = this.curves.filter((c) => c.iteration !== t.iteration);
    this.curves.push({ iteration: t.iteration, ys });
    if (this.curves.length > MAX_CURVES) this.curves.splice(1, this.curves.length - MAX_CURVES);
    this.policyPlot.show(probe.xLabel, probe.yLabel, probe.xs, this.curves);
  }

  // ---------------------------------------------------------------------------------------------
  // Export and import

  private downloadCsv(): void {
    if (this.history.length === 0) return;
    const t = this.trainer;
    downloadText(`trpo-${this.panel.run.env}-seed${t?.seed ?? this.panel.run.seed}-metrics.csv`, metricsCsv(this.history), 'text/csv');
  }

  private async downloadCheckpoint(): Promise<void> {
    try {
      while (this.inFlight) await this.inFlight.catch(() => undefined);
      const t = this.trainer;
      if (!t) return;
      const bytes = await t.save();
      downloadBytes(`trpo-${t.spec.id}-seed${t.seed}-iter${t.iteration}.json`, bytes, 'application/json');
    } catch (e) {
      this.fail(e);
    }
  }

  private loadCheckpoint(bytes: Uint8Array, name: string): void {
    if (this.state === 'running') this.setState('pausing');
    void this.enqueue(async () => {
      const gpu = await this.ensureGpu();
      let trainer: Trainer;
      try {
        trainer = await Trainer.load(bytes, { gpu });
      } catch (e) {
        if (e instanceof CheckpointError || e instanceof ConfigError || e instanceof SyntaxError || (e instanceof Error && /checkpoint/i.test(e.message))) {
          this.lastError = e.message;
          this.notice('error', `Cannot load ${name}`, [e.message]);
          if (this.state === 'pausing') this.setState(this.trainer ? 'paused' : 'ready');
          return;
        }
        throw e;
      }
      this.clearRun();
      this.panel.setAll(trainer.env, trainer.seed, trainer.config);
      if (trainer.timesteps >= this.panel.run.stopAt) {
        const preset = PRESETS[trainer.spec.id]?.timesteps ?? 100_000;
        this.panel.run.stopAt = trainer.timesteps + preset;
        this.panel.refresh();
      }
      this.adoptTrainer(trainer);
      this.checkpoint = { bytes, iteration: trainer.iteration, at: performance.now() };
      await this.snapshotPolicy();
      this.showPolicyCard();
      this.updateTitles();
      this.notice('info', `Loaded ${name}`, [
        `${trainer.spec.id}, iteration ${trainer.iteration}, ${trainer.timesteps} steps. The environments show its policy; press Start to continue training.`,
      ]);
      this.setState('paused');
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Errors and status

  private fail(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.lastError = err.message;
    console.warn('[demo]', err);
    if (err instanceof ConfigError) {
      // Bad input: the panel marks the field; nothing else changes.
      this.panel.validate();
      if (this.state === 'running' || this.state === 'pausing') this.setState(this.trainer ? 'paused' : 'ready');
      return;
    }
    if (err instanceof NoWebGpuError) {
      this.setState('no-webgpu');
      this.notice(
        'error',
        'WebGPU is not available here',
        [
          'This demo trains on your GPU through WebGPU, which this browser did not provide.',
          'What to do: use a current Chrome or Edge (113 or newer) on Windows, macOS or ChromeOS, or Safari 26; on Linux and Android, Chrome with WebGPU enabled (chrome://flags/#enable-unsafe-webgpu, and --enable-features=Vulkan on Linux); Firefox 141 or newer on Windows. Check chrome://gpu to see whether WebGPU is hardware accelerated.',
          'On a machine without a GPU, Chromium started with --enable-unsafe-webgpu --enable-features=Vulkan runs WebGPU on its built-in software renderer (slower, but it learns).',
          `Details: ${err.message}`,
        ],
      );
      return;
    }
    if (err instanceof DeviceLostError || this.deviceLost) {
      this.deviceLost ??= { reason: err instanceof DeviceLostError ? err.reason : 'unknown', message: err.message };
      if (this.state !== 'device-lost') this.onDeviceLost();
      return;
    }
    // A device loss can surface first as a failed readback; give its event a moment to arrive.
    setTimeout(() => {
      if (this.deviceLost) {
        if (this.state !== 'device-lost') this.onDeviceLost();
        return;
      }
      this.dropGpu();
      this.setState('error');
      this.notice('error', 'Training stopped with an error', [err.message, 'Restart creates a new GPU device and starts over with the current settings.'], [
        { label: 'Restart', action: () => this.reset() },
      ]);
    }, 50);
  }

  private notice(kind: 'info' | 'error', title: string, paragraphs: string[], buttons: Array<{ label: string; action: () => void }> = []): void {
    const el = $('notice');
    el.hidden = false;
    el.dataset.kind = kind;
    el.innerHTML = '';
    const h = document.createElement('h3');
    h.textContent = title;
    el.appendChild(h);
    for (const p of paragraphs) {
      const para = document.createElement('p');
      para.textContent = p;
      el.appendChild(para);
    }
    const row = document.createElement('div');
    row.className = 'notice-actions';
    for (const b of buttons) {
      const btn = document.createElement('button');
      btn.textContent = b.label;
      btn.addEventListener('click', b.action);
      row.appendChild(btn);
    }
    if (kind === 'info') {
      const close = document.createElement('button');
      close.textContent = 'Dismiss';
      close.className = 'secondary';
      close.addEventListener('click', () => this.hideNotice());
      row.appendChild(close);
    }
    if (row.childElementCount > 0) el.appendChild(row);
  }

  private hideNotice(): void {
    const el = $('notice');
    el.hidden = true;
    el.innerHTML = '';
  }

  private setState(s: DemoState): void {
    this.state = s;
    const badge = $('state-badge');
    badge.dataset.state = s;
    badge.textContent = s.replace('-', ' ');
    document.body.dataset.state = s;
    this.animator.idleMessage =
      s === 'no-webgpu' ? 'WebGPU is not available' : s === 'device-lost' ? 'GPU device lost' : s === 'error' ? 'Stopped' : 'Press Start to train';
    this.updateStatus();
  }

  private refreshButtons(): void {
    const s = this.state;
    const idle = s === 'ready' || s === 'paused' || s === 'finished';
    this.panel.setButtons({
      canStart: idle || s === 'pausing',
      canPause: s === 'running',
      canStep: idle,
      canReset: s !== 'loading' && s !== 'no-webgpu',
      hasTrainer: !!this.trainer && s !== 'device-lost',
      hasMetrics: this.history.length > 0,
    });
  }

  private updateStatus(): void {
    this.refreshButtons();
    const t = this.trainer;
    const last = this.history[this.history.length - 1];
    $('stat-iteration').textContent = String(t?.iteration ?? last?.iteration ?? 0);
    $('stat-timesteps').textContent = (t?.timesteps ?? last?.timesteps ?? 0).toLocaleString('en-US');
    $('stat-return').textContent = fmt(this.lastReturn);
    $('stat-rolling').textContent = fmt(last?.rollingReturnMean);
    $('stat-sps').textContent = last ? last.stepsPerSecond.toFixed(0) : '–';
  }

  private updateTitles(): void {
    const env = this.trainer?.spec.id ?? this.panel.run.env;
    $('envs-title').textContent = env;
    $('envs-hint').textContent =
      env === 'CartPole-v1'
        ? 'cart and pole; the arrow is the push the policy chose'
        : env === 'Pendulum-v1'
          ? 'swing up and hold upright; the arc is the torque'
          : 'drive the mass to the flag at x = 0; blue: force, grey: velocity';
  }

  // ---------------------------------------------------------------------------------------------

  api(): TrpoDemoApi {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const app = this;
    return {
      get state() {
        return app.state;
      },
      get iteration() {
        return app.trainer?.iteration ?? app.history[app.history.length - 1]?.iteration ?? 0;
      },
      get timesteps() {
        return app.trainer?.timesteps ?? app.history[app.history.length - 1]?.timesteps ?? 0;
      },
      get lastMeanReturn() {
        return app.lastReturn;
      },
      get rollingReturn() {
        return app.history[app.history.length - 1]?.rollingReturnMean ?? null;
      },
      get lastError() {
        return app.lastError;
      },
      get env() {
        return app.trainer?.env ?? app.panel.run.env;
      },
      get chartPoints() {
        return app.charts.points;
      },
      get framesDrawn() {
        return app.animator.framesDrawn;
      },
      get adapter() {
        if (!app.gpu) return null;
        const a = app.gpu.adapter;
        return [a.vendor, a.architecture, a.description].filter((s) => s).join(' ') || 'unnamed';
      },
      get config() {
        return app.trainer ? structuredClone(app.trainer.config) : null;
      },
      returns: () => app.history.map((m) => m.episodeReturnMean),
      simulateDeviceLoss: () => app.gpu?.device.destroy(),
    };
  }
}

const app = new App();
window.trpoDemo = app.api();
window.addEventListener('unhandledrejection', (ev) => {
  app.lastError = String((ev.reason as Error)?.message ?? ev.reason);
});
void app.init();
