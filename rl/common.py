"""What every algorithm shares: schedules, callbacks, logging, :class:`BaseAlgorithm` (``learn`` / ``predict`` /
``save`` / ``load``) and :func:`evaluate_policy`, with Stable-Baselines3's names and semantics.

Saved models are zip files holding ``data.json`` (algorithm, hyperparameters, spaces, policy arguments),
``policy.safetensors`` and ``policy.optimizer.safetensors``: no pickle anywhere. ``load`` also reads
Stable-Baselines3 zip files (see :mod:`zoo.rl.sb3_zip`).
"""
import collections
import contextlib
import csv
import io
import json
import math
import os
import sys
import time
import warnings
import zipfile

import numpy as np

from .. import core as zoo
from ..core.nn.utils import clip_grad_norm_
from .envs import (DummyVecEnv, Monitor, VecEnv, VecTransposeImage, is_image_space, make_vec_env, require_gymnasium,
                   unwrap_vec_normalize, _is_monitored)

__all__ = ["ConstantSchedule", "LinearSchedule", "linear_schedule", "get_schedule_fn", "get_linear_fn",
           "BaseCallback", "CallbackList", "ConvertCallback", "EvalCallback", "CheckpointCallback",
           "StopTrainingOnRewardThreshold", "ProgressBarCallback", "Logger", "BaseAlgorithm", "evaluate_policy",
           "space_to_json", "space_from_json", "FORMAT_VERSION"]

FORMAT_VERSION = 1


# ---- schedules ------------------------------------------------------------------------------------------------
class ConstantSchedule:
    """``progress_remaining -> value`` (always ``value``)."""

    def __init__(self, value):
        self.value = float(value)

    def __call__(self, progress_remaining):
        return self.value

    def to_json(self):
        return {"type": "constant", "value": self.value}

    def __repr__(self):
        return f"ConstantSchedule({self.value})"


class LinearSchedule:
    """From ``start`` (progress_remaining = 1) to ``end``, reached after ``end_fraction`` of training, then flat
    (SB3's ``get_linear_fn``)."""

    def __init__(self, start, end, end_fraction=1.0):
        if not 0 < end_fraction <= 1:
            raise ValueError(f"LinearSchedule: end_fraction must be in (0, 1], got {end_fraction}")
        self.start, self.end, self.end_fraction = float(start), float(end), float(end_fraction)

    def __call__(self, progress_remaining):
        done = 1.0 - progress_remaining
        if done > self.end_fraction:
            return self.end
        return self.start + done * (self.end - self.start) / self.end_fraction

    def to_json(self):
        return {"type": "linear", "start": self.start, "end": self.end, "end_fraction": self.end_fraction}

    def __repr__(self):
        return f"LinearSchedule({self.start}, {self.end}, end_fraction={self.end_fraction})"


def linear_schedule(initial_value):
    """``progress_remaining * initial_value``: RL-Zoo's ``lin_<value>``."""
    return LinearSchedule(initial_value, 0.0)


def get_linear_fn(start, end, end_fraction):
    return LinearSchedule(start, end, end_fraction)


def get_schedule_fn(value):
    """A schedule from a number (constant) or a callable ``f(progress_remaining)`` (used as is)."""
    if isinstance(value, bool):
        raise TypeError("a schedule must be a number or a callable, got a bool")
    if isinstance(value, (int, float, np.floating, np.integer)):
        return ConstantSchedule(value)
    if callable(value):
        return value
    raise TypeError(f"a schedule must be a number or a callable f(progress_remaining), got {value!r}")


def _schedule_to_json(schedule):
    if schedule is None:
        return None
    if hasattr(schedule, "to_json"):
        return schedule.to_json()
    return {"type": "callable", "repr": repr(schedule), "start": float(schedule(1.0)), "end": float(schedule(0.0))}


def _schedule_from_json(data, name, custom_objects):
    if name in custom_objects:
        return get_schedule_fn(custom_objects[name])
    if data is None:
        return None
    if isinstance(data, (int, float)):
        return ConstantSchedule(data)
    kind = data.get("type")
    if kind == "constant":
        return ConstantSchedule(data["value"])
    if kind == "linear":
        return LinearSchedule(data["start"], data["end"], data["end_fraction"])
    warnings.warn(f"{name} was a custom function ({data.get('repr')}), which a JSON file cannot hold; it is a "
                  f"linear schedule from {data['start']} to {data['end']} now. Pass custom_objects={{{name!r}: fn}} "
                  "to load() to restore it.")
    return LinearSchedule(data["start"], data["end"])


# ---- spaces as JSON -------------------------------------------------------------------------------------------
def _floats_to_json(arr):
    return [x if math.isfinite(x) else ("inf" if x > 0 else "-inf" if x < 0 else "nan")
            for x in np.asarray(arr, np.float64).reshape(-1).tolist()]


def space_to_json(space):
    spaces = require_gymnasium().spaces
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": _floats_to_json(space.low), "high": _floats_to_json(space.high)}
    raise NotImplementedError(f"saving a {type(space).__name__} space is not supported (Box and Discrete are)")


def space_from_json(data):
    spaces = require_gymnasium().spaces
    if data["type"] == "Discrete":
        return spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
    if data["type"] == "Box":
        shape = tuple(data["shape"])
        low = np.array([float(x) for x in data["low"]], np.float64).reshape(shape)
        high = np.array([float(x) for x in data["high"]], np.float64).reshape(shape)
        return spaces.Box(low.astype(data["dtype"]), high.astype(data["dtype"]), shape, np.dtype(data["dtype"]))
    raise ValueError(f"unknown space type {data['type']!r}")


# ---- callbacks ------------------------------------------------------------------------------------------------
class BaseCallback:
    """Hooks into training: override ``_on_step`` (return False to stop) and the other ``_on_*`` methods.
    ``self.model``, ``self.num_timesteps``, ``self.n_calls`` and ``self.locals`` are set while training."""

    def __init__(self, verbose=0):
        self.verbose = verbose
        self.model = None
        self.n_calls = 0
        self.num_timesteps = 0
        self.locals, self.globals = {}, {}
        self.parent = None

    def init_callback(self, model):
        self.model = model
        self._init_callback()

    def _init_callback(self):
        pass

    def on_training_start(self, locals_, globals_):
        self.locals, self.globals = locals_, globals_
        self.num_timesteps = self.model.num_timesteps
        self._on_training_start()

    def _on_training_start(self):
        pass

    def on_rollout_start(self):
        self._on_rollout_start()

    def _on_rollout_start(self):
        pass

    def on_step(self):
        self.n_calls += 1
        self.num_timesteps = self.model.num_timesteps
        return self._on_step()

    def _on_step(self):
        return True

    def on_rollout_end(self):
        self._on_rollout_end()

    def _on_rollout_end(self):
        pass

    def on_training_end(self):
        self._on_training_end()

    def _on_training_end(self):
        pass

    def update_locals(self, locals_):
        self.locals.update(locals_)
        self.update_child_locals(locals_)

    def update_child_locals(self, locals_):
        pass


class CallbackList(BaseCallback):
    """Several callbacks called in order; training stops when one returns False."""

    def __init__(self, callbacks):
        super().__init__()
        self.callbacks = list(callbacks)

    def _init_callback(self):
        for c in self.callbacks:
            c.init_callback(self.model)

    def _on_training_start(self):
        for c in self.callbacks:
            c.on_training_start(self.locals, self.globals)

    def _on_rollout_start(self):
        for c in self.callbacks:
            c.on_rollout_start()

    def _on_step(self):
        keep = True
        for c in self.callbacks:
            keep = c.on_step() and keep
        return keep

    def _on_rollout_end(self):
        for c in self.callbacks:
            c.on_rollout_end()

    def _on_training_end(self):
        for c in self.callbacks:
            c.on_training_end()

    def update_child_locals(self, locals_):
        for c in self.callbacks:
            c.update_locals(locals_)


class ConvertCallback(BaseCallback):
    """A function ``f(locals, globals) -> bool`` (False stops training) as a callback."""

    def __init__(self, callback, verbose=0):
        super().__init__(verbose)
        self.callback = callback

    def _on_step(self):
        result = self.callback(self.locals, self.globals)
        return True if result is None else bool(result)


class ProgressBarCallback(BaseCallback):
    """A tqdm progress bar over the timesteps of ``learn``."""

    def _on_training_start(self):
        from tqdm.auto import tqdm
        self.pbar = tqdm(total=self.locals["total_timesteps"] - self.model.num_timesteps, unit="step",
                         dynamic_ncols=True)

    def _on_step(self):
        self.pbar.update(self.model.n_envs)
        return True

    def _on_training_end(self):
        self.pbar.refresh()
        self.pbar.close()


class StopTrainingOnRewardThreshold(BaseCallback):
    """Used as ``EvalCallback(callback_on_new_best=...)``: stops when the evaluation mean reaches the threshold."""

    def __init__(self, reward_threshold, verbose=0):
        super().__init__(verbose)
        self.reward_threshold = reward_threshold

    def _on_step(self):
        if self.parent is None:
            raise RuntimeError("StopTrainingOnRewardThreshold must be used through EvalCallback(callback_on_new_best="
                               "...)")
        return bool(self.parent.best_mean_reward < self.reward_threshold)


class EvalCallback(BaseCallback):
    """Every ``eval_freq`` calls, runs :func:`evaluate_policy` on ``eval_env``; keeps the best model in
    ``best_model_save_path`` and the history in ``evaluations_timesteps`` / ``evaluations_results``."""

    def __init__(self, eval_env, callback_on_new_best=None, n_eval_episodes=5, eval_freq=10000,
                 best_model_save_path=None, deterministic=True, verbose=1):
        super().__init__(verbose)
        self.eval_env = eval_env if isinstance(eval_env, VecEnv) else DummyVecEnv([lambda: eval_env])
        self.callback_on_new_best = callback_on_new_best
        if callback_on_new_best is not None:
            callback_on_new_best.parent = self
        self.n_eval_episodes, self.eval_freq = n_eval_episodes, eval_freq
        self.best_model_save_path, self.deterministic = best_model_save_path, deterministic
        self.best_mean_reward = -np.inf
        self.last_mean_reward = -np.inf
        self.evaluations_timesteps, self.evaluations_results = [], []

    def _init_callback(self):
        if self.callback_on_new_best is not None:
            self.callback_on_new_best.init_callback(self.model)

    def _on_step(self):
        if self.eval_freq <= 0 or self.n_calls % self.eval_freq:
            return True
        rewards, _ = evaluate_policy(self.model, self.eval_env, self.n_eval_episodes, self.deterministic,
                                     return_episode_rewards=True)
        mean = float(np.mean(rewards))
        self.last_mean_reward = mean
        self.evaluations_timesteps.append(self.num_timesteps)
        self.evaluations_results.append(rewards)
        if self.verbose:
            print(f"Eval num_timesteps={self.num_timesteps}, episode_reward={mean:.2f} +/- {np.std(rewards):.2f}")
        if mean > self.best_mean_reward:
            self.best_mean_reward = mean
            if self.best_model_save_path is not None:
                os.makedirs(self.best_model_save_path, exist_ok=True)
                self.model.save(os.path.join(self.best_model_save_path, "best_model"))
            if self.callback_on_new_best is not None:
                return self.callback_on_new_best.on_step()
        return True


class CheckpointCallback(BaseCallback):
    """Saves the model every ``save_freq`` calls as ``<save_path>/<name_prefix>_<timesteps>_steps.zip``."""

    def __init__(self, save_freq, save_path, name_prefix="rl_model", verbose=0):
        super().__init__(verbose)
        if save_freq < 1:
            raise ValueError(f"CheckpointCallback: save_freq must be >= 1, got {save_freq}")
        self.save_freq, self.save_path, self.name_prefix = save_freq, save_path, name_prefix

    def _on_step(self):
        if self.n_calls % self.save_freq == 0:
            os.makedirs(self.save_path, exist_ok=True)
            self.model.save(os.path.join(self.save_path, f"{self.name_prefix}_{self.num_timesteps}_steps"))
        return True


def _as_callback(callback, progress_bar):
    if callback is None:
        callback = []
    if isinstance(callback, (list, tuple)):
        callback = CallbackList([c if isinstance(c, BaseCallback) else ConvertCallback(c) for c in callback])
    elif not isinstance(callback, BaseCallback):
        if not callable(callback):
            raise TypeError(f"callback must be a BaseCallback, a list of them or a function, got {callback!r}")
        callback = ConvertCallback(callback)
    if progress_bar:
        callback = CallbackList([callback, ProgressBarCallback()])
    return callback


# ---- logging --------------------------------------------------------------------------------------------------
class Logger:
    """Collects ``record(key, value)`` pairs and writes them on ``dump``: a table on stdout (``verbose``) and a row
    of ``progress.csv`` in ``folder``. Finished episodes go to ``episodes.csv``, and :meth:`plot` draws them as a
    PNG learning curve."""

    def __init__(self, folder=None, verbose=0):
        self.folder, self.verbose = folder, verbose
        self.values = {}
        self._progress_keys = None
        self.episodes = []  # (timesteps, return, length, time)
        if folder is not None:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "episodes.csv"), "w", newline="") as f:
                csv.writer(f).writerow(["timesteps", "return", "length", "time"])

    def record(self, key, value):
        self.values[key] = value

    def record_episode(self, timesteps, ret, length, t):
        self.episodes.append((int(timesteps), float(ret), int(length), float(t)))
        if self.folder is not None:
            with open(os.path.join(self.folder, "episodes.csv"), "a", newline="") as f:
                csv.writer(f).writerow([int(timesteps), float(ret), int(length), round(float(t), 3)])

    def dump(self, step):
        if not self.values:
            return
        if self.verbose:
            width = max(len(k) for k in self.values)
            lines = [f"| {k:<{width}} | {self._fmt(v):>12} |" for k, v in sorted(self.values.items())]
            bar = "-" * (width + 19)
            print("\n".join([bar] + lines + [bar]), file=sys.stdout, flush=True)
        if self.folder is not None:
            path = os.path.join(self.folder, "progress.csv")
            keys = sorted(self.values)
            if self._progress_keys is None or keys != self._progress_keys:
                self._progress_keys = sorted(set(keys) | set(self._progress_keys or []))
                rows = []
                if os.path.exists(path):
                    with open(path, newline="") as f:
                        rows = list(csv.DictReader(f))
                with open(path, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=self._progress_keys)
                    w.writeheader()
                    w.writerows(rows)
            with open(path, "a", newline="") as f:
                csv.DictWriter(f, fieldnames=self._progress_keys).writerow(self.values)
        self.values = {}

    @staticmethod
    def _fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    def plot(self, path=None, title="learning curve", window=20):
        """Write the episode returns (and their moving average over ``window`` episodes) against timesteps as a PNG;
        returns its path (``<folder>/learning_curve.png`` by default), or None when no episode finished."""
        if not self.episodes:
            return None
        if path is None:
            if self.folder is None:
                raise ValueError("Logger.plot needs a path when the logger has no folder")
            path = os.path.join(self.folder, "learning_curve.png")
        from ..core.plot import line_plot
        steps = [e[0] for e in self.episodes]
        returns = [e[1] for e in self.episodes]
        k = min(window, len(returns))
        smooth = np.convolve(returns, np.ones(k) / k, mode="valid")
        line_plot({"episode return": (steps, returns), f"mean of {k}": (steps[k - 1:], smooth)}, path, title=title,
                  xlabel="timesteps", ylabel="return")
        return path


# ---- the algorithm base class ---------------------------------------------------------------------------------
def _wrap_env(env, verbose=0, monitor_wrapper=True):
    if isinstance(env, VecEnv):
        vec = env
    else:
        gym = require_gymnasium()
        if isinstance(env, str):
            vec = make_vec_env(env, n_envs=1)
        elif isinstance(env, gym.Env):
            if monitor_wrapper and not _is_monitored(env):
                env = Monitor(env)
            vec = DummyVecEnv([lambda: env])
        else:
            raise TypeError(f"env must be a Gymnasium environment, its id, or a zoo.rl VecEnv, got {env!r}")
    space = vec.observation_space
    if is_image_space(space) and space.shape[-1] in (1, 3, 4) and space.shape[0] not in (1, 3, 4):
        vec = VecTransposeImage(vec)
    return vec


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = lr


class BaseAlgorithm:
    """The common part of PPO, A2C and DQN. Subclasses set ``policy_aliases`` and implement ``_setup_model``,
    ``learn``, ``train`` and their ``_hyperparameters`` (the names saved in the zip)."""

    policy_aliases = {}
    _hyperparameters = ()

    def __init__(self, policy, env, learning_rate, policy_kwargs=None, verbose=0, seed=None, device="auto",
                 support_multi_env=True, monitor_wrapper=True, stats_window_size=100, tensorboard_log=None,
                 log_dir=None, supported_action_spaces=None):
        if isinstance(policy, str):
            if policy not in self.policy_aliases:
                raise ValueError(f"{type(self).__name__}: unknown policy {policy!r}; known: "
                                 f"{', '.join(self.policy_aliases)}")
            self.policy_class = self.policy_aliases[policy]
        else:
            self.policy_class = policy
        self.policy_kwargs = dict(policy_kwargs or {})
        self.verbose, self.seed = verbose, seed
        self.device = _resolve_device(device)
        self.learning_rate = learning_rate
        self.lr_schedule = get_schedule_fn(learning_rate)
        self.tensorboard_log = tensorboard_log
        self.log_dir = log_dir
        self.logger = Logger(log_dir, verbose)
        self.num_timesteps, self._total_timesteps, self._num_timesteps_at_start = 0, 0, 0
        self._episode_num, self._n_updates = 0, 0
        self._current_progress_remaining = 1.0
        self._stats_window_size = stats_window_size
        self.ep_info_buffer = collections.deque(maxlen=stats_window_size)
        self._last_obs, self._last_episode_starts = None, None
        self.start_time = None
        self.env_id = None
        self.rng = np.random.default_rng(seed)
        self.env = None
        if env is not None:
            if isinstance(env, str):
                self.env_id = env
            self.env = _wrap_env(env, verbose, monitor_wrapper)
            if self.env_id is None:
                self.env_id = _env_id(self.env)
            self.observation_space = self.env.observation_space
            self.action_space = self.env.action_space
            self.n_envs = self.env.num_envs
            if not support_multi_env and self.n_envs > 1:
                raise ValueError(f"{type(self).__name__} supports one environment only, got {self.n_envs}")
            if supported_action_spaces and not isinstance(self.action_space, supported_action_spaces):
                raise ValueError(f"{type(self).__name__} does not support {type(self.action_space).__name__} "
                                 f"action spaces; it supports {', '.join(s.__name__ for s in supported_action_spaces)}")
        else:
            self.observation_space = self.action_space = None
            self.n_envs = 1

    # setup ----------------------------------------------------------------------------------------------------
    def _set_seed(self):
        if self.seed is None:
            return
        zoo.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        if self.action_space is not None:
            self.action_space.seed(self.seed)
        if self.env is not None:
            self.env.seed(self.seed)

    def set_random_seed(self, seed):
        self.seed = seed
        self._set_seed()

    def _make_policy(self):
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule,
                                        **self.policy_kwargs)
        if self.device.type != "cpu":
            self.policy.to(self.device)

    def _setup_learn(self, total_timesteps, callback, reset_num_timesteps, progress_bar):
        if not isinstance(total_timesteps, (int, np.integer)) or total_timesteps < 0:
            raise ValueError(f"total_timesteps must be a non-negative integer, got {total_timesteps!r}")
        if self.env is None:
            raise ValueError(f"{type(self).__name__} has no environment to learn in: pass env= to the constructor, "
                             "to load(), or call set_env()")
        self.start_time = time.time_ns()
        if reset_num_timesteps:
            self.num_timesteps, self._episode_num = 0, 0
        else:
            total_timesteps += self.num_timesteps
        self._total_timesteps = int(total_timesteps)
        self._num_timesteps_at_start = self.num_timesteps
        if reset_num_timesteps or self._last_obs is None:
            self._last_obs = self.env.reset()
            self._last_episode_starts = np.ones(self.env.num_envs, bool)
        callback = _as_callback(callback, progress_bar)
        callback.init_callback(self)
        return int(total_timesteps), callback

    def _update_current_progress_remaining(self, num_timesteps, total_timesteps):
        self._current_progress_remaining = 1.0 - float(num_timesteps) / float(max(total_timesteps, 1))

    def _update_learning_rate(self, optimizer):
        lr = self.lr_schedule(self._current_progress_remaining)
        self.logger.record("train/learning_rate", lr)
        _set_lr(optimizer, lr)

    def _update_info_buffer(self, infos):
        t = (time.time_ns() - self.start_time) / 1e9 if self.start_time else 0.0
        for info in infos:
            ep = info.get("episode")
            if ep is not None:
                self.ep_info_buffer.append(ep)
                self.logger.record_episode(self.num_timesteps, ep["r"], ep["l"], t)

    def _record_rollout_stats(self, iteration=None):
        elapsed = max((time.time_ns() - self.start_time) / 1e9, 1e-9)
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean", float(np.mean([e["r"] for e in self.ep_info_buffer])))
            self.logger.record("rollout/ep_len_mean", float(np.mean([e["l"] for e in self.ep_info_buffer])))
        if iteration is not None:
            self.logger.record("time/iterations", iteration)
        self.logger.record("time/fps", int((self.num_timesteps - self._num_timesteps_at_start) / elapsed))
        self.logger.record("time/time_elapsed", int(elapsed))
        self.logger.record("time/total_timesteps", self.num_timesteps)

    def _thread_limit(self):
        """While learning, small MLP policies run on one thread (BLAS and zoo's helper process off): their
        matrices are too small to gain from threads, and on a busy machine the threads' synchronisation costs many
        times the arithmetic."""
        extractor = getattr(self.policy, "features_extractor_class", None)
        if self.device.type == "cpu" and extractor is not None and extractor.__name__ == "FlattenExtractor":
            return zoo.threads.limited(1)
        return contextlib.nullcontext()

    def _finish_learn(self):
        if self.log_dir is not None:
            self.logger.dump(self.num_timesteps)
            self.logger.plot(title=f"{type(self).__name__} on {self.env_id or 'env'}")

    # environments ---------------------------------------------------------------------------------------------
    def get_env(self):
        return self.env

    def get_vec_normalize_env(self):
        return unwrap_vec_normalize(self.env)

    def set_env(self, env, force_reset=True):
        env = _wrap_env(env, self.verbose)
        if env.observation_space != self.observation_space and not _same_space(env.observation_space,
                                                                                 self.observation_space):
            raise ValueError(f"observation spaces differ: the model has {self.observation_space}, the environment "
                             f"{env.observation_space}")
        if not _same_space(env.action_space, self.action_space):
            raise ValueError(f"action spaces differ: the model has {self.action_space}, the environment "
                             f"{env.action_space}")
        self.env, self.n_envs = env, env.num_envs
        if force_reset:
            self._last_obs = None

    def get_parameters(self):
        return {"policy": self.policy.state_dict()}

    # acting ---------------------------------------------------------------------------------------------------
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """``(action, state)`` for one observation or a batch, as SB3 (``state`` is for recurrent policies)."""
        return self.policy.predict(observation, state, episode_start, deterministic, rng=self.rng)

    # saving ---------------------------------------------------------------------------------------------------
    def _data(self):
        data = {"format": "zoo.rl", "version": FORMAT_VERSION, "algorithm": type(self).__name__,
                "policy_class": self.policy_class.__name__, "policy_kwargs": self.policy.constructor_parameters(),
                "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "n_envs": self.n_envs, "env_id": self.env_id,
                "seed": self.seed, "num_timesteps": int(self.num_timesteps), "_n_updates": int(self._n_updates),
                "learning_rate": _schedule_to_json(self.lr_schedule)}
        for name in self._hyperparameters:
            value = getattr(self, name)
            if callable(value):
                value = _schedule_to_json(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        return data

    def save(self, path, exclude=None, include=None):
        """Write the model as a zip: ``data.json`` + ``policy.safetensors`` + ``policy.optimizer.safetensors``.
        A path without an extension gets ``.zip`` (as SB3)."""
        path = os.fspath(path)
        if not os.path.splitext(path)[1]:
            path += ".zip"
        data = self._data()
        for key in exclude or ():
            data.pop(key, None)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        buffers = {}
        for name, state in (("policy.safetensors", self.policy.state_dict()),
                            ("policy.optimizer.safetensors", self.policy.optimizer.state_dict())):
            buf = io.BytesIO()
            zoo.save(state, buf)
            buffers[name] = buf.getvalue()
        tmp = path + ".tmp"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data.json", json.dumps(data, indent=2))
            for name, payload in buffers.items():
                zf.writestr(name, payload)
            zf.writestr("_zoo_rl_version", str(FORMAT_VERSION))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path, env=None, device="auto", custom_objects=None, print_system_info=False, force_reset=True,
             **kwargs):
        """A model from a zip written by :meth:`save` or by Stable-Baselines3 (read without unpickling).
        ``env`` (optional) is attached for further training; ``kwargs`` override saved hyperparameters."""
        path = os.fspath(path)
        if not os.path.exists(path) and os.path.exists(path + ".zip"):
            path += ".zip"
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a zip file (zoo.rl models and SB3 models are zip files)")
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "data.json" in names:
                data = json.loads(zf.read("data.json"))
                if data.get("format") != "zoo.rl":
                    raise ValueError(f"{path}: data.json is not a zoo.rl model description")
                state = zoo.load(io.BytesIO(zf.read("policy.safetensors")))
                opt_state = (zoo.load(io.BytesIO(zf.read("policy.optimizer.safetensors")))
                             if "policy.optimizer.safetensors" in names else None)
            elif "data" in names and "policy.pth" in names:
                from .sb3_zip import read_sb3_zip
                data, state = read_sb3_zip(zf, path, cls.__name__)
                opt_state = None
            else:
                raise ValueError(f"{path}: neither a zoo.rl model (data.json) nor a Stable-Baselines3 model (data + "
                                 f"policy.pth); it holds {sorted(names)}")
        if data["algorithm"] != cls.__name__:
            raise ValueError(f"{path} holds a {data['algorithm']} model; load it with zoo.rl.{data['algorithm']}.load")
        return cls._from_data(data, state, opt_state, env, device, custom_objects or {}, force_reset, kwargs, path)

    @classmethod
    def _from_data(cls, data, state, opt_state, env, device, custom_objects, force_reset, overrides, path):
        obs_space = space_from_json(data["observation_space"])
        act_space = space_from_json(data["action_space"])
        params = {}
        for name in cls._hyperparameters:
            if name in data:
                value = data[name]
                if isinstance(value, dict) and "type" in value:
                    value = _schedule_from_json(value, name, custom_objects)
                params[name] = value
        params.update({k: v for k, v in custom_objects.items() if k in cls._hyperparameters})
        params.update(overrides)
        lr = _schedule_from_json(data.get("learning_rate", 3e-4), "learning_rate", custom_objects)
        model = cls(policy=cls._policy_from_name(data["policy_class"]), env=None, learning_rate=lr,
                    policy_kwargs=data["policy_kwargs"], device=device, seed=data.get("seed"),
                    _init_setup_model=False, **params)
        model.observation_space, model.action_space = obs_space, act_space
        model.n_envs = int(data.get("n_envs", 1))
        model.env_id = data.get("env_id")
        model.num_timesteps = int(data.get("num_timesteps", 0))
        model._n_updates = int(data.get("_n_updates", 0))
        if env is not None:
            env = _wrap_env(env, model.verbose)
            if not _same_space(env.observation_space, obs_space) or not _same_space(env.action_space, act_space):
                raise ValueError(f"the environment's spaces ({env.observation_space}, {env.action_space}) differ "
                                 f"from the model's ({obs_space}, {act_space})")
            model.env, model.n_envs = env, env.num_envs
        model._setup_model()
        _load_policy_state(model.policy, state, path)
        if opt_state is not None:
            try:
                model.policy.optimizer.load_state_dict(opt_state)
            except Exception as e:
                warnings.warn(f"{path}: the optimizer state could not be restored ({e}); it starts fresh")
        model._after_load()
        return model

    def _after_load(self):
        pass

    @classmethod
    def _policy_from_name(cls, name):
        for alias, policy in cls.policy_aliases.items():
            if policy.__name__ == name or alias == name:
                return policy
        raise ValueError(f"{cls.__name__}: unknown policy class {name!r}")


def _load_policy_state(policy, state, path):
    from ..weights.convert import load_converted, sb3_policy
    try:
        load_converted(policy, state, sb3_policy(), strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: the saved weights do not fit the policy:\n{e}") from None


def _same_space(a, b):
    spaces = require_gymnasium().spaces
    if type(a) is not type(b):
        return False
    if isinstance(a, spaces.Discrete):
        return int(a.n) == int(b.n)
    if isinstance(a, spaces.Box):
        return a.shape == b.shape
    return a == b


def _env_id(vec_env):
    try:
        spec = vec_env.get_attr("spec", 0)[0]
        return spec.id if spec is not None else None
    except Exception:
        return None


def _resolve_device(device):
    if device in ("auto", None):
        return zoo.device("cpu")  # small RL networks run fastest on the CPU; pass device="cuda" for CNNs
    return zoo.device(device) if isinstance(device, str) else device


def clip_and_step(policy, loss, max_grad_norm, params=None):
    """Backward, clip the gradient norm (when ``max_grad_norm``), optimizer step."""
    opt = policy.optimizer
    opt.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm_(params if params is not None else policy.parameters(), max_grad_norm)
    opt.step()


# ---- evaluation -----------------------------------------------------------------------------------------------
def evaluate_policy(model, env, n_eval_episodes=10, deterministic=True, render=False, callback=None,
                    reward_threshold=None, return_episode_rewards=False, warn=True):
    """Run ``n_eval_episodes`` episodes and return ``(mean_return, std_return)``, or with
    ``return_episode_rewards`` the lists ``(episode_returns, episode_lengths)`` (as SB3). Episodes are spread
    evenly over the environments of a VecEnv. When the environment is Monitor-wrapped, its episode statistics
    (the true, unwrapped returns) are used."""
    if not isinstance(n_eval_episodes, int) or n_eval_episodes < 1:
        raise ValueError(f"n_eval_episodes must be a positive integer, got {n_eval_episodes!r}")
    if not isinstance(env, VecEnv):
        gym = require_gymnasium()
        if isinstance(env, str):
            env = gym.make(env)
        if not isinstance(env, gym.Env):
            raise TypeError(f"env must be a Gymnasium environment, its id or a VecEnv, got {env!r}")
        env = DummyVecEnv([lambda: env])
    n_envs = env.num_envs
    targets = np.array([(n_eval_episodes + i) // n_envs for i in range(n_envs)], int)
    counts = np.zeros(n_envs, int)
    current_rewards, current_lengths = np.zeros(n_envs), np.zeros(n_envs, int)
    episode_rewards, episode_lengths = [], []
    observations = env.reset()
    states, episode_starts = None, np.ones(n_envs, bool)
    while (counts < targets).any():
        actions, states = model.predict(observations, state=states, episode_start=episode_starts,
                                        deterministic=deterministic)
        observations, rewards, dones, infos = env.step(actions)
        current_rewards += rewards
        current_lengths += 1
        for i in range(n_envs):
            if counts[i] >= targets[i]:
                continue
            episode_starts[i] = dones[i]
            if callback is not None:
                callback(locals(), globals())
            if dones[i]:
                ep = infos[i].get("episode")
                if ep is not None:
                    episode_rewards.append(float(ep["r"]))
                    episode_lengths.append(int(ep["l"]))
                else:
                    episode_rewards.append(float(current_rewards[i]))
                    episode_lengths.append(int(current_lengths[i]))
                counts[i] += 1
                current_rewards[i], current_lengths[i] = 0, 0
        if render:
            env.render()
    mean, std = float(np.mean(episode_rewards)), float(np.std(episode_rewards))
    if reward_threshold is not None and mean < reward_threshold:
        raise AssertionError(f"mean reward {mean:.2f} is below the threshold {reward_threshold:.2f}")
    if return_episode_rewards:
        return episode_rewards, episode_lengths
    return mean, std
