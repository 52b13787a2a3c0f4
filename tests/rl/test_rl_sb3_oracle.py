"""Oracle tier: agents trained and saved by Stable-Baselines3 load in zoo.rl (torch-free, no unpickling) and act
identically (deterministic predict on many observations)."""
import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")
sb3 = pytest.importorskip("stable_baselines3")
th = pytest.importorskip("torch")

import zoo.rl as rl  # noqa: E402

pytestmark = pytest.mark.oracle


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def _observations(env_id, n=1000):
    space = gym.make(env_id).observation_space
    space.seed(0)
    obs = np.stack([space.sample() for _ in range(n)])
    if np.isinf(space.high).any():  # CartPole's unbounded velocities: sample a plausible range
        obs = np.random.default_rng(0).uniform(-3, 3, obs.shape).astype(np.float32)
    return obs


CASES = [
    ("PPO", "CartPole-v1", dict(n_steps=128, batch_size=64, n_epochs=2), 256),
    ("PPO", "Pendulum-v1", dict(n_steps=128, batch_size=64, n_epochs=2,
                                policy_kwargs=dict(net_arch=dict(pi=[32, 32], vf=[16]), activation_fn=th.nn.ReLU)),
     256),
    ("A2C", "CartPole-v1", dict(n_steps=8), 256),
    ("A2C", "Pendulum-v1", dict(n_steps=8), 256),
    ("DQN", "CartPole-v1", dict(learning_starts=50, train_freq=4, policy_kwargs=dict(net_arch=[32, 32])), 300),
]


@pytest.mark.parametrize("algo,env_id,kwargs,steps", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_sb3_agents_load_and_act_identically(tmp_path, algo, env_id, kwargs, steps):
    sb3_cls, zoo_cls = getattr(sb3, algo), getattr(rl, algo)
    sb3_model = sb3_cls("MlpPolicy", env_id, seed=0, device="cpu", **kwargs)
    sb3_model.learn(steps)
    path = tmp_path / f"{algo}_{env_id}.zip"
    sb3_model.save(path)
    model = zoo_cls.load(path)
    obs = _observations(env_id)
    expected, _ = sb3_model.predict(obs, deterministic=True)
    got, _ = model.predict(obs, deterministic=True)
    assert got.shape == expected.shape
    if algo == "DQN" or env_id == "CartPole-v1":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # the hyperparameters SB3 stores as plain JSON come back
    assert model.gamma == sb3_model.gamma
    if algo == "PPO":
        assert model.n_steps == sb3_model.n_steps and model.clip_range(1.0) == pytest.approx(0.2)
    if algo == "DQN":
        assert model.train_freq == (4, "step") and model.learning_starts == 50
        # the value head of an actor-critic agent agrees too
    if algo != "DQN":
        with th.no_grad():
            ref = sb3_model.policy.predict_values(th.as_tensor(obs[:50])).numpy().reshape(-1)
        np.testing.assert_allclose(model.policy.values_numpy(obs[:50]), ref, rtol=1e-5, atol=1e-5)


def test_sb3_agent_through_the_pipeline(tmp_path):
    sb3_model = sb3.PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    sb3_model.learn(64)
    sb3_model.save(tmp_path / "agent.zip")
    import zoo
    pipe = zoo.pipeline("reinforcement-learning", model=str(tmp_path / "agent.zip"))
    obs = _observations("CartPole-v1", 100)
    np.testing.assert_array_equal(pipe.predict(obs), sb3_model.predict(obs, deterministic=True)[0])


def test_sb3_model_for_another_algorithm_is_refused(tmp_path):
    sb3.A2C("MlpPolicy", "CartPole-v1", device="cpu").save(tmp_path / "a2c.zip")
    with pytest.raises(ValueError, match="A2C"):
        rl.PPO.load(tmp_path / "a2c.zip")


@pytest.mark.parametrize("algo", ["PPO", "DQN"])
def test_sb3_cnn_agents_act_identically(tmp_path, algo, bright_half_env):
    BrightHalfEnv = bright_half_env
    kwargs = dict(n_steps=32, batch_size=32, n_epochs=1) if algo == "PPO" else dict(learning_starts=16,
                                                                                    buffer_size=1000)
    sb3_model = getattr(sb3, algo)("CnnPolicy", BrightHalfEnv(), seed=0, device="cpu",
                                   policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=32)), **kwargs)
    sb3_model.learn(64)
    sb3_model.save(tmp_path / "cnn.zip")
    model = getattr(rl, algo).load(tmp_path / "cnn.zip")
    env = BrightHalfEnv()
    obs = np.stack([env.reset(seed=i)[0] for i in range(64)])
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0],
                                  sb3_model.predict(obs, deterministic=True)[0])
