"""zoo.rl against Stable-Baselines3 on CartPole-v1 with RL-Zoo's tuned hyperparameters, in one run.

    python bench/bench_rl.py                 # PPO (1e5 steps) and DQN (5e4 steps), zoo then SB3
    python bench/bench_rl.py --algo ppo --seeds 0 1

For each library and seed: wall time of ``learn`` and the mean return of 20 deterministic evaluation episodes.
Both run on the CPU with one BLAS / torch thread (small MLPs gain nothing from threads, and on a shared machine
threads cost time); pass --torch-threads to change SB3's. Prints a table; SB3 rows are skipped when it is not
installed.
"""
import argparse
import importlib.util
import time

import numpy as np

CONFIGS = {
    "ppo": dict(env_id="CartPole-v1", n_envs=8, timesteps=100_000,
                kwargs=dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0),
                schedules=dict(learning_rate=1e-3, clip_range=0.2)),
    "dqn": dict(env_id="CartPole-v1", n_envs=1, timesteps=50_000,
                kwargs=dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
                            gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
                            exploration_fraction=0.16, exploration_final_eps=0.04),
                net_arch=[256, 256], schedules={}),
}


def _linear(value):
    return lambda progress_remaining: progress_remaining * value


def run_zoo(algo, cfg, seed, timesteps):
    import zoo.rl as rl
    env = rl.make_vec_env(cfg["env_id"], n_envs=cfg["n_envs"], seed=seed)
    kwargs = dict(cfg["kwargs"], **{k: _linear(v) for k, v in cfg["schedules"].items()})
    if "net_arch" in cfg:
        kwargs["policy_kwargs"] = dict(net_arch=cfg["net_arch"])
    model = getattr(rl, algo.upper())("MlpPolicy", env, seed=seed, **kwargs)
    start = time.perf_counter()
    model.learn(timesteps)
    seconds = time.perf_counter() - start
    mean, _ = rl.evaluate_policy(model, rl.make_vec_env(cfg["env_id"], n_envs=1, seed=1000 + seed),
                                 n_eval_episodes=20)
    return seconds, mean


def run_sb3(algo, cfg, seed, timesteps, threads):
    import torch
    import stable_baselines3 as sb3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    torch.set_num_threads(threads)
    env = make_vec_env(cfg["env_id"], n_envs=cfg["n_envs"], seed=seed)
    kwargs = dict(cfg["kwargs"], **{k: _linear(v) for k, v in cfg["schedules"].items()})
    if "net_arch" in cfg:
        kwargs["policy_kwargs"] = dict(net_arch=cfg["net_arch"])
    model = getattr(sb3, algo.upper())("MlpPolicy", env, seed=seed, device="cpu", **kwargs)
    start = time.perf_counter()
    model.learn(timesteps)
    seconds = time.perf_counter() - start
    mean, _ = evaluate_policy(model, make_vec_env(cfg["env_id"], n_envs=1, seed=1000 + seed), n_eval_episodes=20)
    return seconds, float(mean)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algo", choices=["ppo", "dqn", "all"], default="all")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--timesteps", type=int, default=None, help="override the RL-Zoo number of timesteps")
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--skip-sb3", action="store_true")
    args = p.parse_args()
    have_sb3 = importlib.util.find_spec("stable_baselines3") is not None and not args.skip_sb3
    rows = []
    for algo in (["ppo", "dqn"] if args.algo == "all" else [args.algo]):
        cfg = CONFIGS[algo]
        steps = args.timesteps or cfg["timesteps"]
        for seed in args.seeds:
            t, r = run_zoo(algo, cfg, seed, steps)
            rows.append((algo.upper(), "zoo", seed, steps, t, r))
            print(f"{algo} zoo seed {seed}: {t:.1f} s, mean return {r:.1f}", flush=True)
            if have_sb3:
                t, r = run_sb3(algo, cfg, seed, steps, args.torch_threads)
                rows.append((algo.upper(), "sb3", seed, steps, t, r))
                print(f"{algo} sb3 seed {seed}: {t:.1f} s, mean return {r:.1f}", flush=True)
    print()
    print(f"| {'algo':4} | {'library':7} | {'seed':4} | {'timesteps':9} | {'learn s':8} | {'mean return':11} | "
          f"{'zoo / sb3 time':14} |")
    print("|------|---------|------|-----------|----------|-------------|----------------|")
    for algo, lib, seed, steps, t, r in rows:
        ratio = ""
        if lib == "zoo":
            ref = [x for x in rows if x[0] == algo and x[1] == "sb3" and x[2] == seed]
            ratio = f"{t / ref[0][4]:.2f}" if ref else ""
        print(f"| {algo:4} | {lib:7} | {seed:4} | {steps:9} | {t:8.1f} | {r:11.1f} | {ratio:14} |")
    zoo_t = [t for _, lib, _, _, t, _ in rows if lib == "zoo"]
    if zoo_t:
        print(f"\nmean zoo learn time {np.mean(zoo_t):.1f} s over {len(zoo_t)} runs")


if __name__ == "__main__":
    main()
