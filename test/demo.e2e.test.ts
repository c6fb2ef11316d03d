/**
 * The browser demo end to end, in headless Chromium (Debian's /usr/bin/chromium, never a downloaded
 * browser) with WebGPU on its software renderer (SwiftShader): the demo is built as a static site,
 * served from a sub-path of 127.0.0.1 (as a static host would), and driven through its GUI. SwiftShader is several times slower than
 * lavapipe, so training uses a small CartPole configuration (4 envs × 64 steps).
 *
 * Without Chromium the suite is skipped locally; under CI=true that is a failure.
 * Artifacts: test-artifacts/demo.png (the running page); with UPDATE_DOCS_SCREENSHOT=1 also
 * docs/demo.png for the README.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless=new',
];
const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI) throw new Error(`browser e2e: ${CHROMIUM} is missing (CI installs Debian's chromium; see .ci/install-system-deps.sh)`);
  console.warn(`browser e2e skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** A static file server for `dir` under `/${BASE}/` on 127.0.0.1 (an ephemeral port). */
const BASE = 'webgpu-trpo';

async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const prefix = `/${BASE}/`;
    let file = path.startsWith(prefix) ? normalize(join(dir, path.slice(prefix.length))) : '';
    if (!file || (!file.startsWith(dir + sep) && file !== dir)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    if (file === dir || path.endsWith('/')) file = join(file, 'index.html');
    readFile(file).then(
      (body) => {
        res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
        res.end(body);
      },
      () => {
        res.statusCode = 404;
        res.end('not found');
      },
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${addr.port}/${BASE}/` };
}

interface DemoStatus {
  state: string;
  iteration: number;
  timesteps: number;
  lastMeanReturn: number | null;
  lastError: string | null;
  chartPoints: number;
  framesDrawn: number;
  adapter: string | null;
  maxKl: number | null;
  returns: Array<number | null>;
}

const status = (page: Page): Promise<DemoStatus> =>
  page.evaluate(() => {
    const d = window.trpoDemo;
    return {
      state: d.state,
      iteration: d.iteration,
      timesteps: d.timesteps,
      lastMeanReturn: d.lastMeanReturn,
      lastError: d.lastError,
      chartPoints: d.chartPoints,
      framesDrawn: d.framesDrawn,
      adapter: d.adapter,
      maxKl: d.config?.maxKl ?? null,
      returns: d.returns(),
    };
  });

const waitFor = (page: Page, predicate: string, timeout = 60_000) =>
  page.waitForFunction(`(() => { const d = window.trpoDemo; return !!d && (${predicate}); })()`, null, { timeout, polling: 100 });

/** Sets a panel field the way a person does: opens its folder if closed, types, presses Enter. */
async function setField(page: Page, key: string, value: string | number): Promise<void> {
  const controller = page.locator(`[data-field="${key}"]`);
  if (!(await controller.isVisible())) await page.locator('.lil-gui', { has: controller }).last().locator('> .lil-title').click();
  const input = controller.locator('input').first();
  await input.fill(String(value));
  await input.press('Enter');
}

const click = (page: Page, action: string) => page.locator(`[data-action="${action}"] button`).click();

describe.skipIf(!haveChromium)('browser demo (headless Chromium, WebGPU on SwiftShader)', () => {
  let dist = '';
  let server: Server | undefined;
  let url = '';
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'webgpu-trpo-demo-'));
    await build({
      configFile: join(ROOT, 'demo/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: dist, emptyOutDir: true, sourcemap: false },
    });
    ({ server, url } = await serve(dist));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1, acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (dist) await rm(dist, { recursive: true, force: true });
  });

  it('loads with no console errors and shows the WebGPU device', async () => {
    await page.goto(url);
    await waitFor(page, "d.state === 'ready'", 60_000);
    const s = await status(page);
    expect(s.adapter).toBeTruthy();
    expect(s.iteration).toBe(0);
    expect(await page.locator('#device-info').innerText()).toMatch(/storage buffers \/ stage/);
    // Eight live charts (uPlot) and the env canvas are on the page.
    expect(await page.locator('.chart-card .uplot').count()).toBe(8);
    expect(await page.locator('canvas#envs').isVisible()).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  it('names the field and the allowed range for invalid input, and does not start', async () => {
    await setField(page, 'vfBatchSize', 100);
    const error = page.locator('.panel-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.innerText()).toMatch(/vfBatchSize.*100.*allowed: a divisor of nEnvs·nSteps = 1024/s);
    expect(await page.locator('[data-field="vfBatchSize"]').getAttribute('class')).toMatch(/invalid/);
    await click(page, 'start');
    await page.waitForTimeout(300);
    const s = await status(page);
    expect(s.state).toBe('ready');
    expect(s.lastError).toMatch(/vfBatchSize/);

    await setField(page, 'policyHidden', '64,abc');
    expect(await error.innerText()).toMatch(/policyHidden.*"64,abc".*allowed: an array of 1 to 8 integers from 1 to 256/s);
    await setField(page, 'policyHidden', '64,64');
    expect(await error.innerText()).toMatch(/vfBatchSize/);
  });

  it('trains CartPole from the GUI: charts gain points, envs are drawn, the return improves', async () => {
    // The CartPole preset (the default selection) with a batch small enough for SwiftShader.
    await setField(page, 'nEnvs', 4);
    await setField(page, 'nSteps', 64);
    await setField(page, 'vfEpochs', 5);
    await setField(page, 'vfBatchSize', 64);
    expect(await page.locator('.panel-error').isVisible()).toBe(false);
    await click(page, 'start');
    await waitFor(page, "d.state === 'running'", 10_000);
    await waitFor(page, 'd.iteration >= 3', 90_000);
    const early = await status(page);
    expect(early.chartPoints).toBeGreaterThanOrEqual(3);

    // Until the return has clearly improved on the random policy's (~20), at least 8 iterations
    // for the charts and at most 24 (SwiftShader on a busy machine can take seconds per iteration).
    const improved =
      "(() => { const r = d.returns(); const first = r.find((x) => x !== null); const best = Math.max(...r.slice(-6).filter((x) => x !== null));" +
      ' return first !== undefined && best > Math.max(60, 2 * first); })()';
    await waitFor(page, `(d.iteration >= 8 && ${improved}) || d.iteration >= 24 || d.state === 'error'`, 160_000);
    const s = await status(page);
    expect(s.state).toBe('running');
    expect(s.lastError).toBeNull();
    expect(s.chartPoints).toBeGreaterThan(early.chartPoints);
    expect(s.framesDrawn).toBeGreaterThan(0);
    expect(s.timesteps).toBe(s.iteration * 256);
    // Return of the random initial policy (~20) against the best of the latest iterations.
    const returns = s.returns.filter((r): r is number => r !== null);
    const first = returns[0]!;
    const best = Math.max(...s.returns.slice(-6).filter((r): r is number => r !== null));
    const seen = `mean return per iteration: ${JSON.stringify(s.returns.map((r) => (r === null ? null : Math.round(r))))}`;
    expect(first, seen).toBeLessThan(40);
    expect(best, seen).toBeGreaterThan(Math.max(60, 2 * first));

    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'demo.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      await mkdir(join(ROOT, 'docs'), { recursive: true });
      await copyFile(shot, join(ROOT, 'docs/demo.png'));
    }
    expect(consoleErrors).toEqual([]);
  }, 240_000);

  it('pause stops progress; one iteration steps exactly once', async () => {
    await click(page, 'pause');
    await waitFor(page, "d.state === 'paused'", 60_000);
    const paused = await status(page);
    await page.waitForTimeout(2500);
    const later = await status(page);
    expect(later.iteration).toBe(paused.iteration);
    expect(later.chartPoints).toBe(paused.chartPoints);

    await click(page, 'step');
    await waitFor(page, `d.iteration === ${paused.iteration + 1} && d.state === 'paused'`, 60_000);
    await page.waitForTimeout(500);
    expect((await status(page)).iteration).toBe(paused.iteration + 1);
  });

  it('applies a changed trust region at the next iteration and keeps what was learned', async () => {
    const before = await status(page);
    expect(before.maxKl).toBe(0.02);
    await setField(page, 'maxKl', 0.005);
    await click(page, 'step');
    await waitFor(page, `d.iteration === ${before.iteration + 1} && d.state === 'paused'`, 60_000);
    const after = await status(page);
    expect(after.maxKl).toBe(0.005);
    expect(after.timesteps).toBe(before.timesteps + 256);
  });

  it('exports the metrics (CSV) and the checkpoint, and loads the checkpoint back', async () => {
    const s = await status(page);
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), click(page, 'csv')]);
    const csv = await readFile(await csvDownload.path());
    const lines = csv.toString().trim().split('\n');
    expect(lines[0]).toMatch(/^iteration,timesteps,episodes,/);
    expect(lines.length).toBe(s.chartPoints + 1);

    const [cpDownload] = await Promise.all([page.waitForEvent('download'), click(page, 'checkpoint')]);
    const cpPath = join(dist, 'checkpoint.json');
    await cpDownload.saveAs(cpPath);
    const doc = JSON.parse((await readFile(cpPath)).toString());
    expect(doc.format).toBe('webgpu-trpo-checkpoint');
    expect(doc.env).toBe('CartPole-v1');

    // A broken file is refused with a message; the run stays as it was.
    const badPath = join(dist, 'broken.json');
    await writeFile(badPath, '{"format":"something else"}');
    await page.locator('#checkpoint-file').setInputFiles(badPath);
    await expect.poll(() => page.locator('#notice').innerText()).toMatch(/Cannot load broken\.json/);
    expect((await status(page)).iteration).toBe(s.iteration);

    await page.locator('#checkpoint-file').setInputFiles(cpPath);
    await expect.poll(() => page.locator('#notice').innerText(), { timeout: 60_000 }).toMatch(/Loaded checkpoint\.json/);
    const loaded = await status(page);
    expect(loaded.state).toBe('paused');
    expect(loaded.iteration).toBe(s.iteration);
    expect(loaded.timesteps).toBe(s.timesteps);
    expect(loaded.maxKl).toBe(0.005);
    // Continue training from it.
    await click(page, 'step');
    await waitFor(page, `d.iteration === ${s.iteration + 1} && d.state === 'paused'`, 60_000);
  });

  it('explains a lost device and restarts from the last checkpoint', async () => {
    const s = await status(page);
    await page.evaluate(() => window.trpoDemo.simulateDeviceLoss());
    await waitFor(page, "d.state === 'device-lost'", 20_000);
    const notice = page.locator('#notice');
    expect(await notice.innerText()).toMatch(/The GPU device was lost/);
    expect((await status(page)).lastError).toMatch(/device lost/);
    const restart = notice.getByRole('button', { name: /Restart/ });
    await restart.click();
    await waitFor(page, "d.state === 'paused'", 60_000);
    const back = await status(page);
    expect(back.iteration).toBeLessThanOrEqual(s.iteration);
    expect(back.iteration).toBeGreaterThan(0);
    await click(page, 'step');
    await waitFor(page, `d.iteration === ${back.iteration + 1} && d.state === 'paused'`, 60_000);
  });

  it('reset clears the run and the charts', async () => {
    await click(page, 'reset');
    await waitFor(page, "d.state === 'ready'", 20_000);
    const s = await status(page);
    expect(s.iteration).toBe(0);
    expect(s.timesteps).toBe(0);
    expect(s.returns).toEqual([]);
    await expect.poll(() => status(page).then((x) => x.chartPoints)).toBe(0);
  });

  it('says what to do when the browser has no WebGPU', async () => {
    const other = await browser!.newPage();
    try {
      await other.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
      });
      await other.goto(url);
      await waitFor(other, "d.state === 'no-webgpu'", 20_000);
      const text = await other.locator('#notice').innerText();
      expect(text).toMatch(/WebGPU is not available here/);
      expect(text).toMatch(/enable-unsafe-webgpu/);
      expect(await other.locator('[data-action="start"] button').isDisabled()).toBe(true);
    } finally {
      await other.close();
    }
  });
});
