/**
 * Draws the environments as the GPU stepped them: frames come in chunks from PolicyPreview (one
 * dispatch and one readback per chunk) and are played back in simulated real time on a 2D canvas,
 * one tile per environment.
 */
import type { EnvId } from '../../src/index.js';
import { FRAME_END, type PolicyPreview, type PreviewFrames } from '../../src/rl/preview.js';

/** Seconds of simulated time per env step (Gymnasium's tau / dt). */
export const ENV_DT: Record<EnvId, number> = {
  'CartPole-v1': 0.02,
  'Pendulum-v1': 0.05,
  'PointMass-v0': 0.05,
};

interface Frame {
  state: ArrayLike<number>;
  action: number;
  ret: number;
  len: number;
  end: number;
}

const INK = '#1f2937';
const MUTED = '#9ca3af';
const ACCENT = '#3b82f6';
const GOOD = '#10b981';
const BAD = '#ef4444';

export class EnvAnimator {
  private preview: PolicyPreview | null = null;
  private env: EnvId = 'CartPole-v1';
  private readonly queue: PreviewFrames[] = [];
  /** Frame position (fractional) inside queue[0]. */
  private cursor = 0;
  private pending: Promise<void> | null = null;
  private lastTime: number | null = null;
  /** Seconds one chunk should last: long enough to cover a training iteration that holds the GPU queue. */
  chunkSeconds = 3;
  speed = 1;
  framesDrawn = 0;
  /** Per env tile: brightness of the flash shown when an episode ends. */
  private flash: number[] = [];
  private readonly ctx: CanvasRenderingContext2D;
  idleMessage = 'Press Start to train';
  /** Tiles drawn while there is no preview yet. */
  idleEnvs = 6;
  onError: ((e: unknown) => void) | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d')!;
  }

  /** Uses this preview from now on (null: no policy yet); drops frames of the previous one. */
  setPreview(preview: PolicyPreview | null, env: EnvId): void {
    this.preview = preview;
    this.env = env;
    this.queue.length = 0;
    this.cursor = 0;
    this.flash = [];
  }

  get envId(): EnvId {
    return this.env;
  }

  private framesLeft(): number {
    let n = -this.cursor;
    for (const c of this.queue) n += c.nSteps;
    return n;
  }

  private requestMore(): void {
    const preview = this.preview;
    if (!preview || this.pending) return;
    const steps = Math.max(16, Math.min(preview.maxSteps, Math.ceil((this.chunkSeconds * this.speed) / ENV_DT[this.env])));
    let frames: Promise<PreviewFrames>;
    try {
      frames = preview.record(steps);
    } catch (e) {
      this.onError?.(e);
      return;
    }
    this.pending = frames
      .then((f) => {
        if (this.preview === preview) this.queue.push(f);
      })
      .catch((e: unknown) => {
        if (this.preview === preview) this.onError?.(e);
      })
      .finally(() => {
        this.pending = null;
      });
  }

  /** Advances playback to `now` (ms) and draws; call from requestAnimationFrame. */
  tick(now: number): void {
    const dt = this.lastTime === null ? 0 : Math.min(0.25, (now - this.lastTime) / 1000);
    this.lastTime = now;
    if (this.queue.length > 0) {
      this.cursor += (dt * this.speed) / ENV_DT[this.env];
      // Never run past the data: hold the last frame until the next chunk arrives.
      const left = this.framesLeft();
      if (left < 1) this.cursor -= 1 - left;
      while (this.queue.length > 1 && this.cursor >= this.queue[0]!.nSteps) {
        this.cursor -= this.queue[0]!.nSteps;
        this.queue.shift();
      }
    }
    // Ask for the next chunk when less than half a chunk is left.
    if (this.framesLeft() < (0.5 * this.chunkSeconds * this.speed) / ENV_DT[this.env]) this.requestMore();
    this.draw();
  }

  private resizeCanvas(): { w: number; h: number } {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { w, h };
  }

  private draw(): void {
    const { w, h } = this.resizeCanvas();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, w, h);
    const chunk = this.queue[0];
    const n = chunk?.nEnvs ?? this.preview?.nEnvs ?? this.idleEnvs;
    const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    const rows = Math.ceil(n / cols);
    const tw = w / cols;
    const th = h / rows;
    const t = chunk ? Math.min(chunk.nSteps - 1, Math.floor(this.cursor)) : 0;
    for (let e = 0; e < n; e++) {
      const x0 = (e % cols) * tw;
      const y0 = Math.floor(e / cols) * th;
      ctx.save();
      ctx.translate(x0, y0);
      ctx.beginPath();
      ctx.rect(0, 0, tw, th);
      ctx.clip();
      ctx.fillStyle = '#fbfcfe';
      ctx.fillRect(0, 0, tw, th);
      const frame = chunk ? readFrame(chunk, t, e) : restFrame(this.env);
      if (chunk && frame.end !== FRAME_END.none && this.lastFrameT(e) !== t) {
        this.flash[e] = 1;
      }
      this.frameT[e] = t;
      drawEnv(ctx, this.env, frame, tw, th);
      const flash = this.flash[e] ?? 0;
      if (flash > 0) {
        ctx.fillStyle = this.env === 'PointMass-v0' ? `rgba(16,185,129,${0.25 * flash})` : `rgba(239,68,68,${0.18 * flash})`;
        ctx.fillRect(0, 0, tw, th);
        this.flash[e] = Math.max(0, flash - 0.06);
      }
      ctx.fillStyle = INK;
      ctx.font = '12px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.fillText(`env ${e + 1}`, 8, 6);
      if (chunk) {
        ctx.fillStyle = MUTED;
        const r = this.env === 'CartPole-v1' ? frame.ret.toFixed(0) : frame.ret.toFixed(1);
        ctx.fillText(`step ${frame.len.toFixed(0)} · return ${r}`, 8, 22);
      }
      ctx.strokeStyle = '#e5e7eb';
      ctx.strokeRect(0.5, 0.5, tw - 1, th - 1);
      ctx.restore();
    }
    if (!chunk) {
      ctx.fillStyle = 'rgba(255,255,255,0.6)';
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = INK;
      ctx.font = '600 16px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(this.preview ? 'Stepping the environments on the GPU…' : this.idleMessage, w / 2, h / 2);
      ctx.textAlign = 'start';
    } else {
      this.framesDrawn++;
    }
  }

  private readonly frameT: number[] = [];
  private lastFrameT(e: number): number | undefined {
    return this.frameT[e];
  }
}

function readFrame(c: PreviewFrames, t: number, e: number): Frame {
  const o = (t * c.nEnvs + e) * c.stride;
  const d = c.data;
  return {
    state: d.subarray(o, o + c.stateDim),
    action: d[o + c.stateDim]!,
    ret: d[o + c.stateDim + 1]!,
    len: d[o + c.stateDim + 2]!,
    end: d[o + c.stateDim + 3]!,
  };
}

function restFrame(env: EnvId): Frame {
  const state = env === 'CartPole-v1' ? [0, 0, 0, 0] : env === 'Pendulum-v1' ? [Math.PI, 0] : [1.5, 0];
  return { state, action: env === 'CartPole-v1' ? -1 : 0, ret: 0, len: 0, end: 0 };
}

function drawEnv(ctx: CanvasRenderingContext2D, env: EnvId, f: Frame, w: number, h: number): void {
  if (env === 'CartPole-v1') drawCartPole(ctx, f, w, h);
  else if (env === 'Pendulum-v1') drawPendulum(ctx, f, w, h);
  else drawPointMass(ctx, f, w, h);
}

function arrow(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number, color: string, width = 2): void {
  const a = Math.atan2(y1 - y0, x1 - x0);
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 1) return;
  const head = Math.min(8, len * 0.5);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1 - head * 0.7 * Math.cos(a), y1 - head * 0.7 * Math.sin(a));
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - head * Math.cos(a - 0.45), y1 - head * Math.sin(a - 0.45));
  ctx.lineTo(x1 - head * Math.cos(a + 0.45), y1 - head * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
}

/** Cart on a track of ±2.4 m, pole of 1 m (θ > 0 leans right); the arrow is the push. */
function drawCartPole(ctx: CanvasRenderingContext2D, f: Frame, w: number, h: number): void {
  const [x = 0, , theta = 0] = Array.from(f.state);
  const margin = 14;
  const scale = (w - 2 * margin) / (2 * 2.4 * 1.12);
  const cx = w / 2 + x * scale;
  const trackY = h * 0.72;
  ctx.strokeStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(w / 2 - 2.4 * scale, trackY);
  ctx.lineTo(w / 2 + 2.4 * scale, trackY);
  ctx.stroke();
  for (const s of [-1, 1]) {
    ctx.fillStyle = '#fca5a5';
    ctx.fillRect(w / 2 + s * 2.4 * scale - 1.5, trackY - 8, 3, 16);
  }
  const cartW = Math.max(24, 0.5 * scale);
  const cartH = cartW * 0.55;
  const poleLen = Math.min(1.0 * scale, trackY - cartH - 30);
  ctx.fillStyle = INK;
  ctx.fillRect(cx - cartW / 2, trackY - cartH / 2, cartW, cartH);
  const px = cx;
  const py = trackY - cartH / 2;
  const tx = px + poleLen * Math.sin(theta);
  const ty = py - poleLen * Math.cos(theta);
  ctx.strokeStyle = Math.abs(theta) > 0.2 ? BAD : '#c2410c';
  ctx.lineWidth = Math.max(4, cartW * 0.16);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(px, py);
  ctx.lineTo(tx, ty);
  ctx.stroke();
  ctx.lineCap = 'butt';
  ctx.fillStyle = '#93c5fd';
  ctx.beginPath();
  ctx.arc(px, py, ctx.lineWidth * 0.6, 0, 2 * Math.PI);
  ctx.fill();
  if (f.action >= 0) {
    const dir = f.action > 0.5 ? 1 : -1;
    const ay = trackY + cartH / 2 + 10;
    arrow(ctx, cx - dir * cartW * 0.2, ay, cx + dir * cartW * 0.7, ay, ACCENT);
  }
}

/** Pendulum of 1 m, θ = 0 upright and θ > 0 counter-clockwise; the arc is the torque (±2 N m). */
function drawPendulum(ctx: CanvasRenderingContext2D, f: Frame, w: number, h: number): void {
  const [theta = 0] = Array.from(f.state);
  const cx = w / 2;
  const cy = h / 2 + 8;
  const r = Math.max(10, Math.min(w, h - 40) * 0.36);
  ctx.strokeStyle = '#e5e7eb';
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 4]);
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.setLineDash([]);
  // Goal: upright.
  ctx.strokeStyle = GOOD;
  ctx.beginPath();
  ctx.moveTo(cx, cy - r - 6);
  ctx.lineTo(cx, cy - r + 6);
  ctx.stroke();
  const tx = cx - r * Math.sin(theta);
  const ty = cy - r * Math.cos(theta);
  const upright = Math.cos(theta) > 0.95;
  ctx.strokeStyle = upright ? GOOD : '#c2410c';
  ctx.lineWidth = Math.max(5, r * 0.14);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx, cy);
  ctx.lineTo(tx, ty);
  ctx.stroke();
  ctx.lineCap = 'butt';
  ctx.fillStyle = INK;
  ctx.beginPath();
  ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
  ctx.fill();
  // Torque: an arc around the pivot, counter-clockwise for u > 0, length ∝ |u|.
  const u = Math.max(-2, Math.min(2, f.action));
  if (Math.abs(u) > 0.02) {
    const ar = r * 0.35;
    const sweep = (Math.abs(u) / 2) * Math.PI * 0.9;
    // Canvas angles run clockwise (y down); start at the top of the pivot.
    const start = -Math.PI / 2;
    const end = start - Math.sign(u) * sweep;
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.arc(cx, cy, ar, start, end, u > 0);
    ctx.stroke();
    const ex = cx + ar * Math.cos(end);
    const ey = cy + ar * Math.sin(end);
    const tangent = end - Math.sign(u) * (Math.PI / 2);
    arrow(ctx, ex - 4 * Math.cos(tangent), ey - 4 * Math.sin(tangent), ex + 4 * Math.cos(tangent), ey + 4 * Math.sin(tangent), ACCENT, 2.5);
  }
}

/** A mass on a line (x in ±3), the goal band at 0; arrows: velocity (grey) and force (blue). */
function drawPointMass(ctx: CanvasRenderingContext2D, f: Frame, w: number, h: number): void {
  const [x = 0, v = 0] = Array.from(f.state);
  const margin = 14;
  const range = 3;
  const scale = (w - 2 * margin) / (2 * range);
  const y = h * 0.6;
  const X = (p: number) => w / 2 + Math.max(-range * 1.05, Math.min(range * 1.05, p)) * scale;
  ctx.strokeStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(X(-range), y);
  ctx.lineTo(X(range), y);
  ctx.stroke();
  ctx.fillStyle = MUTED;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let p = -range; p <= range; p++) {
    ctx.fillRect(X(p) - 0.5, y - 3, 1, 6);
    ctx.fillText(String(p), X(p), y + 6);
  }
  ctx.textAlign = 'start';
  // Goal: |x| < 0.05 (and |v| < 0.05); drawn wider than to scale so it stays visible.
  const gw = Math.max(4, 0.05 * 2 * scale);
  ctx.fillStyle = 'rgba(16,185,129,0.25)';
  ctx.fillRect(w / 2 - gw / 2, y - 22, gw, 44);
  ctx.strokeStyle = GOOD;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(w / 2, y - 30);
  ctx.lineTo(w / 2, y);
  ctx.stroke();
  ctx.fillStyle = GOOD;
  ctx.beginPath();
  ctx.moveTo(w / 2, y - 30);
  ctx.lineTo(w / 2 + 12, y - 25);
  ctx.lineTo(w / 2, y - 20);
  ctx.closePath();
  ctx.fill();
  const px = X(x);
  const radius = Math.max(6, Math.min(12, scale * 0.12));
  if (Math.abs(v) > 1e-3) arrow(ctx, px, y - radius - 8, px + v * scale * 0.8, y - radius - 8, MUTED, 1.5);
  if (Math.abs(f.action) > 0.02) arrow(ctx, px, y + radius + 18, px + f.action * scale * 0.6, y + radius + 18, ACCENT, 2.5);
  ctx.fillStyle = INK;
  ctx.beginPath();
  ctx.arc(px, y, radius, 0, 2 * Math.PI);
  ctx.fill();
}
