"""Train the reinforcement-learning agents zoo ships (weights/store/<agent>/), with RL-Zoo's tuned
hyperparameters, and record how they were made and what they reach.

    python examples/train_rl_agents.py --agent ppo-cartpole-v1 --seed 0
    python examples/train_rl_agents.py --agent all

Each run writes ``<out>/<agent>/agent.zip`` (zoo's model zip: data.json + safetensors), ``vecnormalize.json`` for
agents trained on normalised observations, ``record.json`` (data, command, seed, metric: mean / std return of
20 deterministic evaluation episodes on freshly seeded environments, timesteps, training seconds) and
``train_info.json`` (algorithm, hyperparameters, how the checkpoint was picked, the files' sha256). The training
logs (progress.csv, episodes.csv, learning_curve.png) go to ``<log-dir>/<agent>/``.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import zoo.rl as rl

# RL-Zoo (rl-baselines3-zoo, hyperparams/ppo.yml and dqn.yml). Pendulum-v1's RL-Zoo entry uses gSDE, which zoo.rl
# does not implement; it trains with the same settings and plain Gaussian exploration instead.
AGENTS = {
    "ppo-cartpole-v1": dict(
        algo="PPO", env_id="CartPole-v1", n_envs=8, timesteps=100_000, threshold=475.0,
        kwargs=dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                    learning_rate=("lin", 1e-3), clip_range=("lin", 0.2))),
    "dqn-cartpole-v1": dict(
        algo="DQN", env_id="CartPole-v1", n_envs=1, timesteps=50_000, threshold=475.0,
        kwargs=dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
                    target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                    exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]))),
    "ppo-acrobot-v1": dict(
        algo="PPO", env_id="Acrobot-v1", n_envs=16, timesteps=300_000, threshold=-100.0,
        normalize=dict(norm_obs=True, norm_reward=False),
        kwargs=dict(n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0)),
    "ppo-pendulum-v1": dict(
        algo="PPO", env_id="Pendulum-v1", n_envs=4, timesteps=100_000, threshold=-250.0,
        kwargs=dict(n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0, learning_rate=1e-3,
                    clip_range=0.2)),
}
EVAL_EPISODES = 20
EVAL_SEED = 1000
EVAL_EVERY = 5000  # timesteps between the evaluations that pick the best model


class _SyncedEval(rl.EvalCallback):
    """EvalCallback that also copies the training observation statistics to the evaluation env before each
    evaluation, and saves them next to the best model."""

    def _on_step(self):
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            train_norm = self.model.get_vec_normalize_env()
            if train_norm is not None:
                self.eval_env.load_state_dict(train_norm.state_dict())
            before = self.best_mean_reward
            keep = super()._on_step()
            if train_norm is not None and self.best_mean_reward > before:
                train_norm.save(os.path.join(self.best_model_save_path, "vecnormalize.json"))
            return keep
        return True


def _schedules(kwargs):
    out = {}
    for k, v in kwargs.items():
        out[k] = rl.linear_schedule(v[1]) if isinstance(v, tuple) and v[0] == "lin" else v
    return out


def evaluate(model, spec, vecnormalize_path=None):
    env = rl.make_vec_env(spec["env_id"], n_envs=1, seed=EVAL_SEED)
    if vecnormalize_path is not None:
        env = rl.VecNormalize.load(vecnormalize_path, env)
        env.training, env.norm_reward = False, False
    mean, std = rl.evaluate_policy(model, env, n_eval_episodes=EVAL_EPISODES, deterministic=True)
    env.close()
    return mean, std


def train(name, seed, out, log_dir, timesteps=None):
    spec = AGENTS[name]
    timesteps = timesteps or spec["timesteps"]
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    env = rl.make_vec_env(spec["env_id"], n_envs=spec["n_envs"], seed=seed)
    if spec.get("normalize"):
        env = rl.VecNormalize(env, **spec["normalize"])
    algo = getattr(rl, spec["algo"])
    model = algo("MlpPolicy", env, seed=seed, log_dir=os.path.join(log_dir, name), **_schedules(spec["kwargs"]))
    # as RL-Zoo does: evaluate periodically and keep the best model (its final score is measured afresh below)
    eval_env = rl.make_vec_env(spec["env_id"], n_envs=1, seed=seed + 500)
    if spec.get("normalize"):
        eval_env = rl.VecNormalize(eval_env, training=False, norm_reward=False, **{
            k: v for k, v in spec["normalize"].items() if k != "norm_reward"})
    best_dir = os.path.join(log_dir, name, "best")
    evaluator = _SyncedEval(eval_env, n_eval_episodes=10, eval_freq=max(EVAL_EVERY // spec["n_envs"], 1),
                            best_model_save_path=best_dir, verbose=0)
    start = time.time()
    model.learn(timesteps, callback=evaluator)
    seconds = time.time() - start
    trained_steps = model.num_timesteps
    best = os.path.join(best_dir, "best_model.zip")
    if os.path.exists(best) and evaluator.best_mean_reward > evaluator.last_mean_reward:
        model = algo.load(best, env=env)
        if spec.get("normalize"):
            with open(os.path.join(best_dir, "vecnormalize.json")) as f:
                model.get_vec_normalize_env().load_state_dict(json.load(f))
    model.save(os.path.join(folder, "agent.zip"))
    vn_path = None
    if spec.get("normalize"):
        vn_path = os.path.join(folder, "vecnormalize.json")
        model.get_vec_normalize_env().save(vn_path)
    mean, std = evaluate(model, spec, vn_path)
    files = {f: hashlib.sha256(open(os.path.join(folder, f), "rb").read()).hexdigest()
             for f in ("agent.zip", "vecnormalize.json") if os.path.exists(os.path.join(folder, f))}
    record = {
        "data": f"Gymnasium {spec['env_id']} (simulated environment, gymnasium {_gym_version()})",
        "command": f"python examples/train_rl_agents.py --agent {name} --seed {seed}"
                   + (f" --timesteps {timesteps}" if timesteps != spec["timesteps"] else ""),
        "seed": seed,
        "metric": {"mean_return": round(mean, 2), "std_return": round(std, 2), "n_eval_episodes": EVAL_EPISODES,
                   "eval_seed": EVAL_SEED, "timesteps": int(trained_steps), "agent_timesteps": int(model.num_timesteps),
                   "train_seconds": round(seconds, 1)},
    }
    info = {
        "algorithm": spec["algo"], "env_id": spec["env_id"], "n_envs": spec["n_envs"],
        "hyperparameters": {k: (f"lin_{v[1]}" if isinstance(v, tuple) else v) for k, v in spec["kwargs"].items()},
        "normalize": spec.get("normalize"), "files": files,
        "selection": f"the best of evaluations every {EVAL_EVERY} timesteps (10 deterministic episodes each, eval "
                     f"seed {seed + 500}); metric measured afresh on {EVAL_EPISODES} episodes (seed {EVAL_SEED})",
    }
    with open(os.path.join(folder, "record.json"), "w") as f:
        json.dump(record, f, indent=2)
    with open(os.path.join(folder, "train_info.json"), "w") as f:
        json.dump(info, f, indent=2)
    ok = mean >= spec["threshold"]
    print(f"{name}: mean return {mean:.2f} +/- {std:.2f} over {EVAL_EPISODES} episodes after {model.num_timesteps} "
          f"steps ({seconds:.0f} s); threshold {spec['threshold']}: {'reached' if ok else 'NOT reached'}",
          flush=True)
    return ok


def _gym_version():
    import gymnasium
    return gymnasium.__version__


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", required=True, choices=sorted(AGENTS) + ["all"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timesteps", type=int, default=None, help="override the recipe's number of timesteps")
    p.add_argument("--out", default=os.path.join(here, "..", "weights", "store"))
    p.add_argument("--log-dir", default="runs/rl")
    args = p.parse_args(argv)
    names = sorted(AGENTS) if args.agent == "all" else [args.agent]
    ok = all([train(n, args.seed, args.out, args.log_dir, args.timesteps) for n in names])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
