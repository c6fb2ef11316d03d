/**
 * The control panel (lil-gui): environment, preset, seed, every TRPOConfig field, run buttons,
 * view options and export. Values are validated with the library's own rules (resolveConfig /
 * ConfigError), and an invalid field is marked with the allowed range.
 */
import GUI, { type Controller } from 'lil-gui';
import { ENV_IDS, PRESET_NAMES, getPreset, presetConfig, type EnvId, type TRPOConfig } from '../../src/index.js';
import { CONFIG_RULES, ConfigError, resolveConfig } from '../../src/algos/trpo/config.js';

type Key = keyof TRPOConfig;

interface FieldDef {
  key: Key;
  label: string;
  help: string;
  /**
   * number: a plain box (what is typed is kept, and the library's rules judge it); int: a box
   * snapping to integers; slider: bounded by the allowed range; bool; widths: "64,64".
   */
  kind: 'number' | 'int' | 'slider' | 'bool' | 'widths';
  min?: number;
  max?: number;
  step?: number;
  /**
   * Whether a change can apply to a running trainer at the next iteration, keeping what was
   * learned (everything but network shapes and the initial log-std, which apply on reset).
   */
  hot: boolean;
}

const GROUPS: Array<{ title: string; fields: FieldDef[] }> = [
  {
    title: 'Trust region',
    fields: [
      { key: 'maxKl', label: 'max KL δ', help: 'δ, the trust-region radius: the mean KL(π_old ‖ π_new) an update may reach', kind: 'number', hot: true },
      { key: 'damping', label: 'damping', help: 'added to the Fisher-vector product (F + damping·I) for conjugate gradient stability', kind: 'number', hot: true },
      { key: 'cgIters', label: 'CG iterations', help: 'conjugate gradient iterations for x ≈ F⁻¹g', kind: 'slider', min: 1, max: 100, step: 1, hot: true },
      { key: 'lineSearchSteps', label: 'line-search steps', help: 'backtracking candidates θ_old + shrinkʲ·step, j < lineSearchSteps', kind: 'slider', min: 1, max: 32, step: 1, hot: true },
      { key: 'lineSearchShrink', label: 'line-search shrink', help: 'factor between consecutive line-search candidates, in (0, 1)', kind: 'slider', min: 0.05, max: 0.95, step: 0.05, hot: true },
      { key: 'fvpSubsample', label: 'FVP subsample', help: 'fraction of the batch the Fisher-vector product uses, in (0, 1]', kind: 'slider', min: 0.05, max: 1, step: 0.05, hot: true },
      { key: 'entCoef', label: 'entropy coef.', help: 'entropy bonus coefficient in the surrogate objective', kind: 'number', hot: true },
    ],
  },
  {
    title: 'Batch',
    fields: [
      { key: 'nEnvs', label: 'envs (nEnvs)', help: 'parallel environments stepped on the GPU', kind: 'int', step: 1, hot: true },
      { key: 'nSteps', label: 'steps per env', help: 'steps per environment per iteration; the batch is nEnvs·nSteps', kind: 'int', step: 1, hot: true },
    ],
  },
  {
    title: 'Advantages',
    fields: [
      { key: 'gamma', label: 'discount γ', help: 'discount γ in [0, 1]', kind: 'slider', min: 0, max: 1, step: 0.001, hot: true },
      { key: 'gaeLambda', label: 'GAE λ', help: 'GAE λ in [0, 1]', kind: 'slider', min: 0, max: 1, step: 0.001, hot: true },
      { key: 'normalizeAdvantage', label: 'normalize advantages', help: 'normalize advantages to mean 0, std 1 over the batch', kind: 'bool', hot: true },
    ],
  },
  {
    title: 'Value function',
    fields: [
      { key: 'vfLr', label: 'learning rate', help: 'Adam learning rate of the value function', kind: 'number', hot: true },
      { key: 'vfEpochs', label: 'epochs', help: 'epochs of minibatch Adam on the value loss per iteration', kind: 'int', step: 1, hot: true },
      { key: 'vfBatchSize', label: 'minibatch size', help: 'value-function minibatch size; must divide nEnvs·nSteps', kind: 'int', step: 1, hot: true },
      { key: 'valueHidden', label: 'hidden layers', help: 'hidden layer widths of the value network (tanh), e.g. 64,64', kind: 'widths', hot: false },
    ],
  },
  {
    title: 'Policy network',
    fields: [
      { key: 'policyHidden', label: 'hidden layers', help: 'hidden layer widths of the policy network (tanh), e.g. 64,64', kind: 'widths', hot: false },
      { key: 'logStdInit', label: 'initial log-std', help: 'initial log standard deviation of Gaussian policies', kind: 'number', hot: false },
    ],
  },
];

export const FIELD_DEFS: readonly FieldDef[] = GROUPS.flatMap((g) => g.fields);

/** The panel's values: config fields as the GUI holds them (widths as text). */
type ConfigForm = { [K in Key]: TRPOConfig[K] extends number[] ? string : TRPOConfig[K] };

export interface RunSettings {
  env: EnvId;
  preset: string;
  seed: number;
  /** Training pauses when it reaches this many env steps. */
  stopAt: number;
}

export interface ViewSettings {
  envsDrawn: number;
  deterministic: boolean;
  speed: number;
  snapshotEvery: number;
}

export interface PanelActions {
  start(): void;
  pause(): void;
  step(): void;
  reset(): void;
  downloadCsv(): void;
  downloadCheckpoint(): void;
  loadCheckpoint(): void;
  /** A config field changed (already validated or not: call panel.config()). */
  configChanged(key: Key, hot: boolean): void;
  /** Env, preset or seed changed (apply on reset). */
  runChanged(): void;
  viewChanged(key: keyof ViewSettings): void;
}

const toForm = (c: TRPOConfig): ConfigForm => ({
  ...c,
  policyHidden: c.policyHidden.join(','),
  valueHidden: c.valueHidden.join(','),
});

/** "64, 64" → [64, 64]; text that is not a list of numbers is an error naming what was typed. */
function parseWidths(key: 'policyHidden' | 'valueHidden', text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((p) => p.length > 0);
  const nums = parts.map(Number);
  if (nums.length === 0 || !nums.every((n) => Number.isFinite(n))) throw new ConfigError(key, text, CONFIG_RULES[key].allowed);
  return nums;
}

export class Panel {
  readonly gui: GUI;
  readonly run: RunSettings;
  readonly view: ViewSettings = { envsDrawn: 6, deterministic: false, speed: 1, snapshotEvery: 5 };
  private readonly form: ConfigForm;
  private readonly controllers = new Map<string, Controller>();
  private readonly buttons: Record<'start' | 'pause' | 'step' | 'reset' | 'csv' | 'checkpoint' | 'load', Controller>;
  private readonly errorEl: HTMLElement;
  private invalidKey: string | null = null;

  constructor(container: HTMLElement, private readonly actions: PanelActions) {
    this.gui = new GUI({ container, title: 'TRPO controls', width: 320 });
    this.run = { env: 'CartPole-v1', preset: 'CartPole-v1', seed: 0, stopAt: getPreset('CartPole-v1').timesteps ?? 100_000 };
    this.form = toForm(presetConfig(this.run.preset));

    const runFolder = this.gui.addFolder('Run');
    this.track('env', runFolder.add(this.run, 'env', [...ENV_IDS]).name('environment')).onChange((env: EnvId) => {
      // An env's own preset is the sensible start; keep 'default' if the user chose it.
      if (this.run.preset !== 'default') this.setPreset(PRESET_NAMES.includes(env) ? env : 'default');
      this.actions.runChanged();
    });
    this.track('preset', runFolder.add(this.run, 'preset', PRESET_NAMES).name('preset')).onChange((p: string) => {
      this.setPreset(p);
      this.actions.runChanged();
    });
    this.track('seed', runFolder.add(this.run, 'seed').step(1).name('seed')).onChange(() => this.actions.runChanged());
    this.track('stopAt', runFolder.add(this.run, 'stopAt').step(1000).name('stop at timesteps'));
    const act = {
      start: () => this.actions.start(),
      pause: () => this.actions.pause(),
      step: () => this.actions.step(),
      reset: () => this.actions.reset(),
      csv: () => this.actions.downloadCsv(),
      checkpoint: () => this.actions.downloadCheckpoint(),
      load: () => this.actions.loadCheckpoint(),
    };
    const button = (folder: GUI, key: keyof typeof act, name: string): Controller => {
      const c = folder.add(act, key).name(name);
      c.domElement.dataset.action = key;
      return c;
    };
    this.errorEl = document.createElement('div');
    this.errorEl.className = 'panel-error';
    this.errorEl.hidden = true;
    this.errorEl.setAttribute('role', 'alert');
    this.buttons = {
      start: button(runFolder, 'start', 'Start'),
      pause: button(runFolder, 'pause', 'Pause'),
      step: button(runFolder, 'step', 'One iteration'),
      reset: button(runFolder, 'reset', 'Reset'),
      csv: null as unknown as Controller,
      checkpoint: null as unknown as Controller,
      load: null as unknown as Controller,
    };
    runFolder.$children.appendChild(this.errorEl);

    for (const group of GROUPS) {
      const folder = this.gui.addFolder(group.title);
      for (const f of group.fields) {
        let c: Controller;
        if (f.kind === 'slider') c = folder.add(this.form, f.key, f.min, f.max, f.step);
        else if (f.kind === 'bool' || f.kind === 'widths') c = folder.add(this.form, f.key);
        else {
          c = folder.add(this.form, f.key);
          if (f.step !== undefined) c.step(f.step);
        }
        c.name(f.hot ? f.label : `${f.label} (on reset)`);
        c.domElement.title = `${f.key}: ${f.help}. Allowed: ${CONFIG_RULES[f.key].allowed}.${f.hot ? '' : ' Applies on reset.'}`;
        this.track(f.key, c).onChange(() => {
          this.actions.configChanged(f.key, f.hot);
        });
      }
      if (group.title !== 'Trust region' && group.title !== 'Batch') folder.close();
    }

    const viewFolder = this.gui.addFolder('View');
    this.track('envsDrawn', viewFolder.add(this.view, 'envsDrawn', 1, 16, 1).name('envs drawn')).onChange(() => this.actions.viewChanged('envsDrawn'));
    this.track('deterministic', viewFolder.add(this.view, 'deterministic').name('no sampling (mode)')).onChange(() => this.actions.viewChanged('deterministic'));
    this.track('speed', viewFolder.add(this.view, 'speed', [0.25, 0.5, 1, 2, 4]).name('playback speed')).onChange(() => this.actions.viewChanged('speed'));
    this.track('snapshotEvery', viewFolder.add(this.view, 'snapshotEvery', 1, 50, 1).name('policy curve every')).onChange(() => this.actions.viewChanged('snapshotEvery'));

    const exportFolder = this.gui.addFolder('Export');
    this.buttons.csv = button(exportFolder, 'csv', 'Download metrics (CSV)');
    this.buttons.checkpoint = button(exportFolder, 'checkpoint', 'Download checkpoint');
    this.buttons.load = button(exportFolder, 'load', 'Load checkpoint…');
  }

  private track<C extends Controller>(key: string, c: C): C {
    c.domElement.dataset.field = key;
    this.controllers.set(key, c);
    return c;
  }

  private setPreset(name: string): void {
    this.run.preset = name;
    const p = getPreset(name);
    Object.assign(this.form, toForm(presetConfig(name)));
    if (p.timesteps) this.run.stopAt = p.timesteps;
    this.refresh();
    this.validate();
  }

  /** Shows the values the settings hold now. */
  refresh(): void {
    for (const c of this.gui.controllersRecursive()) c.updateDisplay();
  }

  /** Replaces the panel's run and config values (a loaded checkpoint). */
  setAll(env: EnvId, seed: number, config: TRPOConfig): void {
    this.run.env = env;
    this.run.seed = seed;
    this.run.preset = PRESET_NAMES.includes(env) ? env : 'default';
    Object.assign(this.form, toForm(config));
    this.refresh();
    this.validate();
  }

  /** The full config the panel describes; throws ConfigError naming the field. */
  config(): TRPOConfig {
    const overrides: Record<string, unknown> = { ...this.form };
    overrides.policyHidden = parseWidths('policyHidden', this.form.policyHidden);
    overrides.valueHidden = parseWidths('valueHidden', this.form.valueHidden);
    return resolveConfig(overrides as Partial<TRPOConfig>);
  }

  /** Validates everything and marks the first invalid field; returns the error or null. */
  validate(): ConfigError | null {
    let err: ConfigError | null = null;
    try {
      const seed = this.run.seed;
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError('seed', seed, 'an integer from 0 to 4294967295');
      const stop = this.run.stopAt;
      if (!Number.isInteger(stop) || stop < 1) throw new ConfigError('stop at timesteps', stop, 'a positive integer');
      this.config();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      err = e;
    }
    this.showError(err);
    return err;
  }

  private showError(err: ConfigError | null): void {
    if (this.invalidKey) this.controllers.get(this.invalidKey)?.domElement.classList.remove('invalid');
    this.invalidKey = null;
    if (!err) {
      this.errorEl.hidden = true;
      this.errorEl.textContent = '';
      return;
    }
    // 'nEnvs·nSteps' (the batch) is a product of two fields: mark the first.
    const key = err.field === 'nEnvs·nSteps' ? 'nEnvs' : err.field === 'stop at timesteps' ? 'stopAt' : err.field;
    const c = this.controllers.get(key);
    if (c) {
      c.domElement.classList.add('invalid');
      this.invalidKey = key;
      // Open the folder that holds it so the mark is visible.
      c.parent.open();
    }
    const def = FIELD_DEFS.find((f) => f.key === key);
    this.errorEl.hidden = false;
    this.errorEl.innerHTML = '';
    const title = document.createElement('strong');
    title.textContent = def ? `${def.label} (${def.key})` : err.field;
    const body = document.createElement('span');
    body.textContent = ` is ${fmtValue(err.value)}; allowed: ${err.allowed}.`;
    this.errorEl.append(title, body);
  }

  /** Enables the buttons that make sense in this state. */
  setButtons(state: { canStart: boolean; canPause: boolean; canStep: boolean; canReset: boolean; hasTrainer: boolean; hasMetrics: boolean }): void {
    const set = (c: Controller, on: boolean) => (on ? c.enable() : c.disable());
    set(this.buttons.start, state.canStart);
    set(this.buttons.pause, state.canPause);
    set(this.buttons.step, state.canStep);
    set(this.buttons.reset, state.canReset);
    set(this.buttons.csv, state.hasMetrics);
    set(this.buttons.checkpoint, state.hasTrainer);
    set(this.buttons.load, state.canStart);
  }

  /** Locks the fields that only a reset can apply while a run exists (env, seed). */
  setRunLocked(locked: boolean): void {
    for (const key of ['env', 'seed']) {
      const c = this.controllers.get(key);
      if (c) (locked ? c.disable() : c.enable());
    }
  }
}

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return String(v);
}
