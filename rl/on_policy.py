"""The on-policy loop shared by PPO and A2C: collect ``n_steps`` from every environment with the current policy
into a :class:`~zoo.rl.buffers.RolloutBuffer`, compute GAE advantages, train, repeat (SB3's
``OnPolicyAlgorithm``)."""
import numpy as np

from .. import core as zoo
from .buffers import RolloutBuffer
from .common import BaseAlgorithm
from .envs import require_gymnasium
from .policies import ActorCriticCnnPolicy, ActorCriticPolicy

__all__ = ["OnPolicyAlgorithm"]


class OnPolicyAlgorithm(BaseAlgorithm):
    policy_aliases = {"MlpPolicy": ActorCriticPolicy, "CnnPolicy": ActorCriticCnnPolicy}

    def __init__(self, policy, env, learning_rate, n_steps, gamma, gae_lambda, ent_coef, vf_coef, max_grad_norm,
                 use_sde=False, sde_sample_freq=-1, rollout_buffer_class=None, rollout_buffer_kwargs=None,
                 stats_window_size=100, tensorboard_log=None, monitor_wrapper=True, policy_kwargs=None, verbose=0,
                 seed=None, device="auto", log_dir=None, _init_setup_model=True):
        if use_sde:
            raise NotImplementedError("generalized State-Dependent Exploration (use_sde=True) is not supported by "
                                      "zoo.rl")
        spaces = require_gymnasium().spaces
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, monitor_wrapper=monitor_wrapper, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, log_dir=log_dir,
                         supported_action_spaces=(spaces.Discrete, spaces.Box))
        if not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
        self.n_steps, self.gamma, self.gae_lambda = n_steps, gamma, gae_lambda
        self.ent_coef, self.vf_coef, self.max_grad_norm = ent_coef, vf_coef, max_grad_norm
        self.use_sde, self.sde_sample_freq = use_sde, sde_sample_freq
        self.rollout_buffer_class = rollout_buffer_class or RolloutBuffer
        self.rollout_buffer_kwargs = dict(rollout_buffer_kwargs or {})
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        self._set_seed()
        self._make_policy()
        self.rollout_buffer = self.rollout_buffer_class(self.n_steps, self.observation_space, self.action_space,
                                                        gamma=self.gamma, gae_lambda=self.gae_lambda,
                                                        n_envs=self.n_envs, **self.rollout_buffer_kwargs)

    def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps):
        """Fill ``rollout_buffer`` with ``n_rollout_steps`` steps of every environment; False if a callback stopped
        training."""
        spaces = require_gymnasium().spaces
        policy = self.policy
        policy.train(False)
        discrete = isinstance(self.action_space, spaces.Discrete)
        box = isinstance(self.action_space, spaces.Box)
        rollout_buffer.reset()
        callback.on_rollout_start()
        n_steps = 0
        while n_steps < n_rollout_steps:
            actions, values, log_probs = policy.act_numpy(self._last_obs, False, self.rng)
            if box:
                env_actions = np.clip(actions.reshape((-1,) + self.action_space.shape), self.action_space.low,
                                      self.action_space.high)
            else:
                env_actions = actions + int(self.action_space.start)
            new_obs, rewards, dones, infos = env.step(env_actions)
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos)
            n_steps += 1
            if discrete:
                actions = actions.reshape(-1, 1)
            # bootstrap from the value of the last observation of episodes cut by a time limit
            for idx in np.flatnonzero(dones):
                info = infos[idx]
                if info.get("TimeLimit.truncated", False) and info.get("terminal_observation") is not None:
                    terminal_value = policy.values_numpy(np.asarray(info["terminal_observation"])[None])[0]
                    rewards[idx] += self.gamma * terminal_value
            rollout_buffer.add(self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs)
            self._last_obs, self._last_episode_starts = new_obs, dones
            self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
        last_values = policy.values_numpy(new_obs)
        rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def train(self):
        raise NotImplementedError

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="OnPolicyAlgorithm",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (summed over the environments); returns self."""
        with self._thread_limit():
            return self._learn(total_timesteps, callback, log_interval, reset_num_timesteps, progress_bar)

    def _learn(self, total_timesteps, callback, log_interval, reset_num_timesteps, progress_bar):
        iteration = 0
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps, progress_bar)
        callback.on_training_start(locals(), globals())
        while self.num_timesteps < total_timesteps:
            if not self.collect_rollouts(self.env, callback, self.rollout_buffer, self.n_steps):
                break
            iteration += 1
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            self.train()
            if log_interval is not None and iteration % log_interval == 0:
                self._record_rollout_stats(iteration)
                self.logger.dump(self.num_timesteps)
        callback.on_training_end()
        self._finish_learn()
        return self

    # shared by PPO and A2C -------------------------------------------------------------------------------------
    def _batch_tensors(self, batch):
        """Observation and action tensors of a rollout minibatch (actions as the distribution wants them)."""
        obs = self.policy.obs_to_tensor(batch.observations)
        spaces = require_gymnasium().spaces
        if isinstance(self.action_space, spaces.Discrete):
            actions = zoo.from_numpy(np.ascontiguousarray(batch.actions.reshape(-1)))
        else:
            actions = zoo.from_numpy(np.ascontiguousarray(batch.actions, np.float32))
        if self.device.type != "cpu":
            actions = actions.to(self.device)
        return obs, actions

    def _tensor(self, arr):
        t = zoo.from_numpy(np.ascontiguousarray(arr, np.float32))
        return t if self.device.type == "cpu" else t.to(self.device)
