"""Experience storage: :class:`RolloutBuffer` (on-policy, with GAE) and :class:`ReplayBuffer` (off-policy).

Both hold NumPy arrays shaped ``(buffer_size, n_envs, ...)`` as Stable-Baselines3's do; samples come back as
named tuples of NumPy arrays (the algorithms turn only what needs a gradient into tensors).
"""
from typing import NamedTuple

import numpy as np

__all__ = ["RolloutBuffer", "ReplayBuffer", "RolloutBufferSamples", "ReplayBufferSamples", "space_shapes"]


class RolloutBufferSamples(NamedTuple):
    observations: np.ndarray
    actions: np.ndarray
    old_values: np.ndarray
    old_log_prob: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray


class ReplayBufferSamples(NamedTuple):
    observations: np.ndarray
    actions: np.ndarray
    next_observations: np.ndarray
    dones: np.ndarray
    rewards: np.ndarray


def space_shapes(observation_space, action_space):
    """``(obs_shape, obs_dtype, action_dim, action_dtype)`` for the spaces zoo.rl supports."""
    from .envs import require_gymnasium
    spaces = require_gymnasium().spaces
    if isinstance(observation_space, spaces.Box):
        obs_shape, obs_dtype = observation_space.shape, observation_space.dtype
    elif isinstance(observation_space, spaces.Discrete):
        obs_shape, obs_dtype = (1,), np.int64
    else:
        raise NotImplementedError(f"observation space {type(observation_space).__name__} is not supported by "
                                  "zoo.rl (Box and Discrete are)")
    if isinstance(action_space, spaces.Discrete):
        return obs_shape, obs_dtype, 1, np.int64
    if isinstance(action_space, spaces.Box):
        return obs_shape, obs_dtype, int(np.prod(action_space.shape)), np.float32
    raise NotImplementedError(f"action space {type(action_space).__name__} is not supported by zoo.rl (Discrete "
                              "and Box are)")


def _swap_flatten(arr):
    """(steps, envs, ...) -> (steps * envs, ...), env-major as SB3 (all steps of env 0 first)."""
    shape = arr.shape
    if len(shape) < 3:
        shape = shape + (1,)
    return arr.swapaxes(0, 1).reshape(shape[0] * shape[1], *shape[2:])


class RolloutBuffer:
    """``buffer_size`` steps of ``n_envs`` environments collected by the current policy, with
    :meth:`compute_returns_and_advantage` (GAE(λ)) and minibatch iteration by :meth:`get`."""

    def __init__(self, buffer_size, observation_space, action_space, gamma=0.99, gae_lambda=1.0, n_envs=1):
        if buffer_size < 1 or n_envs < 1:
            raise ValueError(f"RolloutBuffer: buffer_size and n_envs must be >= 1, got {buffer_size}, {n_envs}")
        self.buffer_size, self.n_envs = buffer_size, n_envs
        self.gamma, self.gae_lambda = gamma, gae_lambda
        self.observation_space, self.action_space = observation_space, action_space
        self.obs_shape, self.obs_dtype, self.action_dim, self.action_dtype = space_shapes(observation_space,
                                                                                          action_space)
        self.reset()

    def reset(self):
        n, e = self.buffer_size, self.n_envs
        self.observations = np.zeros((n, e) + tuple(self.obs_shape), self.obs_dtype)
        self.actions = np.zeros((n, e, self.action_dim), self.action_dtype)
        self.rewards = np.zeros((n, e), np.float32)
        self.returns = np.zeros((n, e), np.float32)
        self.episode_starts = np.zeros((n, e), np.float32)
        self.values = np.zeros((n, e), np.float32)
        self.log_probs = np.zeros((n, e), np.float32)
        self.advantages = np.zeros((n, e), np.float32)
        self.pos, self.full, self.generator_ready = 0, False, False

    def size(self):
        return self.buffer_size if self.full else self.pos

    def add(self, obs, action, reward, episode_start, value, log_prob):
        """Store one step of every environment (``value`` and ``log_prob`` as computed when acting)."""
        if self.full:
            raise RuntimeError("RolloutBuffer is full: call reset() (or compute the returns and train) first")
        p = self.pos
        self.observations[p] = np.asarray(obs).reshape((self.n_envs,) + tuple(self.obs_shape))
        self.actions[p] = np.asarray(action).reshape(self.n_envs, self.action_dim)
        self.rewards[p] = np.asarray(reward).reshape(self.n_envs)
        self.episode_starts[p] = np.asarray(episode_start).reshape(self.n_envs)
        self.values[p] = np.asarray(value).reshape(self.n_envs)
        self.log_probs[p] = np.asarray(log_prob).reshape(self.n_envs)
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def compute_returns_and_advantage(self, last_values, dones):
        """GAE(λ): ``δ_t = r_t + γ V(s_{t+1}) (1 - done_{t+1}) - V(s_t)``, ``A_t = δ_t + γλ (1 - done_{t+1}) A_{t+1}``;
        returns are ``A + V`` (TD(λ) targets). ``last_values`` / ``dones`` belong to the observation after the last
        stored step."""
        last_values = np.asarray(last_values, np.float32).reshape(self.n_envs)
        dones = np.asarray(dones, np.float32).reshape(self.n_envs)
        last_gae = np.zeros(self.n_envs, np.float32)
        for step in reversed(range(self.buffer_size)):
            if step == self.buffer_size - 1:
                next_non_terminal, next_values = 1.0 - dones, last_values
            else:
                next_non_terminal, next_values = 1.0 - self.episode_starts[step + 1], self.values[step + 1]
            delta = self.rewards[step] + self.gamma * next_values * next_non_terminal - self.values[step]
            last_gae = delta + self.gamma * self.gae_lambda * next_non_terminal * last_gae
            self.advantages[step] = last_gae
        self.returns = self.advantages + self.values

    def get(self, batch_size=None, rng=None):
        """Minibatches of ``batch_size`` (all of the buffer when None) in a random order (``rng``: a NumPy
        Generator)."""
        if not self.full:
            raise RuntimeError("RolloutBuffer.get: the buffer is not full yet")
        total = self.buffer_size * self.n_envs
        indices = (rng or np.random).permutation(total)
        if not self.generator_ready:
            self._flat = {name: _swap_flatten(getattr(self, name)) for name in
                          ("observations", "actions", "values", "log_probs", "advantages", "returns")}
            self.generator_ready = True
        batch_size = total if batch_size is None else batch_size
        for start in range(0, total, batch_size):
            yield self._get_samples(indices[start:start + batch_size])

    def _get_samples(self, idx):
        f = self._flat
        return RolloutBufferSamples(f["observations"][idx], f["actions"][idx], f["values"][idx].reshape(-1),
                                    f["log_probs"][idx].reshape(-1), f["advantages"][idx].reshape(-1),
                                    f["returns"][idx].reshape(-1))


class ReplayBuffer:
    """A ring buffer of ``buffer_size`` transitions per environment row (``buffer_size // n_envs`` rows).

    With ``handle_timeout_termination`` an episode cut by a time limit is not treated as terminal when sampled
    (the target bootstraps from the next state), as SB3 does."""

    def __init__(self, buffer_size, observation_space, action_space, n_envs=1, handle_timeout_termination=True):
        if buffer_size < n_envs:
            raise ValueError(f"ReplayBuffer: buffer_size ({buffer_size}) must be at least n_envs ({n_envs})")
        self.buffer_size, self.n_envs = max(buffer_size // n_envs, 1), n_envs
        self.observation_space, self.action_space = observation_space, action_space
        self.obs_shape, self.obs_dtype, self.action_dim, self.action_dtype = space_shapes(observation_space,
                                                                                          action_space)
        n = self.buffer_size
        self.observations = np.zeros((n, n_envs) + tuple(self.obs_shape), self.obs_dtype)
        self.next_observations = np.zeros((n, n_envs) + tuple(self.obs_shape), self.obs_dtype)
        self.actions = np.zeros((n, n_envs, self.action_dim), self.action_dtype)
        self.rewards = np.zeros((n, n_envs), np.float32)
        self.dones = np.zeros((n, n_envs), np.float32)
        self.timeouts = np.zeros((n, n_envs), np.float32)
        self.handle_timeout_termination = handle_timeout_termination
        self.pos, self.full = 0, False

    def size(self):
        return self.buffer_size if self.full else self.pos

    def add(self, obs, next_obs, action, reward, done, infos):
        p, e = self.pos, self.n_envs
        self.observations[p] = np.asarray(obs).reshape((e,) + tuple(self.obs_shape))
        self.next_observations[p] = np.asarray(next_obs).reshape((e,) + tuple(self.obs_shape))
        self.actions[p] = np.asarray(action).reshape(e, self.action_dim)
        self.rewards[p] = np.asarray(reward).reshape(e)
        self.dones[p] = np.asarray(done).reshape(e)
        if self.handle_timeout_termination:
            self.timeouts[p] = [info.get("TimeLimit.truncated", False) for info in infos]
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full, self.pos = True, 0

    def sample(self, batch_size, rng=None):
        """``batch_size`` transitions drawn uniformly (with replacement) from what is stored."""
        upper = self.size()
        if upper == 0:
            raise RuntimeError("ReplayBuffer.sample: the buffer is empty")
        rng = rng or np.random
        rows = rng.integers(0, upper, batch_size) if hasattr(rng, "integers") else rng.randint(0, upper, batch_size)
        envs = (rng.integers(0, self.n_envs, batch_size) if hasattr(rng, "integers")
                else rng.randint(0, self.n_envs, batch_size))
        dones = self.dones[rows, envs] * (1.0 - self.timeouts[rows, envs])
        return ReplayBufferSamples(self.observations[rows, envs], self.actions[rows, envs],
                                   self.next_observations[rows, envs], dones.astype(np.float32),
                                   self.rewards[rows, envs])
