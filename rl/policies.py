"""Policies with Stable-Baselines3's module names, so SB3 ``policy.pth`` files load key for key:

* :class:`ActorCriticPolicy` (PPO, A2C): ``features_extractor`` → ``mlp_extractor.policy_net`` /
  ``mlp_extractor.value_net`` → ``action_net`` (+ ``log_std`` for Box actions) and ``value_net``;
* :class:`DQNPolicy`: ``q_net`` and ``q_net_target``, each a :class:`QNetwork` (``features_extractor`` +
  ``q_net`` MLP);
* feature extractors :class:`FlattenExtractor` (``MlpPolicy``) and :class:`NatureCNN` (``CnnPolicy``, the DQN
  Nature paper's convolutional torso).

Acting needs no gradient, so :meth:`BasePolicy.act_numpy` runs MLPs in plain NumPy on the CPU (the float32 maths of
the tensor path, without its bookkeeping); everything else runs on zoo tensors.
"""
import math

import numpy as np

from .. import core as zoo
from ..core import nn
from ..core import optim
from .distributions import CategoricalDistribution, DiagGaussianDistribution, make_proba_distribution
from .envs import is_image_space, require_gymnasium

__all__ = ["BasePolicy", "ActorCriticPolicy", "ActorCriticCnnPolicy", "DQNPolicy", "CnnDQNPolicy", "QNetwork",
           "MlpExtractor", "FlattenExtractor", "NatureCNN", "create_mlp", "ACTIVATIONS", "activation_name",
           "preprocess_obs"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU,
               "silu": nn.SiLU, "sigmoid": nn.Sigmoid}
_NUMPY_ACTIVATIONS = {nn.Tanh: np.tanh, nn.ReLU: lambda x: np.maximum(x, 0, out=x)}
_OPTIMIZERS = {"Adam": optim.Adam, "RMSprop": optim.RMSprop, "SGD": optim.SGD, "AdamW": optim.AdamW}


def _activation_class(fn):
    """An activation module class from a class or a name (``"tanh"``, ``"ReLU"`` ...)."""
    if isinstance(fn, str):
        key = fn.lower()
        if key not in ACTIVATIONS:
            raise ValueError(f"unknown activation {fn!r}; known: {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[key]
    if isinstance(fn, type) and issubclass(fn, nn.Module):
        return fn
    raise TypeError(f"activation_fn must be a zoo.nn activation class (e.g. zoo.nn.Tanh) or its name, got {fn!r}")


def activation_name(cls):
    for name, c in ACTIVATIONS.items():
        if c is cls:
            return name
    raise ValueError(f"activation {cls.__name__} cannot be saved by name; use one of {', '.join(ACTIVATIONS)}")


def _optimizer_class(cls):
    if isinstance(cls, str):
        if cls not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {cls!r}; known: {', '.join(_OPTIMIZERS)}")
        return _OPTIMIZERS[cls]
    return cls


_IMAGE_SPACES = {}


def _is_image(space):
    key = id(space)
    hit = _IMAGE_SPACES.get(key)
    if hit is None or hit[0] is not space:
        hit = _IMAGE_SPACES[key] = (space, is_image_space(space))
    return hit[1]


def preprocess_obs(obs, observation_space, normalize_images=True):
    """Observations as float32 NumPy: images scaled to [0, 1], Discrete observations one-hot (as SB3)."""
    spaces = require_gymnasium().spaces
    if isinstance(observation_space, spaces.Discrete):
        idx = np.asarray(obs, np.int64).reshape(-1) - int(observation_space.start)
        out = np.zeros((idx.shape[0], int(observation_space.n)), np.float32)
        out[np.arange(idx.shape[0]), idx] = 1.0
        return out
    obs = np.asarray(obs)
    if normalize_images and _is_image(observation_space):
        return obs.astype(np.float32) / np.float32(255.0)
    return obs.astype(np.float32, copy=False)


def create_mlp(input_dim, output_dim, net_arch, activation_fn):
    """``[Linear, act] * len(net_arch)`` (+ a final Linear to ``output_dim`` when it is positive)."""
    layers, last = [], input_dim
    for width in net_arch:
        layers += [nn.Linear(last, width), activation_fn()]
        last = width
    if output_dim > 0:
        layers.append(nn.Linear(last, output_dim))
    return layers


class FlattenExtractor(nn.Module):
    """Flattens the observation (no parameters)."""

    def __init__(self, observation_space):
        super().__init__()
        self.features_dim = int(np.prod(observation_space.shape)) if observation_space.shape else \
            int(observation_space.n)

    def forward(self, obs):
        return obs.reshape(obs.shape[0], -1)


class NatureCNN(nn.Module):
    """Mnih et al. (2015): conv 32×8×8/4, 64×4×4/2, 64×3×3/1 (ReLU), then a ReLU linear layer to
    ``features_dim``. Expects channels-first images."""

    def __init__(self, observation_space, features_dim=512, normalized_image=False):
        super().__init__()
        if len(observation_space.shape) != 3:
            raise ValueError(f"NatureCNN needs image observations (C, H, W), got shape {observation_space.shape}")
        if not normalized_image and not is_image_space(observation_space):
            raise ValueError(f"NatureCNN expects uint8 images in [0, 255], got {observation_space}; pass "
                             "normalized_image=True for float images")
        n_input = observation_space.shape[0]
        self.cnn = nn.Sequential(nn.Conv2d(n_input, 32, 8, 4, 0), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 0), nn.ReLU(),
                                 nn.Conv2d(64, 64, 3, 1, 0), nn.ReLU(), nn.Flatten())
        h, w = observation_space.shape[1:]
        for k, s in ((8, 4), (4, 2), (3, 1)):
            h, w = (h - k) // s + 1, (w - k) // s + 1
        if h < 1 or w < 1:
            raise ValueError(f"NatureCNN: images of {observation_space.shape[1:]} are too small (at least 36x36)")
        self.linear = nn.Sequential(nn.Linear(64 * h * w, features_dim), nn.ReLU())
        self.features_dim = features_dim

    def forward(self, obs):
        return self.linear(self.cnn(obs))


_EXTRACTORS = {"FlattenExtractor": FlattenExtractor, "NatureCNN": NatureCNN}


def _extractor_class(cls):
    if isinstance(cls, str):
        if cls not in _EXTRACTORS:
            raise ValueError(f"unknown features extractor {cls!r}; known: {', '.join(_EXTRACTORS)}")
        return _EXTRACTORS[cls]
    return cls


class MlpExtractor(nn.Module):
    """Separate policy and value MLPs over the features. ``net_arch`` is a list (same layers for both) or
    ``dict(pi=[...], vf=[...])``."""

    def __init__(self, feature_dim, net_arch, activation_fn):
        super().__init__()
        if isinstance(net_arch, dict):
            unknown = set(net_arch) - {"pi", "vf"}
            if unknown:
                raise ValueError(f"net_arch dict keys must be 'pi' and 'vf', got {sorted(net_arch)}")
            pi, vf = list(net_arch.get("pi", [])), list(net_arch.get("vf", []))
        elif isinstance(net_arch, (list, tuple)):
            if any(isinstance(x, dict) for x in net_arch):
                raise ValueError("net_arch as a list holding a dict (shared layers) is the old SB3 format, not "
                                 "supported: use dict(pi=[...], vf=[...])")
            pi = vf = list(net_arch)
        else:
            raise TypeError(f"net_arch must be a list of layer widths or dict(pi=..., vf=...), got {net_arch!r}")
        self.policy_net = nn.Sequential(*create_mlp(feature_dim, -1, pi, activation_fn))
        self.value_net = nn.Sequential(*create_mlp(feature_dim, -1, vf, activation_fn))
        self.latent_dim_pi = pi[-1] if pi else feature_dim
        self.latent_dim_vf = vf[-1] if vf else feature_dim

    def forward(self, features):
        return self.policy_net(features), self.value_net(features)

    def forward_actor(self, features):
        return self.policy_net(features)

    def forward_critic(self, features):
        return self.value_net(features)


def _numpy_mlp(seq):
    """A NumPy function computing ``seq`` (Linear / Tanh / ReLU layers only), or None if it has other layers."""
    steps = []
    for layer in seq:
        if isinstance(layer, nn.Linear):
            steps.append(("linear", layer))
        elif type(layer) in _NUMPY_ACTIVATIONS:
            steps.append(("act", _NUMPY_ACTIVATIONS[type(layer)]))
        else:
            return None

    def run(x):
        for kind, op in steps:
            if kind == "linear":
                x = x @ op.weight.numpy(force=True).T
                if op.bias is not None:
                    x += op.bias.numpy(force=True)
            else:
                x = op(x)
        return x
    return run


def _linear_numpy(layer, x):
    out = x @ layer.weight.numpy(force=True).T
    if layer.bias is not None:
        out += layer.bias.numpy(force=True)
    return out


class BasePolicy(nn.Module):
    """What every policy has: its spaces, observation preprocessing, an optimizer and :meth:`predict`."""

    def __init__(self, observation_space, action_space, features_extractor_class=FlattenExtractor,
                 features_extractor_kwargs=None, normalize_images=True, optimizer_class=optim.Adam,
                 optimizer_kwargs=None):
        super().__init__()
        self.observation_space, self.action_space = observation_space, action_space
        self.features_extractor_class = _extractor_class(features_extractor_class)
        self.features_extractor_kwargs = dict(features_extractor_kwargs or {})
        self.normalize_images = normalize_images
        self.optimizer_class = _optimizer_class(optimizer_class)
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.optimizer = None

    def make_features_extractor(self):
        return self.features_extractor_class(self.observation_space, **self.features_extractor_kwargs)

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        return zoo.device("cpu")

    def _on_cpu(self):
        return self.device.type == "cpu"

    def obs_to_tensor(self, obs):
        """Preprocessed observations (a batch) as a float32 tensor on the policy's device."""
        arr = preprocess_obs(obs, self.observation_space, self.normalize_images)
        t = zoo.from_numpy(np.ascontiguousarray(arr))
        return t if self._on_cpu() else t.to(self.device)

    def _vectorized(self, obs):
        """(batch of observations, whether the input was already a batch)."""
        spaces = require_gymnasium().spaces
        obs = np.asarray(obs)
        space = self.observation_space
        if isinstance(space, spaces.Discrete):
            return obs.reshape(-1), obs.ndim > 0
        if obs.shape == space.shape:
            return obs[None], False
        if obs.shape[1:] == space.shape:
            return obs, True
        if is_image_space(space) and obs.shape[-3:] == (space.shape[1], space.shape[2], space.shape[0]):
            obs = np.moveaxis(obs, -1, -3)
            return (obs[None], False) if obs.ndim == 3 else (obs, True)
        raise ValueError(f"observation of shape {obs.shape} does not match the observation space {space.shape} "
                         f"(nor a batch of it)")

    def predict(self, observation, state=None, episode_start=None, deterministic=False, rng=None):
        """``(actions, None)`` for one observation or a batch (SB3's signature; ``state`` is for recurrent
        policies, which zoo does not have). Box actions are clipped to the action space's bounds."""
        obs, batched = self._vectorized(observation)
        actions = self._predict_numpy(obs, deterministic, rng or np.random.default_rng())
        spaces = require_gymnasium().spaces
        if isinstance(self.action_space, spaces.Box):
            actions = np.clip(actions.reshape((-1,) + self.action_space.shape), self.action_space.low,
                              self.action_space.high)
        elif isinstance(self.action_space, spaces.Discrete):
            actions = actions.reshape(-1) + int(self.action_space.start)
        if not batched:
            actions = actions[0]
        return actions, state

    def _predict_numpy(self, obs, deterministic, rng):
        raise NotImplementedError


class ActorCriticPolicy(BasePolicy):
    """Actor-critic policy for PPO and A2C (SB3's ``ActorCriticPolicy``, default ``net_arch=dict(pi=[64, 64],
    vf=[64, 64])``, Tanh, orthogonal initialisation, Adam with eps 1e-5)."""

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None, activation_fn=nn.Tanh,
                 ortho_init=True, log_std_init=0.0, features_extractor_class=FlattenExtractor,
                 features_extractor_kwargs=None, share_features_extractor=True, normalize_images=True,
                 optimizer_class=optim.Adam, optimizer_kwargs=None, use_sde=False):
        if use_sde:
            raise NotImplementedError("generalized State-Dependent Exploration (use_sde=True) is not supported by "
                                      "zoo.rl")
        optimizer_class = _optimizer_class(optimizer_class)
        if optimizer_kwargs is None:
            optimizer_kwargs = {"eps": 1e-5} if optimizer_class is optim.Adam else {}
        super().__init__(observation_space, action_space, features_extractor_class, features_extractor_kwargs,
                         normalize_images, optimizer_class, optimizer_kwargs)
        if net_arch is None:
            net_arch = [] if self.features_extractor_class is NatureCNN else dict(pi=[64, 64], vf=[64, 64])
        self.net_arch = net_arch
        self.activation_fn = _activation_class(activation_fn)
        self.ortho_init, self.log_std_init = ortho_init, log_std_init
        self.share_features_extractor = share_features_extractor
        self.features_extractor = self.make_features_extractor()
        self.features_dim = self.features_extractor.features_dim
        if share_features_extractor:
            self.pi_features_extractor = self.vf_features_extractor = self.features_extractor
        else:
            self.pi_features_extractor = self.features_extractor
            self.vf_features_extractor = self.make_features_extractor()
        self.action_dist = make_proba_distribution(action_space)
        self._build(lr_schedule)

    def _build(self, lr_schedule):
        self.mlp_extractor = MlpExtractor(self.features_dim, self.net_arch, self.activation_fn)
        latent_pi = self.mlp_extractor.latent_dim_pi
        if isinstance(self.action_dist, DiagGaussianDistribution):
            self.action_net = nn.Linear(latent_pi, self.action_dist.action_dim)
            self.log_std = nn.Parameter(zoo.ones(self.action_dist.action_dim) * float(self.log_std_init))
        else:
            self.action_net = nn.Linear(latent_pi, self.action_dist.action_dim)
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            gains = {self.features_extractor: math.sqrt(2), self.mlp_extractor: math.sqrt(2), self.action_net: 0.01,
                     self.value_net: 1.0}
            if not self.share_features_extractor:
                gains[self.vf_features_extractor] = math.sqrt(2)
            for module, gain in gains.items():
                for m in module.modules():
                    if isinstance(m, (nn.Linear, nn.Conv2d)):
                        nn.init.orthogonal_(m.weight, gain=gain)
                        if m.bias is not None:
                            nn.init.zeros_(m.bias)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1.0), **self.optimizer_kwargs)
        self._np_pi = _numpy_mlp(self.mlp_extractor.policy_net) if self._numpy_features() else None
        self._np_vf = _numpy_mlp(self.mlp_extractor.value_net) if self._numpy_features() else None

    def _numpy_features(self):
        return isinstance(self.features_extractor, FlattenExtractor)

    def constructor_parameters(self):
        """The JSON-able arguments that rebuild this policy (saved with the model)."""
        return dict(net_arch=self.net_arch, activation_fn=activation_name(self.activation_fn),
                    ortho_init=self.ortho_init, log_std_init=self.log_std_init,
                    features_extractor_class=self.features_extractor_class.__name__,
                    features_extractor_kwargs=self.features_extractor_kwargs,
                    share_features_extractor=self.share_features_extractor, normalize_images=self.normalize_images,
                    optimizer_class=self.optimizer_class.__name__, optimizer_kwargs=self.optimizer_kwargs)

    # tensor path (training) -----------------------------------------------------------------------------------
    def _latents(self, obs):
        if self.share_features_extractor:
            return self.mlp_extractor(self.features_extractor(obs))
        return (self.mlp_extractor.forward_actor(self.pi_features_extractor(obs)),
                self.mlp_extractor.forward_critic(self.vf_features_extractor(obs)))

    def _distribution(self, latent_pi):
        out = self.action_net(latent_pi)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            return self.action_dist.proba_distribution(out, self.log_std)
        return self.action_dist.proba_distribution(out)

    def evaluate_actions(self, obs, actions):
        """``(values, log_prob, entropy)`` of ``actions`` under the current policy (tensors with gradients)."""
        latent_pi, latent_vf = self._latents(obs)
        dist = self._distribution(latent_pi)
        return self.value_net(latent_vf).reshape(-1), dist.log_prob(actions), dist.entropy()

    def forward(self, obs, deterministic=False):
        """``(actions, values, log_prob)`` for a batch of preprocessed observation tensors."""
        latent_pi, latent_vf = self._latents(obs)
        dist = self._distribution(latent_pi)
        if deterministic:
            actions = dist.mode()
        elif isinstance(dist, CategoricalDistribution):
            probs = dist.log_probs.exp()
            actions = zoo.multinomial(probs, 1).reshape(-1)
        else:
            actions = dist.mean + zoo.randn_like(dist.mean) * dist.log_std.exp()
        return actions, self.value_net(latent_vf).reshape(-1), dist.log_prob(actions)

    def predict_values(self, obs):
        latent_vf = self.mlp_extractor.forward_critic(self.vf_features_extractor(obs))
        return self.value_net(latent_vf).reshape(-1)

    # NumPy path (acting) --------------------------------------------------------------------------------------
    def _heads_numpy(self, obs, need_values=True):
        """(distribution parameters, values) for raw observations, as NumPy."""
        x = preprocess_obs(obs, self.observation_space, self.normalize_images)
        if self._np_pi is not None and self._np_vf is not None and self._on_cpu():
            x = x.reshape(x.shape[0], -1)
            out = _linear_numpy(self.action_net, self._np_pi(x))
            values = _linear_numpy(self.value_net, self._np_vf(x)).reshape(-1) if need_values else None
            return out, values
        with zoo.no_grad():
            t = self.obs_to_tensor(obs)
            latent_pi, latent_vf = self._latents(t)
            out = self.action_net(latent_pi).numpy(force=True)
            values = self.value_net(latent_vf).reshape(-1).numpy(force=True) if need_values else None
        return out, values

    def act_numpy(self, obs, deterministic, rng):
        """``(actions, values, log_probs)`` (NumPy) for a batch of raw observations: what rollouts need."""
        out, values = self._heads_numpy(obs)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            actions, log_p = DiagGaussianDistribution.sample_numpy(out, self.log_std.numpy(force=True),
                                                                   deterministic, rng)
        else:
            actions, log_p = CategoricalDistribution.sample_numpy(out, deterministic, rng)
        return actions, values, log_p

    def values_numpy(self, obs):
        x = preprocess_obs(obs, self.observation_space, self.normalize_images)
        if self._np_vf is not None and self._on_cpu():
            return _linear_numpy(self.value_net, self._np_vf(x.reshape(x.shape[0], -1))).reshape(-1)
        with zoo.no_grad():
            return self.predict_values(self.obs_to_tensor(obs)).numpy(force=True)

    def _predict_numpy(self, obs, deterministic, rng):
        out, _ = self._heads_numpy(obs, need_values=False)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            return DiagGaussianDistribution.sample_numpy(out, self.log_std.numpy(force=True), deterministic, rng)[0]
        return CategoricalDistribution.sample_numpy(out, deterministic, rng)[0]


class ActorCriticCnnPolicy(ActorCriticPolicy):
    """:class:`ActorCriticPolicy` with a :class:`NatureCNN` features extractor (``CnnPolicy``)."""

    def __init__(self, observation_space, action_space, lr_schedule, features_extractor_class=NatureCNN, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule,
                         features_extractor_class=features_extractor_class, **kwargs)


class QNetwork(nn.Module):
    """Q-values of every discrete action: ``features_extractor`` then the ``q_net`` MLP."""

    def __init__(self, observation_space, action_space, features_extractor, features_dim, net_arch, activation_fn):
        super().__init__()
        self.features_extractor = features_extractor
        self.q_net = nn.Sequential(*create_mlp(features_dim, int(action_space.n), net_arch, activation_fn))
        self._np_q = _numpy_mlp(self.q_net) if isinstance(features_extractor, FlattenExtractor) else None

    def forward(self, obs):
        return self.q_net(self.features_extractor(obs))


class DQNPolicy(BasePolicy):
    """DQN's policy: ``q_net`` (trained) and ``q_net_target`` (its lagged copy); greedy actions (default
    ``net_arch=[64, 64]``, ReLU, Adam)."""

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None, activation_fn=nn.ReLU,
                 features_extractor_class=FlattenExtractor, features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=optim.Adam, optimizer_kwargs=None):
        super().__init__(observation_space, action_space, features_extractor_class, features_extractor_kwargs,
                         normalize_images, optimizer_class, optimizer_kwargs)
        if not isinstance(action_space, require_gymnasium().spaces.Discrete):
            raise NotImplementedError(f"DQN needs a Discrete action space, got {type(action_space).__name__}")
        if net_arch is None:
            net_arch = [] if self.features_extractor_class is NatureCNN else [64, 64]
        self.net_arch = list(net_arch)
        self.activation_fn = _activation_class(activation_fn)
        self.q_net = self.make_q_net()
        self.q_net_target = self.make_q_net()
        self.q_net_target.load_state_dict(self.q_net.state_dict())
        self.q_net_target.train(False)
        for p in self.q_net_target.parameters():
            p.requires_grad_(False)
        self.optimizer = self.optimizer_class(self.q_net.parameters(), lr=lr_schedule(1.0), **self.optimizer_kwargs)

    def make_q_net(self):
        fe = self.make_features_extractor()
        return QNetwork(self.observation_space, self.action_space, fe, fe.features_dim, self.net_arch,
                        self.activation_fn)

    def constructor_parameters(self):
        return dict(net_arch=self.net_arch, activation_fn=activation_name(self.activation_fn),
                    features_extractor_class=self.features_extractor_class.__name__,
                    features_extractor_kwargs=self.features_extractor_kwargs, normalize_images=self.normalize_images,
                    optimizer_class=self.optimizer_class.__name__, optimizer_kwargs=self.optimizer_kwargs)

    def forward(self, obs, deterministic=True):
        return self.q_net(obs).argmax(-1)

    def q_values_numpy(self, obs, target=False):
        """Q-values (NumPy) of raw observations, from the online or the target network."""
        net = self.q_net_target if target else self.q_net
        x = preprocess_obs(obs, self.observation_space, self.normalize_images)
        if net._np_q is not None and self._on_cpu():
            return net._np_q(x.reshape(x.shape[0], -1))
        with zoo.no_grad():
            return net(self.obs_to_tensor(obs)).numpy(force=True)

    def _predict_numpy(self, obs, deterministic, rng):
        return self.q_values_numpy(obs).argmax(axis=1)


class CnnDQNPolicy(DQNPolicy):
    """:class:`DQNPolicy` with a :class:`NatureCNN` features extractor (``CnnPolicy``)."""

    def __init__(self, observation_space, action_space, lr_schedule, features_extractor_class=NatureCNN, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule,
                         features_extractor_class=features_extractor_class, **kwargs)
