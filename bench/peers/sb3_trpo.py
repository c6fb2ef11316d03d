#!/usr/bin/env python3
"""Peer baseline for `npm run bench -- --vs-sb3`: sb3-contrib's TRPO (PyTorch, CPU).

Takes the benchmark's hyperparameters as a webgpu-trpo TRPOConfig (JSON, our field names),
maps them onto sb3_contrib.TRPO's arguments, trains, and prints ONE line of JSON on stdout.

  sb3_trpo.py check
  sb3_trpo.py throughput --env CartPole-v1 --config '{"nEnvs": 8, "nSteps": 2048, ...}' [--warmup 1] [--iters 5]
  sb3_trpo.py solve --env CartPole-v1 --config '{...}' --seed 0 [--max-timesteps 300000]

Options for every command: --sb3-path DIR (repeatable; DIR or its sub-folders hold the packages
stable_baselines3, sb3_contrib, gymnasium, cloudpickle, farama_notifications; PYTHONPATH works
too) and --threads N (torch.set_num_threads; default: torch's choice).
Exit status 3 with a message on stderr when the packages cannot be imported.
"""
import argparse
import json
import os
import platform
import sys
import time
import warnings

PACKAGES = ("stable_baselines3", "sb3_contrib", "gymnasium", "cloudpickle", "farama_notifications")


def add_source_paths(dirs):
    """Puts DIR, and each sub-folder of DIR that holds one of PACKAGES, on sys.path."""
    for d in dirs:
        for entry in d.split(os.pathsep):
            if not entry or not os.path.isdir(entry):
                continue
            candidates = [entry] + sorted(os.path.join(entry, s) for s in os.listdir(entry))
            for c in candidates:
                if os.path.isdir(c) and any(os.path.isdir(os.path.join(c, p)) for p in PACKAGES):
                    if c not in sys.path:
                        sys.path.insert(0, c)


def import_stack():
    try:
        import numpy as np
        import torch as th
        import gymnasium as gym
        import stable_baselines3
        import sb3_contrib
    except Exception as e:  # noqa: BLE001 - any import failure means "no usable peer here"
        print(f"sb3_trpo.py: cannot import the sb3-contrib stack with {sys.executable}: {e!r}", file=sys.stderr)
        sys.exit(3)
    return np, th, gym, stable_baselines3, sb3_contrib


def versions():
    np, th, gym, sb3, contrib = import_stack()
    return dict(
        python=platform.python_version(),
        executable=sys.executable,
        torch=th.__version__,
        torch_threads=th.get_num_threads(),
        numpy=np.__version__,
        gymnasium=gym.__version__,
        sb3=sb3.__version__,
        sb3_contrib=contrib.__version__,
    )


def sb3_arguments(cfg):
    """Our TRPOConfig (camelCase) -> sb3_contrib.TRPO keyword arguments."""
    import torch as th

    if cfg.get("entCoef", 0) != 0:
        raise SystemExit("sb3_trpo.py: sb3-contrib's TRPO has no entropy bonus; entCoef must be 0")
    # sub_sampling_factor is sb3-contrib's nearest setting to fvpSubsample, not the same one: it
    # thins the whole policy update (surrogate gradient, FVP, line search), ours only the FVP.
    factor = 1.0 / cfg.get("fvpSubsample", 1.0)
    if abs(factor - round(factor)) > 1e-9:
        raise SystemExit("sb3_trpo.py: fvpSubsample must be 1/k for an integer k (sb3 sub_sampling_factor)")
    return dict(
        n_steps=cfg["nSteps"],
        gamma=cfg["gamma"],
        gae_lambda=cfg["gaeLambda"],
        target_kl=cfg["maxKl"],
        cg_damping=cfg["damping"],
        cg_max_steps=cfg["cgIters"],
        line_search_max_iter=cfg["lineSearchSteps"],
        line_search_shrinking_factor=cfg["lineSearchShrink"],
        learning_rate=cfg["vfLr"],
        n_critic_updates=cfg["vfEpochs"],
        batch_size=cfg["vfBatchSize"],
        normalize_advantage=cfg["normalizeAdvantage"],
        sub_sampling_factor=int(round(factor)),
        policy_kwargs=dict(
            net_arch=dict(pi=list(cfg["policyHidden"]), vf=list(cfg["valueHidden"])),
            activation_fn=th.nn.Tanh,
            log_std_init=cfg.get("logStdInit", 0.0),
        ),
    )


def build(env_id, cfg, seed):
    from sb3_contrib import TRPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = make_vec_env(env_id, n_envs=cfg["nEnvs"], seed=seed, vec_env_cls=DummyVecEnv)
    model = TRPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **sb3_arguments(cfg))
    # A logger with no outputs: left to itself, learn() makes an empty SB3-<time> folder in the
    # temp directory on every run.
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def make_recorder(on_update=None):
    """A callback that timestamps every iteration (rollout start, rollout end, end of training)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Recorder(BaseCallback):
        def __init__(self):
            super().__init__()
            self.rollout_starts = []
            self.rollout_ends = []
            self.t_end = None
            self.stop = False

        def _on_rollout_start(self):
            now = time.perf_counter()
            if self.rollout_ends and on_update is not None:
                on_update(self, now)  # an update (train()) just finished
            self.rollout_starts.append(time.perf_counter())

        def _on_rollout_end(self):
            self.rollout_ends.append(time.perf_counter())

        def _on_training_end(self):
            now = time.perf_counter()
            self.t_end = now
            if on_update is not None and not self.stop:
                on_update(self, now)

        def _on_step(self):
            return not self.stop

    return Recorder()


def median(xs):
    s = sorted(xs)
    n = len(s)
    return None if n == 0 else (s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2]))


def cmd_throughput(args, cfg):
    batch = cfg["nEnvs"] * cfg["nSteps"]
    t0 = time.perf_counter()
    model = build(args.env, cfg, args.seed)
    build_s = time.perf_counter() - t0
    rec = make_recorder()
    iterations = args.warmup + args.iters
    t1 = time.perf_counter()
    model.learn(total_timesteps=batch * iterations, callback=rec)
    learn_s = time.perf_counter() - t1
    starts = rec.rollout_starts + [rec.t_end]
    iter_s = [b - a for a, b in zip(starts[:-1], starts[1:])]
    rollout_s = [e - s for s, e in zip(rec.rollout_starts, rec.rollout_ends)]
    measured = iter_s[args.warmup:]
    m_roll = rollout_s[args.warmup:]
    sps = [batch / s for s in measured]
    return dict(
        env=args.env,
        n_envs=cfg["nEnvs"],
        n_steps=cfg["nSteps"],
        batch=batch,
        warmup=args.warmup,
        iterations=len(measured),
        steps_per_s=median(sps),
        steps_per_s_min=min(sps) if sps else None,
        steps_per_s_max=max(sps) if sps else None,
        iteration_ms=[round(1000 * s, 2) for s in measured],
        rollout_ms=median([1000 * s for s in m_roll]),
        update_ms=median([1000 * (a - b) for a, b in zip(measured, m_roll)]),
        build_s=round(build_s, 3),
        learn_s=round(learn_s, 3),
        timesteps=int(model.num_timesteps),
    )


def deterministic_eval(model, env_id, episodes, seed):
    """Mean return of `episodes` episodes run side by side with the deterministic policy."""
    import gymnasium as gym
    import numpy as np
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda: gym.make(env_id) for _ in range(episodes)])
    venv.seed(seed)
    obs = venv.reset()
    total = np.zeros(episodes)
    finished = np.zeros(episodes, dtype=bool)
    while not finished.all():
        actions, _ = model.predict(obs, deterministic=True)
        obs, rewards, dones, _ = venv.step(actions)
        total += np.where(finished, 0.0, rewards)
        finished |= dones
    venv.close()
    return total


def cmd_solve(args, cfg):
    batch = cfg["nEnvs"] * cfg["nSteps"]
    model = build(args.env, cfg, args.seed)
    state = dict(t0=None, eval_s=0.0, evals=0, updates=0, solved_at=None, last_return=None, returns=[])

    def on_update(rec, now):
        state["updates"] += 1
        if state["updates"] % args.eval_every != 0:
            return
        train_s = now - state["t0"] - state["eval_s"]
        returns = deterministic_eval(model, args.env, args.eval_episodes, args.seed + 10_000)
        state["eval_s"] += time.perf_counter() - now
        state["evals"] += 1
        mean = float(returns.mean())
        state["last_return"] = mean
        state["returns"].append(round(mean, 2))
        if mean >= args.threshold:
            state["solved_at"] = dict(train_s=train_s, iterations=state["updates"], timesteps=state["updates"] * batch)
            rec.stop = True

    rec = make_recorder(on_update)
    state["t0"] = time.perf_counter()
    model.learn(total_timesteps=args.max_timesteps, callback=rec)
    wall_s = time.perf_counter() - state["t0"]
    solved = state["solved_at"]
    return dict(
        env=args.env,
        seed=args.seed,
        batch=batch,
        threshold=args.threshold,
        solved=solved is not None,
        train_s=solved["train_s"] if solved else None,
        iterations=solved["iterations"] if solved else state["updates"],
        timesteps=solved["timesteps"] if solved else int(model.num_timesteps),
        eval_s=state["eval_s"],
        evals=state["evals"],
        wall_s=wall_s,
        last_eval_return=state["last_return"],
        eval_returns=state["returns"],
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["check", "throughput", "solve"])
    p.add_argument("--sb3-path", action="append", default=[])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--config", default="{}", help="TRPOConfig as JSON (webgpu-trpo field names)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--max-timesteps", type=int, default=300_000)
    p.add_argument("--eval-every", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--threshold", type=float, default=500.0)
    args = p.parse_args()

    add_source_paths(args.sb3_path)
    warnings.filterwarnings("ignore")
    info = versions()
    if args.command == "check":
        print(json.dumps(info), flush=True)
        return
    _, th, _, _, _ = import_stack()
    if args.threads > 0:
        th.set_num_threads(args.threads)
        info["torch_threads"] = th.get_num_threads()
    cfg = json.loads(args.config)
    result = cmd_throughput(args, cfg) if args.command == "throughput" else cmd_solve(args, cfg)
    result["versions"] = info
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
