"""Deep Q-Network (Mnih et al., 2015) with SB3's defaults: replay buffer, target network (hard or Polyak
updates every ``target_update_interval`` steps), Huber loss, linearly decayed epsilon-greedy exploration,
``train_freq`` / ``gradient_steps``; ``double_q=True`` (zoo) makes it Double DQN (van Hasselt et al., 2016).

Unlike SB3, the replay buffer stores observations as the environment returns them: under VecNormalize they are the
normalised ones of the moment (SB3 stores the raw ones and normalises them when sampling)."""
import numpy as np

from .. import core as zoo
from ..core.nn import functional as F
from .buffers import ReplayBuffer
from .common import BaseAlgorithm, clip_and_step, get_linear_fn
from .envs import require_gymnasium
from .policies import CnnDQNPolicy, DQNPolicy

__all__ = ["DQN"]


def _train_freq(value):
    if isinstance(value, int):
        value = (value, "step")
    if (not isinstance(value, (tuple, list)) or len(value) != 2 or not isinstance(value[0], int) or value[0] < 1
            or value[1] not in ("step", "episode")):
        raise ValueError(f"train_freq must be a positive int or (n, 'step' | 'episode'), got {value!r}")
    return int(value[0]), value[1]


def polyak_update(params, target_params, tau):
    """``target = tau * param + (1 - tau) * target`` in place (a copy when ``tau == 1``)."""
    with zoo.no_grad():
        for p, tp in zip(params, target_params):
            if tau == 1:
                tp.copy_(p)
            else:
                tp.mul_(1 - tau).add_(p * tau)


class DQN(BaseAlgorithm):
    """``DQN("MlpPolicy", env).learn(50_000)``; arguments and defaults as in Stable-Baselines3."""

    policy_aliases = {"MlpPolicy": DQNPolicy, "CnnPolicy": CnnDQNPolicy}
    _hyperparameters = ("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "train_freq",
                        "gradient_steps", "target_update_interval", "exploration_fraction",
                        "exploration_initial_eps", "exploration_final_eps", "max_grad_norm", "double_q")

    def __init__(self, policy, env, learning_rate=1e-4, buffer_size=1_000_000, learning_starts=100, batch_size=32,
                 tau=1.0, gamma=0.99, train_freq=4, gradient_steps=1, replay_buffer_class=None,
                 replay_buffer_kwargs=None, optimize_memory_usage=False, target_update_interval=10000,
                 exploration_fraction=0.1, exploration_initial_eps=1.0, exploration_final_eps=0.05,
                 max_grad_norm=10, double_q=False, stats_window_size=100, tensorboard_log=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", log_dir=None, _init_setup_model=True):
        if optimize_memory_usage:
            raise NotImplementedError("optimize_memory_usage=True is not supported by zoo.rl's ReplayBuffer")
        spaces = require_gymnasium().spaces
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         log_dir=log_dir, supported_action_spaces=(spaces.Discrete,))
        if not 0 <= tau <= 1:
            raise ValueError(f"tau must be in [0, 1], got {tau}")
        if not 0 < exploration_fraction <= 1:
            raise ValueError(f"exploration_fraction must be in (0, 1], got {exploration_fraction}")
        self.buffer_size, self.learning_starts, self.batch_size = int(buffer_size), int(learning_starts), batch_size
        self.tau, self.gamma = tau, gamma
        self.train_freq = _train_freq(train_freq)
        self.gradient_steps = gradient_steps
        self.replay_buffer_class = replay_buffer_class or ReplayBuffer
        self.replay_buffer_kwargs = dict(replay_buffer_kwargs or {})
        self.target_update_interval = int(target_update_interval)
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps, self.exploration_final_eps = exploration_initial_eps, exploration_final_eps
        self.max_grad_norm, self.double_q = max_grad_norm, double_q
        self.exploration_rate = 0.0
        self._n_calls = 0
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        self._set_seed()
        self._make_policy()
        self.q_net, self.q_net_target = self.policy.q_net, self.policy.q_net_target
        self.replay_buffer = self.replay_buffer_class(self.buffer_size, self.observation_space, self.action_space,
                                                      n_envs=self.n_envs, **self.replay_buffer_kwargs)
        self.exploration_schedule = get_linear_fn(self.exploration_initial_eps, self.exploration_final_eps,
                                                  self.exploration_fraction)
        self._target_interval = max(self.target_update_interval // self.n_envs, 1)

    def _after_load(self):
        self.exploration_rate = self.exploration_final_eps

    # acting ---------------------------------------------------------------------------------------------------
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Greedy actions, or with probability ``exploration_rate`` (when not deterministic) random ones."""
        if not deterministic and self.rng.random() < self.exploration_rate:
            obs, batched = self.policy._vectorized(observation)
            actions = np.array([self.action_space.sample() for _ in range(len(obs))])
            return (actions if batched else actions[0]), state
        return self.policy.predict(observation, state, episode_start, deterministic=True)

    def _sample_actions(self):
        if self.num_timesteps < self.learning_starts:
            return np.array([self.action_space.sample() for _ in range(self.n_envs)])
        return self.predict(self._last_obs, deterministic=False)[0]

    # collecting -----------------------------------------------------------------------------------------------
    def collect_rollouts(self, callback):
        """Step the environments until ``train_freq`` steps (or episodes) are collected; returns
        ``(env steps collected, go on)``."""
        n, unit = self.train_freq
        steps = episodes = 0
        callback.on_rollout_start()
        while (steps < n) if unit == "step" else (episodes < n):
            actions = self._sample_actions()
            new_obs, rewards, dones, infos = self.env.step(actions)
            self.num_timesteps += self.n_envs
            steps += 1
            callback.update_locals(locals())
            if not callback.on_step():
                return steps * self.n_envs, False
            self._update_info_buffer(infos)
            next_obs = new_obs.copy()
            for i in np.flatnonzero(dones):
                if infos[i].get("terminal_observation") is not None:
                    next_obs[i] = infos[i]["terminal_observation"]
            self.replay_buffer.add(self._last_obs, next_obs, actions, rewards, dones, infos)
            self._last_obs = new_obs
            self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
            self._on_step()
            n_done = int(np.sum(dones))
            episodes += n_done
            self._episode_num += n_done
        callback.on_rollout_end()
        return steps * self.n_envs, True

    def _on_step(self):
        self._n_calls += 1
        if self._n_calls % self._target_interval == 0:
            polyak_update(self.q_net.parameters(), self.q_net_target.parameters(), self.tau)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)

    # training -------------------------------------------------------------------------------------------------
    def train(self, gradient_steps, batch_size=None):
        batch_size = batch_size or self.batch_size
        policy = self.policy
        policy.train(True)
        self._update_learning_rate(policy.optimizer)
        params = list(self.q_net.parameters())
        losses = []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, self.rng)
            next_q = policy.q_values_numpy(data.next_observations, target=True)
            if self.double_q:
                best = policy.q_values_numpy(data.next_observations).argmax(axis=1)
                next_q = next_q[np.arange(batch_size), best]
            else:
                next_q = next_q.max(axis=1)
            target = data.rewards + (1.0 - data.dones) * self.gamma * next_q
            q = self.q_net(policy.obs_to_tensor(data.observations))
            actions = zoo.from_numpy(np.ascontiguousarray(data.actions.reshape(-1, 1)))
            if self.device.type != "cpu":
                actions = actions.to(self.device)
            current_q = q.gather(1, actions).reshape(-1)
            target_t = zoo.from_numpy(np.ascontiguousarray(target, np.float32))
            if self.device.type != "cpu":
                target_t = target_t.to(self.device)
            loss = F.smooth_l1_loss(current_q, target_t)
            clip_and_step(policy, loss, self.max_grad_norm, params)
            losses.append(float(loss.item()))
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates)
        self.logger.record("train/loss", float(np.mean(losses)))

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="DQN", reset_num_timesteps=True,
              progress_bar=False):
        """Train for ``total_timesteps`` environment steps; returns self."""
        with self._thread_limit():
            return self._learn(total_timesteps, callback, log_interval, reset_num_timesteps, progress_bar)

    def _learn(self, total_timesteps, callback, log_interval, reset_num_timesteps, progress_bar):
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps, progress_bar)
        callback.on_training_start(locals(), globals())
        last_logged_episode = self._episode_num
        while self.num_timesteps < total_timesteps:
            collected, go_on = self.collect_rollouts(callback)
            if not go_on:
                break
            if self.num_timesteps > 0 and self.num_timesteps > self.learning_starts:
                # as SB3: -1 means one gradient step per transition collected (env.step calls * n_envs)
                gradient_steps = self.gradient_steps if self.gradient_steps >= 0 else collected
                if gradient_steps > 0:
                    self.train(gradient_steps, self.batch_size)
            if log_interval is not None and self._episode_num - last_logged_episode >= log_interval:
                last_logged_episode = self._episode_num
                self._record_rollout_stats()
                self.logger.record("rollout/exploration_rate", self.exploration_rate)
                self.logger.record("time/episodes", self._episode_num)
                self.logger.dump(self.num_timesteps)
        callback.on_training_end()
        self._finish_learn()
        return self
