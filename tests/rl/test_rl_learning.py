"""Short training runs learn: PPO and DQN improve their return on CartPole-v1 within seconds."""
import pytest

pytest.importorskip("gymnasium")

import zoo.rl as rl  # noqa: E402


def _score(model, seed=123):
    return rl.evaluate_policy(model, rl.make_vec_env("CartPole-v1", n_envs=1, seed=seed), n_eval_episodes=5)[0]


def test_ppo_improves_on_cartpole():
    env = rl.make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = rl.PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                   learning_rate=rl.linear_schedule(1e-3), clip_range=rl.linear_schedule(0.2), seed=0)
    before = _score(model)
    model.learn(8_000)
    after = _score(model)
    assert after > max(2 * before, 150), (before, after)


def test_dqn_improves_on_cartpole():
    model = rl.DQN("MlpPolicy", "CartPole-v1", learning_rate=2.3e-3, batch_size=64, learning_starts=1000,
                   target_update_interval=250, train_freq=32, gradient_steps=16, exploration_fraction=0.2,
                   exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[64, 64]), seed=0)
    before = _score(model)
    model.learn(10_000)
    after = _score(model)
    assert after > max(2 * before, 100), (before, after)
