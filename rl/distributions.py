"""Action distributions of the actor-critic policies, as Stable-Baselines3 names them.

Each has two faces: zoo tensors with gradients for the loss (``log_prob``, ``entropy`` of given actions), and
NumPy for acting (``sample_numpy``), where no gradient is needed and tensor bookkeeping would only cost time.
"""
import math

import numpy as np

from .. import core as zoo
from ..core.nn import functional as F

__all__ = ["Distribution", "CategoricalDistribution", "DiagGaussianDistribution", "make_proba_distribution"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Distribution:
    """Holds the parameters of one batch of action distributions (set by ``proba_distribution``)."""

    def log_prob(self, actions):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError


class CategoricalDistribution(Distribution):
    """Discrete actions: a softmax over ``action_dim`` logits."""

    def __init__(self, action_dim):
        self.action_dim = action_dim
        self.log_probs = None

    def proba_distribution(self, logits):
        self.log_probs = F.log_softmax(logits, -1)
        return self

    def log_prob(self, actions):
        """Log-probabilities of integer ``actions`` (a long tensor of shape (batch,))."""
        return self.log_probs.gather(1, actions.reshape(-1, 1)).reshape(-1)

    def entropy(self):
        return -(self.log_probs.exp() * self.log_probs).sum(-1)

    def mode(self):
        return self.log_probs.argmax(-1)

    @staticmethod
    def sample_numpy(logits, deterministic, rng):
        """Actions (int64) and their log-probabilities for a batch of ``logits`` (NumPy)."""
        logits = logits - logits.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        log_p = logits - log_z
        if deterministic:
            actions = log_p.argmax(axis=1)
        else:
            cdf = np.cumsum(np.exp(log_p), axis=1)
            u = rng.random((logits.shape[0], 1)) * cdf[:, -1:]
            actions = np.minimum((cdf < u).sum(axis=1), logits.shape[1] - 1)
        return actions.astype(np.int64), log_p[np.arange(len(actions)), actions].astype(np.float32)


class DiagGaussianDistribution(Distribution):
    """Continuous actions: independent Gaussians with a state-dependent mean and a learned, state-independent
    log standard deviation (``log_std``, one per action dimension)."""

    def __init__(self, action_dim):
        self.action_dim = action_dim
        self.mean = self.log_std = None

    def proba_distribution(self, mean, log_std):
        self.mean, self.log_std = mean, log_std
        return self

    def log_prob(self, actions):
        var = (2 * self.log_std).exp()
        per_dim = -((actions - self.mean) ** 2) / (2 * var) - self.log_std - _LOG_SQRT_2PI
        return per_dim.sum(-1)

    def entropy(self):
        per_dim = 0.5 + _LOG_SQRT_2PI + self.log_std
        return (zoo.zeros_like(self.mean) + per_dim).sum(-1)

    def mode(self):
        return self.mean

    @staticmethod
    def sample_numpy(mean, log_std, deterministic, rng):
        """Actions and their log-probabilities (NumPy) for means ``(batch, dim)`` and ``log_std`` ``(dim,)``."""
        if deterministic:
            actions = mean
            log_p = (-log_std - _LOG_SQRT_2PI).sum() * np.ones(len(mean), np.float32)
        else:
            std = np.exp(log_std)
            noise = rng.standard_normal(mean.shape).astype(np.float32)
            actions = mean + noise * std
            log_p = (-0.5 * noise ** 2 - log_std - _LOG_SQRT_2PI).sum(axis=1)
        return actions.astype(np.float32), log_p.astype(np.float32)


def make_proba_distribution(action_space):
    """The distribution class instance for ``action_space`` (Discrete or Box)."""
    from .envs import require_gymnasium
    spaces = require_gymnasium().spaces
    if isinstance(action_space, spaces.Discrete):
        return CategoricalDistribution(int(action_space.n))
    if isinstance(action_space, spaces.Box):
        if len(action_space.shape) != 1:
            raise NotImplementedError(f"Box action spaces must be 1-D, got shape {action_space.shape}")
        return DiagGaussianDistribution(int(action_space.shape[0]))
    raise NotImplementedError(f"action space {type(action_space).__name__} is not supported by zoo.rl policies "
                              "(Discrete and Box are)")
