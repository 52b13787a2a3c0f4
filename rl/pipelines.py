"""``zoo.pipeline("reinforcement-learning", model=NAME)``: a trained agent that acts on observations.

    agent = zoo.pipeline("reinforcement-learning", model="ppo-cartpole-v1")
    action = agent(observation)                 # one observation -> one action
    actions = agent.predict(batch_of_obs)       # a batch -> a batch of actions
    agent.play(episodes=5)                      # [{"return": 500.0, "length": 500}, ...]

``model`` is a registered agent name (``zoo.list_models("reinforcement-learning")``), a zoo.rl or SB3 model zip,
or a loaded PPO / A2C / DQN model. Agents trained on normalised observations carry the statistics and apply them.
"""
import json
import os
import zipfile

import numpy as np

from ..pipelines.base import Pipeline

__all__ = ["Agent", "load_agent", "ReinforcementLearningPipeline"]

_ALGORITHMS = ("PPO", "A2C", "DQN")


def _algorithm_class(name):
    if name not in _ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; zoo.rl has {', '.join(_ALGORITHMS)}")
    from importlib import import_module
    return getattr(import_module(f"zoo.rl.{name.lower()}"), name)


def _zip_algorithm(path):
    """The algorithm of a zoo.rl or SB3 model zip."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "data.json" in names:
            return json.loads(zf.read("data.json"))["algorithm"]
        if "data" in names:
            from .sb3_zip import _algorithm
            algo = _algorithm(json.loads(zf.read("data")))
            if algo is not None:
                return algo
    raise ValueError(f"{path} is not a zoo.rl or Stable-Baselines3 PPO / A2C / DQN model zip")


class Agent:
    """A model plus what acting needs besides it: the observation normalisation it was trained with and the id of
    its environment."""

    def __init__(self, model, obs_normalization=None, env_id=None, name=None):
        self.model = model
        self.obs_normalization = obs_normalization
        self.env_id = env_id or getattr(model, "env_id", None)
        self.name = name

    def normalize(self, obs):
        norm = self.obs_normalization
        if norm is None:
            return obs
        out = (np.asarray(obs, np.float64) - norm["mean"]) / np.sqrt(norm["var"] + norm["epsilon"])
        return np.clip(out, -norm["clip_obs"], norm["clip_obs"]).astype(np.float32)

    def predict(self, observation, deterministic=True):
        return self.model.predict(self.normalize(observation), deterministic=deterministic)[0]

    def parameters(self):
        return self.model.policy.parameters()

    def to(self, device):
        self.model.policy.to(device)
        return self

    def eval(self):
        self.model.policy.train(False)
        return self

    def __repr__(self):
        return f"Agent({type(self.model).__name__}, env_id={self.env_id!r}, name={self.name!r})"


def _read_normalization(path):
    with open(path) as f:
        state = json.load(f)
    rms = state.get("obs_rms")
    if not state.get("norm_obs") or rms is None:
        return None
    return {"mean": np.asarray(rms["mean"]), "var": np.asarray(rms["var"]), "epsilon": state["epsilon"],
            "clip_obs": state["clip_obs"]}


def load_agent(model, revision=None):
    """An :class:`Agent` from a registered agent name, a model zip (with ``vecnormalize.json`` next to it, if
    any) or a model object."""
    if isinstance(model, Agent):
        return model
    if hasattr(model, "predict") and hasattr(model, "policy"):
        return Agent(model)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"expected an agent name, a model zip or a zoo.rl model, got {type(model).__name__}")
    model = os.fspath(model)
    if os.path.exists(model) or os.path.exists(model + ".zip"):
        path = model if os.path.exists(model) else model + ".zip"
        if os.path.isdir(path):
            path = os.path.join(path, "agent.zip")
        norm_path = os.path.join(os.path.dirname(path), "vecnormalize.json")
        norm = _read_normalization(norm_path) if os.path.exists(norm_path) else None
        return Agent(_algorithm_class(_zip_algorithm(path)).load(path), norm, name=os.path.basename(path))
    from ..weights.registry import get_entry
    from ..weights.sources import resolve
    entry = get_entry(model)
    if entry.task != "reinforcement-learning":
        raise ValueError(f"{model!r} is a {entry.task} model, not a reinforcement-learning agent")
    algo = _algorithm_class(entry.architecture)
    loaded = algo.load(resolve(entry, "agent.zip", revision))
    norm = _read_normalization(resolve(entry, "vecnormalize.json", revision)) if "vecnormalize.json" in entry.files \
        else None
    return Agent(loaded, norm, name=entry.name)


class ReinforcementLearningPipeline(Pipeline):
    """Acts with a trained agent: ``pipe(obs)`` gives the action for one observation (a list of observations
    gives a list of actions); :meth:`predict` takes a batch; :meth:`play` runs whole episodes. ``deterministic``
    (default True) picks the most likely action instead of sampling."""

    def load_model(self, name, revision=None):
        return load_agent(name, revision)

    def __init__(self, model, **kwargs):
        if not isinstance(model, (str, os.PathLike, Agent)):
            model = load_agent(model)
        super().__init__(model, **kwargs)

    def _sanitize_parameters(self, deterministic=None):
        forward = {} if deterministic is None else {"deterministic": bool(deterministic)}
        return {}, forward, {}

    def preprocess(self, observation):
        return np.asarray(observation)[None]

    def _forward(self, observations, deterministic=True):
        return np.asarray(self.model.predict(observations, deterministic=deterministic))

    def postprocess(self, actions):
        action = actions[0]
        return action.item() if np.ndim(action) == 0 else action

    def predict(self, observation, deterministic=True):
        """Actions for one observation or a batch (as ``model.predict(...)[0]``)."""
        return self.model.predict(observation, deterministic=deterministic)

    def play(self, env=None, episodes=1, seed=None, deterministic=True, render=False, max_steps=None):
        """Run ``episodes`` episodes in ``env`` (a Gymnasium environment or id; default: the agent's own
        environment) and return ``[{"return": ..., "length": ...}]`` per episode."""
        from .envs import require_gymnasium
        gym = require_gymnasium()
        if not isinstance(episodes, int) or episodes < 1:
            raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
        if env is None:
            if self.model.env_id is None:
                raise ValueError("this agent does not record its environment; pass env= (a Gymnasium env or id)")
            env = self.model.env_id
        own = isinstance(env, str)
        if own:
            env = gym.make(env, render_mode="human" if render else None)
        results = []
        try:
            for i in range(episodes):
                obs, _ = env.reset(seed=None if seed is None else seed + i)
                total, length, done = 0.0, 0, False
                while not done:
                    action = self.model.predict(obs, deterministic=deterministic)
                    obs, reward, terminated, truncated, _ = env.step(action)
                    total += float(reward)
                    length += 1
                    done = terminated or truncated or (max_steps is not None and length >= max_steps)
                results.append({"return": total, "length": length})
        finally:
            if own:
                env.close()
        return results
