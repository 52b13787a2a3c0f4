"""zoo.rl building blocks: GAE, buffers, schedules, environments and wrappers, evaluation, save/load, errors."""
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

import zoo  # noqa: E402
import zoo.rl as rl  # noqa: E402
from zoo.rl.buffers import ReplayBuffer, RolloutBuffer  # noqa: E402


# ---- GAE and buffers ------------------------------------------------------------------------------------------
def test_gae_matches_hand_computed_example():
    space_o, space_a = gym.spaces.Box(-1, 1, (2,), np.float32), gym.spaces.Discrete(2)
    buf = RolloutBuffer(3, space_o, space_a, gamma=0.9, gae_lambda=0.8, n_envs=1)
    rewards, values, starts = [1.0, 2.0, 3.0], [0.5, 1.0, 1.5], [1, 0, 1]  # a new episode starts at step 2
    for r, v, s in zip(rewards, values, starts):
        buf.add(np.zeros((1, 2)), np.array([[0]]), np.array([r]), np.array([s]), np.array([v]), np.array([0.0]))
    buf.compute_returns_and_advantage(last_values=np.array([2.0]), dones=np.array([False]))
    # step 2: 3 + 0.9 * 2.0 - 1.5 = 3.3 ; step 1: episode ends after it -> 2 - 1.0 = 1.0
    # step 0: delta 1 + 0.9 * 1.0 - 0.5 = 1.4, A = 1.4 + 0.9 * 0.8 * 1.0 = 2.12
    np.testing.assert_allclose(buf.advantages[:, 0], [2.12, 1.0, 3.3], rtol=1e-6)
    np.testing.assert_allclose(buf.returns[:, 0], [2.62, 2.0, 4.8], rtol=1e-6)


def test_gae_terminal_last_step_does_not_bootstrap():
    space_o, space_a = gym.spaces.Box(-1, 1, (1,), np.float32), gym.spaces.Discrete(2)
    buf = RolloutBuffer(1, space_o, space_a, gamma=0.99, gae_lambda=0.95, n_envs=2)
    buf.add(np.zeros((2, 1)), np.zeros((2, 1)), np.array([1.0, 1.0]), np.array([0, 0]), np.array([0.25, 0.25]),
            np.zeros(2))
    buf.compute_returns_and_advantage(last_values=np.array([10.0, 10.0]), dones=np.array([True, False]))
    np.testing.assert_allclose(buf.advantages[0], [0.75, 1.0 + 0.99 * 10.0 - 0.25], rtol=1e-6)


def test_rollout_buffer_minibatches_cover_every_sample_once():
    space_o, space_a = gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(-1, 1, (2,), np.float32)
    buf = RolloutBuffer(8, space_o, space_a, n_envs=4)
    for t in range(8):
        obs = np.stack([np.full(3, 10 * t + e, np.float32) for e in range(4)])
        buf.add(obs, np.zeros((4, 2)), np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4))
    buf.compute_returns_and_advantage(np.zeros(4), np.zeros(4))
    batches = list(buf.get(batch_size=10, rng=np.random.default_rng(0)))
    assert [len(b.observations) for b in batches] == [10, 10, 10, 2]
    seen = np.concatenate([b.observations[:, 0] for b in batches])
    assert sorted(seen.tolist()) == sorted(float(10 * t + e) for t in range(8) for e in range(4))
    assert batches[0].actions.shape == (10, 2) and batches[0].advantages.shape == (10,)
    with pytest.raises(RuntimeError, match="full"):
        buf.add(obs, np.zeros((4, 2)), np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4))


def test_replay_buffer_sampling_wraps_and_handles_timeouts():
    space_o, space_a = gym.spaces.Box(-10, 10, (1,), np.float32), gym.spaces.Discrete(3)
    buf = ReplayBuffer(4, space_o, space_a, n_envs=1)
    for i in range(6):  # 6 transitions in a ring of 4: the first two are overwritten
        info = {"TimeLimit.truncated": i == 5}
        buf.add(np.array([[i]]), np.array([[i + 1]]), np.array([[i % 3]]), np.array([float(i)]), np.array([True]),
                [info])
    assert buf.size() == 4 and buf.full
    s = buf.sample(200, rng=np.random.default_rng(0))
    assert set(s.observations[:, 0].tolist()) == {2.0, 3.0, 4.0, 5.0}
    np.testing.assert_array_equal(s.next_observations[:, 0], s.observations[:, 0] + 1)
    np.testing.assert_array_equal(s.rewards, s.observations[:, 0])
    # the time-limit cut (i == 5) is not a terminal transition; the true terminations are
    np.testing.assert_array_equal(s.dones, (s.observations[:, 0] != 5).astype(np.float32))
    assert s.actions.dtype == np.int64 and s.actions.shape == (200, 1)


# ---- schedules ------------------------------------------------------------------------------------------------
def test_schedules():
    lin = rl.linear_schedule(1e-3)
    assert lin(1.0) == pytest.approx(1e-3) and lin(0.5) == pytest.approx(5e-4) and lin(0.0) == 0.0
    eps = rl.get_linear_fn(1.0, 0.05, 0.1)  # DQN exploration: reaches 0.05 after 10% of training
    assert eps(1.0) == 1.0 and eps(0.95) == pytest.approx(0.525) and eps(0.5) == pytest.approx(0.05)
    assert rl.get_schedule_fn(0.2)(0.3) == 0.2
    f = lambda p: 0.1 * p  # noqa: E731
    assert rl.get_schedule_fn(f) is f
    with pytest.raises(TypeError):
        rl.get_schedule_fn("0.1")


def test_learning_rate_and_clip_range_schedules_are_applied():
    seen = []
    model = rl.PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=1, seed=0,
                   learning_rate=lambda p: 1e-3 * p, clip_range=lambda p: (seen.append(p), 0.3 * p)[1])
    model.learn(128)
    # two rollouts of 64 steps: trained at progress 0.5 and 0.0
    assert seen == [pytest.approx(0.5), pytest.approx(0.0)]
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


# ---- environments ---------------------------------------------------------------------------------------------
def test_make_vec_env_seeding_and_episode_statistics():
    a = rl.make_vec_env("CartPole-v1", n_envs=3, seed=7)
    b = rl.make_vec_env("CartPole-v1", n_envs=3, seed=7)
    oa, ob = a.reset(), b.reset()
    np.testing.assert_array_equal(oa, ob)
    assert oa.shape == (3, 4) and not np.array_equal(oa[0], oa[1])
    episodes = []
    for _ in range(200):
        obs, rewards, dones, infos = a.step(np.ones(3, np.int64))  # always right: episodes end quickly
        for done, info in zip(dones, infos):
            if done:
                assert info["terminal_observation"].shape == (4,)
                episodes.append(info["episode"])
    assert episodes and all(ep["r"] == ep["l"] for ep in episodes)
    with pytest.raises(Exception, match="NoSuchEnv"):
        rl.make_vec_env("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="n_envs"):
        rl.make_vec_env("CartPole-v1", n_envs=0)


def test_subproc_vec_env_matches_dummy():
    d = rl.make_vec_env("CartPole-v1", n_envs=2, seed=3)
    s = rl.make_vec_env("CartPole-v1", n_envs=2, seed=3, vec_env_cls=rl.SubprocVecEnv)
    try:
        np.testing.assert_array_equal(d.reset(), s.reset())
        for t in range(30):
            actions = np.array([t % 2, (t // 2) % 2])
            od, rd, dd, _ = d.step(actions)
            os_, rs, ds, _ = s.step(actions)
            np.testing.assert_array_equal(od, os_)
            np.testing.assert_array_equal(rd, rs)
            np.testing.assert_array_equal(dd, ds)
    finally:
        s.close()


def test_vec_normalize_and_save_load(tmp_path):
    env = rl.VecNormalize(rl.make_vec_env("Pendulum-v1", n_envs=2, seed=0), gamma=0.9)
    env.reset()
    for _ in range(300):
        obs, rewards, _, _ = env.step(np.random.uniform(-2, 2, (2, 1)))
    assert np.all(np.abs(obs) <= 10) and abs(env.obs_rms.mean[2]) < 8
    raw = env.get_original_obs()
    np.testing.assert_allclose(env.normalize_obs(raw), obs, rtol=1e-5, atol=1e-5)
    path = tmp_path / "vn.json"
    env.save(path)
    assert json.loads(path.read_text())["format"] == "zoo.rl.VecNormalize"
    loaded = rl.VecNormalize.load(path, rl.make_vec_env("Pendulum-v1", n_envs=2, seed=0))
    np.testing.assert_allclose(loaded.obs_rms.mean, env.obs_rms.mean)
    np.testing.assert_allclose(loaded.normalize_obs(raw), obs, rtol=1e-5, atol=1e-5)


def test_vec_frame_stack():
    env = rl.VecFrameStack(rl.make_vec_env("CartPole-v1", n_envs=2, seed=0), n_stack=3)
    assert env.observation_space.shape == (12,)
    first = env.reset()
    assert np.all(first[:, :8] == 0) and np.any(first[:, 8:] != 0)
    second, _, _, _ = env.step(np.zeros(2, np.int64))
    np.testing.assert_array_equal(second[:, 4:8], first[:, 8:])


def test_atari_needs_ale_py():
    import importlib.util
    if importlib.util.find_spec("ale_py") is None:
        with pytest.raises(ImportError, match="ale-py"):
            rl.make_atari_env("PongNoFrameskip-v4")
    else:
        pytest.skip("ale-py is installed")


def test_import_zoo_does_not_import_gymnasium():
    code = "import sys, zoo, zoo.rl; zoo.rl.__doc__; print('gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


# ---- evaluation, save / load, logging -------------------------------------------------------------------------
def test_evaluate_policy_format():
    model = rl.PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, seed=0)
    mean, std = rl.evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=3)
    assert isinstance(mean, float) and isinstance(std, float) and mean > 0 and std >= 0
    rewards, lengths = rl.evaluate_policy(model, rl.make_vec_env("CartPole-v1", n_envs=2, seed=0),
                                          n_eval_episodes=5, return_episode_rewards=True)
    assert len(rewards) == len(lengths) == 5
    assert rewards == [float(n) for n in lengths]  # CartPole pays 1 per step
    with pytest.raises(ValueError, match="n_eval_episodes"):
        rl.evaluate_policy(model, "CartPole-v1", n_eval_episodes=0)


def _obs_batch(env_id, n=300):
    space = gym.make(env_id).observation_space
    space.seed(0)
    return np.stack([space.sample() for _ in range(n)])


@pytest.mark.parametrize("algo,env_id", [("PPO", "CartPole-v1"), ("PPO", "Pendulum-v1"), ("A2C", "CartPole-v1"),
                                         ("DQN", "CartPole-v1")])
def test_save_load_round_trip_gives_identical_actions(tmp_path, algo, env_id):
    cls = getattr(rl, algo)
    kwargs = dict(learning_starts=50, train_freq=8) if algo == "DQN" else dict(n_steps=64)
    if algo == "PPO":
        kwargs.update(batch_size=32, clip_range=rl.linear_schedule(0.2))
    model = cls("MlpPolicy", env_id, seed=0, **kwargs).learn(128)
    path = model.save(tmp_path / "model")
    assert path.endswith(".zip")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["_zoo_rl_version", "data.json", "policy.optimizer.safetensors",
                                         "policy.safetensors"]
        data = json.loads(zf.read("data.json"))
    assert data["algorithm"] == algo and data["env_id"] == env_id
    loaded = cls.load(path)
    obs = _obs_batch(env_id)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    for k, v in model.policy.state_dict().items():
        np.testing.assert_array_equal(v.numpy(force=True), loaded.policy.state_dict()[k].numpy(force=True))
    if algo == "PPO":
        assert isinstance(loaded.clip_range, rl.LinearSchedule) and loaded.clip_range(0.5) == pytest.approx(0.1)
        assert loaded.n_steps == 64 and loaded.batch_size == 32
        single, _ = loaded.predict(obs[0], deterministic=True)
        assert np.shape(single) == np.shape(model.action_space.sample())
    # a loaded model trains on
    loaded.set_env(rl.make_vec_env(env_id, n_envs=1, seed=1))
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps >= 128 + 64


def test_load_refuses_other_algorithms_and_bad_files(tmp_path):
    path = rl.DQN("MlpPolicy", "CartPole-v1", learning_starts=10).save(tmp_path / "dqn")
    with pytest.raises(ValueError, match="DQN"):
        rl.PPO.load(path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip"):
        rl.PPO.load(bad)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown policy"):
        rl.PPO("MlpPolicyy", "CartPole-v1")
    with pytest.raises(ValueError, match="Box"):
        rl.DQN("MlpPolicy", "Pendulum-v1")
    with pytest.raises(TypeError, match="env"):
        rl.PPO("MlpPolicy", 42)
    with pytest.raises(ValueError, match="batch_size"):
        rl.PPO("MlpPolicy", "CartPole-v1", batch_size=0)
    with pytest.raises(NotImplementedError, match="use_sde"):
        rl.PPO("MlpPolicy", "Pendulum-v1", use_sde=True)
    model = rl.PPO("MlpPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="does not match"):
        model.predict(np.zeros(5))
    with pytest.raises(ValueError, match="total_timesteps"):
        model.learn(-1)


def test_logging_writes_csv_and_learning_curve(tmp_path):
    model = rl.PPO("MlpPolicy", rl.make_vec_env("CartPole-v1", n_envs=2, seed=0), n_steps=128, batch_size=64,
                   n_epochs=1, seed=0, log_dir=str(tmp_path))
    model.learn(512)
    rows = (tmp_path / "episodes.csv").read_text().splitlines()
    assert rows[0] == "timesteps,return,length,time" and len(rows) > 5
    progress = (tmp_path / "progress.csv").read_text().splitlines()
    assert "rollout/ep_rew_mean" in progress[0] and len(progress) >= 2
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_callbacks_stop_training_and_progress_bar(capsys):
    calls = []

    class StopAt(rl.BaseCallback):
        def _on_step(self):
            calls.append(self.num_timesteps)
            return self.num_timesteps < 40

    model = rl.A2C("MlpPolicy", "CartPole-v1", seed=0)
    model.learn(1000, callback=[StopAt()], progress_bar=True)
    assert calls[-1] == 40 and model.num_timesteps == 40


def test_dqn_exploration_and_target_updates():
    model = rl.DQN("MlpPolicy", "CartPole-v1", learning_starts=20, train_freq=4, target_update_interval=8,
                   exploration_fraction=0.5, seed=0)
    initial_target = [t.numpy(force=True).copy() for t in model.q_net_target.parameters()]
    model.learn(200)
    assert model.exploration_rate == pytest.approx(0.05)
    assert any(not np.array_equal(a, t.numpy(force=True)) for a, t in zip(initial_target,
                                                                       model.q_net_target.parameters()))
    model._n_calls = 7  # the next step is the 8th: a hard update (tau = 1) copies the online network
    model._on_step()
    for p, t in zip(model.q_net.parameters(), model.q_net_target.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), t.numpy(force=True))
    obs = _obs_batch("CartPole-v1", 50)
    model.exploration_rate = 1.0
    random_actions = {int(model.predict(o)[0]) for o in obs}
    assert random_actions == {0, 1}
    greedy = model.predict(obs, deterministic=True)[0]
    q = model.policy.q_values_numpy(obs)
    np.testing.assert_array_equal(greedy, q.argmax(1))


def test_dqn_step_counting_with_vectorised_envs_follows_sb3(monkeypatch):
    """SB3's counting with n_envs > 1: ``train_freq`` counts env.step calls, ``gradient_steps=-1`` does one gradient
    step per transition collected (calls * n_envs), the target network is updated every
    ``max(target_update_interval // n_envs, 1)`` calls, and epsilon follows the linear schedule of
    ``progress_remaining = 1 - num_timesteps / total_timesteps`` (``exploration_fraction`` of all timesteps)."""
    import zoo.rl.dqn as dqn_module
    target_updates = []
    real_update = dqn_module.polyak_update
    monkeypatch.setattr(dqn_module, "polyak_update", lambda *a: (target_updates.append(1), real_update(*a)))
    env = rl.make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = rl.DQN("MlpPolicy", env, learning_starts=0, batch_size=8, train_freq=4, gradient_steps=-1,
                   target_update_interval=6, exploration_fraction=0.5, exploration_final_eps=0.1,
                   policy_kwargs=dict(net_arch=[16]), seed=0)
    rates = []
    real_on_step = model._on_step

    def on_step():
        real_on_step()
        rates.append((model.num_timesteps, model.exploration_rate))
    model._on_step = on_step
    model.learn(40)  # 5 rollouts of 4 env.step calls of 2 envs
    assert model.num_timesteps == 40 and model._n_calls == 20
    assert model._n_updates == 40  # SB3: rollout.episode_timesteps = 4 calls * 2 envs per rollout
    assert len(target_updates) == 20 // (6 // 2)
    for t, eps in rates:  # SB3's LinearSchedule(1.0, 0.1, 0.5)(1 - t / 40)
        done = t / 40
        assert eps == pytest.approx(0.1 if done > 0.5 else 1.0 + done * (0.1 - 1.0) / 0.5)


def test_pipeline_with_a_model_object():
    model = rl.PPO("MlpPolicy", "CartPole-v1", seed=0)
    pipe = zoo.pipeline("reinforcement-learning", model=model)
    obs = _obs_batch("CartPole-v1", 4)
    assert pipe(obs[0]) in (0, 1)
    np.testing.assert_array_equal(pipe.predict(obs), model.predict(obs, deterministic=True)[0])
    episodes = pipe.play("CartPole-v1", episodes=2, seed=0)
    assert len(episodes) == 2 and all(set(e) == {"return", "length"} for e in episodes)
    with pytest.raises(ValueError, match="episodes"):
        pipe.play("CartPole-v1", episodes=0)


def test_cnn_policy_on_channels_last_images(tmp_path, bright_half_env):
    BrightHalfEnv = bright_half_env
    env = rl.make_vec_env(BrightHalfEnv, n_envs=2, seed=0)
    model = rl.PPO("CnnPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0,
                   policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=32)))
    assert model.observation_space.shape == (1, 36, 36)  # transposed to channels-first, as SB3 does
    assert isinstance(model.policy.features_extractor, rl.NatureCNN)
    model.learn(64)
    obs = np.stack([BrightHalfEnv().reset(seed=i)[0] for i in range(8)])  # channels-last, as the env gives them
    actions, _ = model.predict(obs, deterministic=True)
    loaded = rl.PPO.load(model.save(tmp_path / "cnn"))
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    keys = set(model.policy.state_dict())
    assert {"features_extractor.cnn.0.weight", "features_extractor.linear.0.weight"} <= keys


@pytest.mark.parametrize("double_q", [False, True])
def test_dqn_loss_matches_hand_computed_targets(double_q):
    model = rl.DQN("MlpPolicy", "CartPole-v1", learning_starts=0, batch_size=16, gamma=0.9, double_q=double_q,
                   seed=0)
    model.learn(64)
    with zoo.no_grad():  # make the target network differ from the online one
        for p in model.q_net_target.parameters():
            p.add_(zoo.randn(*p.shape) * 0.3)
    replay = np.random.default_rng()
    replay.bit_generator.state = model.rng.bit_generator.state
    data = model.replay_buffer.sample(16, replay)
    q_next_target = model.policy.q_values_numpy(data.next_observations, target=True)
    if double_q:
        best = model.policy.q_values_numpy(data.next_observations).argmax(1)
    else:
        best = q_next_target.argmax(1)
    target = data.rewards + (1 - data.dones) * 0.9 * q_next_target[np.arange(16), best]
    current = model.policy.q_values_numpy(data.observations)[np.arange(16), data.actions[:, 0]]
    diff = np.abs(current - target)
    huber = np.where(diff < 1, 0.5 * diff ** 2, diff - 0.5).mean()
    model.train(1, 16)
    assert model.logger.values["train/loss"] == pytest.approx(float(huber), rel=1e-4)


def test_atari_preprocessing_and_cnn_policy():
    """With ale-py: 84x84 grayscale frames, 4 stacked (channels-last), rewards clipped to their sign, and a CnnPolicy
    PPO that acts on them (NatureCNN on the transposed stack)."""
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")  # gymnasium's AtariPreprocessing resizes with OpenCV
    env = rl.make_atari_env("ALE/Pong-v5", n_envs=2, seed=0)
    assert env.observation_space.shape == (84, 84, 4) and env.observation_space.dtype == np.uint8
    obs = env.reset()
    assert obs.shape == (2, 84, 84, 4) and obs.dtype == np.uint8
    rewards = []
    for _ in range(40):
        obs, reward, done, info = env.step(np.array([env.action_space.sample() for _ in range(2)]))
        rewards.extend(reward.tolist())
    assert obs.shape == (2, 84, 84, 4) and set(rewards) <= {-1.0, 0.0, 1.0}
    assert obs[..., -1].std() > 0  # real frames, not blanks
    model = rl.PPO("CnnPolicy", env, n_steps=8, batch_size=16, n_epochs=1, seed=0)
    model.learn(16)
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (2,) and all(0 <= a < env.action_space.n for a in actions)
    env.close()
