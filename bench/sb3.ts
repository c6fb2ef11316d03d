/**
 * The peer: sb3-contrib's TRPO (PyTorch, CPU), run through bench/peers/sb3_trpo.py with the same
 * env and hyperparameters, on the same machine, in the same benchmark run.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TRPOConfig } from '../src/algos/trpo/config.js';
import type { SolveResult } from './solve.js';

/** The runner, found next to the built benchmark (bench/.build/run.js) or next to this file. */
function runnerPath(): string {
  for (const rel of ['../peers/sb3_trpo.py', './peers/sb3_trpo.py']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('bench/peers/sb3_trpo.py not found');
}

export interface PeerOptions {
  /** The Python command, split on spaces (e.g. 'python3' or '/usr/bin/python3.11'). */
  python?: string;
  /** Folders holding the sb3 / sb3-contrib / Gymnasium / cloudpickle / Farama-Notifications sources. */
  sb3Paths: string[];
  /** torch.set_num_threads in the runner (0: torch's default). */
  threads: number;
}

export interface Peer {
  command: string[];
  versions: Record<string, unknown>;
  run(args: string[]): Promise<Record<string, unknown>>;
}

function exec(cmd: string[], args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lastJson(stdout: string): Record<string, unknown> | null {
  const line = stdout.trim().split('\n').pop();
  if (!line) return null;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Finds a Python that can import the sb3-contrib stack: the given command, else python3,
 * /usr/bin/python3, python. Returns the reasons for each failure when there is none.
 */
export async function findPeer(opts: PeerOptions): Promise<{ peer: Peer } | { tried: string[] }> {
  const runner = runnerPath();
  const common = [...opts.sb3Paths.flatMap((p) => ['--sb3-path', p]), ...(opts.threads > 0 ? ['--threads', String(opts.threads)] : [])];
  const candidates = opts.python ? [opts.python] : ['python3', '/usr/bin/python3', 'python'];
  const tried: string[] = [];
  for (const c of candidates) {
    const command = c.split(/\s+/).filter(Boolean);
    const r = await exec(command, [runner, 'check', ...common]);
    const versions = r.code === 0 ? lastJson(r.stdout) : null;
    if (versions) {
      return {
        peer: {
          command,
          versions,
          run: async (args) => {
            const out = await exec(command, [runner, ...args, ...common]);
            const json = out.code === 0 ? lastJson(out.stdout) : null;
            if (!json) throw new Error(`sb3 runner failed (exit ${out.code}): ${out.stderr.trim().split('\n').slice(-5).join('\n')}`);
            return json;
          },
        },
      };
    }
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
    tried.push(`${c}: ${why}`);
  }
  return { tried };
}

export interface PeerThroughput {
  stepsPerSecond: number;
  iterationMs: number[];
  rolloutMs: number | null;
  updateMs: number | null;
}

export async function peerThroughput(peer: Peer, env: string, config: TRPOConfig, warmup: number, iterations: number): Promise<PeerThroughput> {
  const r = await peer.run(['throughput', '--env', env, '--config', JSON.stringify(config), '--warmup', String(warmup), '--iters', String(iterations)]);
  return {
    stepsPerSecond: r.steps_per_s as number,
    iterationMs: r.iteration_ms as number[],
    rolloutMs: (r.rollout_ms as number | null) ?? null,
    updateMs: (r.update_ms as number | null) ?? null,
  };
}

/** sb3-contrib's time to solve, in the shape of ours (it has no Trainer.create to time). */
export interface PeerSolve extends Omit<SolveResult, 'createSeconds'> {
  /** The runner failed (its error is in the log); counts as unsolved. */
  failed?: boolean;
}

export async function peerSolve(
  peer: Peer,
  env: string,
  config: TRPOConfig,
  o: { seed: number; maxTimesteps: number; evalEvery: number; evalEpisodes: number; threshold: number },
): Promise<PeerSolve> {
  const r = await peer.run([
    'solve',
    '--env', env,
    '--config', JSON.stringify(config),
    '--seed', String(o.seed),
    '--max-timesteps', String(o.maxTimesteps),
    '--eval-every', String(o.evalEvery),
    '--eval-episodes', String(o.evalEpisodes),
    '--threshold', String(o.threshold),
  ]);
  return {
    seed: o.seed,
    solved: r.solved as boolean,
    trainSeconds: (r.train_s as number | null) ?? null,
    iterations: r.iterations as number,
    timesteps: r.timesteps as number,
    evalSeconds: r.eval_s as number,
    evals: r.evals as number,
    lastEvalReturn: (r.last_eval_return as number | null) ?? null,
  };
}
