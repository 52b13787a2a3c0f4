"""Environments: Gymnasium environments behind Stable-Baselines3's vectorised-environment API.

* :class:`Monitor` records every episode's return, length and time (``info["episode"]``, optionally a CSV file);
* :class:`DummyVecEnv` (in-process) and :class:`SubprocVecEnv` (one process per environment) step ``n`` copies of
  an environment in lockstep and reset finished ones automatically, as SB3 does: ``step`` returns
  ``(obs, rewards, dones, infos)``, the last observation of a finished episode is in
  ``infos[i]["terminal_observation"]`` and a time-limit cut in ``infos[i]["TimeLimit.truncated"]``;
* wrappers: :class:`VecNormalize` (running observation / discounted-return normalisation, saved as JSON),
  :class:`VecFrameStack`, :class:`VecTransposeImage` (channels-last images to channels-first);
* :func:`make_vec_env` and :func:`make_atari_env` build them from an environment id as SB3 does.

Gymnasium is the ``rl`` extra (``pip install zoo[rl]``); this module needs it, and ``zoo.rl`` imports this module
on first use only.
"""
import csv
import json
import multiprocessing as mp
import os
import time
from collections import OrderedDict

import numpy as np

__all__ = ["require_gymnasium", "Monitor", "VecEnv", "DummyVecEnv", "SubprocVecEnv", "VecEnvWrapper", "VecNormalize",
           "VecFrameStack", "VecTransposeImage", "RunningMeanStd", "make_vec_env", "make_atari_env", "AtariWrapper",
           "is_image_space", "unwrap_vec_normalize"]


def require_gymnasium():
    """The ``gymnasium`` module, or an ImportError telling how to install it."""
    try:
        import gymnasium
    except ImportError as e:
        raise ImportError("zoo.rl needs Gymnasium: pip install 'zoo[rl]' (or pip install 'gymnasium>=1.0')") from e
    return gymnasium


gym = require_gymnasium()  # zoo.rl imports this module on first use only, so `import zoo` never needs gymnasium


def is_image_space(space):
    """True for channel-first or channel-last uint8 image boxes with values in [0, 255] (as SB3)."""
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 3 or space.dtype != np.uint8:
        return False
    return bool(np.all(space.low == 0) and np.all(space.high == 255))


def _is_channels_first(space):
    """Images: the smallest dimension is the channel one (as SB3 decides)."""
    return int(np.argmin(space.shape)) == 0


# ---- Monitor --------------------------------------------------------------------------------------------------
class Monitor(gym.Wrapper):
    """Records each episode's return ``r``, length ``l`` and wall time ``t`` (seconds since the monitor was
    made) in ``info["episode"]`` when it ends, and as a row of ``filename`` (``<name>.monitor.csv``) if given."""

    def __init__(self, env, filename=None, allow_early_resets=True, info_keywords=()):
        super().__init__(env)
        self.t_start = time.time()
        self.info_keywords = tuple(info_keywords)
        self.allow_early_resets = allow_early_resets
        self.rewards, self.needs_reset = [], True
        self.episode_returns, self.episode_lengths, self.episode_times = [], [], []
        self.total_steps = 0
        self._file = self._writer = None
        if filename is not None:
            if os.path.isdir(filename):
                filename = os.path.join(filename, "monitor.csv")
            elif not filename.endswith("monitor.csv"):
                filename = filename + ".monitor.csv"
            self._file = open(filename, "w", newline="")
            self._file.write("#" + json.dumps({"t_start": self.t_start,
                                               "env_id": getattr(env.spec, "id", None)}) + "\n")
            self._writer = csv.DictWriter(self._file, fieldnames=("r", "l", "t") + self.info_keywords)
            self._writer.writeheader()
            self._file.flush()

    def reset(self, **kwargs):
        if not self.allow_early_resets and not self.needs_reset:
            raise RuntimeError("Monitor: tried to reset an environment before its episode ended; pass "
                               "allow_early_resets=True to allow it")
        self.rewards, self.needs_reset = [], False
        return self.env.reset(**kwargs)

    def step(self, action):
        if self.needs_reset:
            raise RuntimeError("Monitor: step() called after the episode ended; call reset() first")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.rewards.append(float(reward))
        self.total_steps += 1
        if terminated or truncated:
            self.needs_reset = True
            ep = {"r": round(sum(self.rewards), 6), "l": len(self.rewards),
                  "t": round(time.time() - self.t_start, 6)}
            for key in self.info_keywords:
                ep[key] = info[key]
            self.episode_returns.append(ep["r"])
            self.episode_lengths.append(ep["l"])
            self.episode_times.append(ep["t"])
            if self._writer is not None:
                self._writer.writerow(ep)
                self._file.flush()
            info = dict(info)
            info["episode"] = ep
        return obs, reward, terminated, truncated, info

    def close(self):
        super().close()
        if self._file is not None:
            self._file.close()
            self._file = None

    def get_episode_rewards(self):
        return list(self.episode_returns)

    def get_episode_lengths(self):
        return list(self.episode_lengths)

    def get_total_steps(self):
        return self.total_steps


def _is_monitored(env):
    while env is not None:
        if isinstance(env, Monitor):
            return True
        env = getattr(env, "env", None)
    return False


# ---- vectorised environments ----------------------------------------------------------------------------------
def _flatten_obs(obs_list, space):
    if isinstance(space, gym.spaces.Dict):
        return OrderedDict((k, np.stack([o[k] for o in obs_list])) for k in space.spaces)
    return np.stack(obs_list)


class VecEnv:
    """``num_envs`` environments stepped together (SB3's VecEnv API)."""

    def __init__(self, num_envs, observation_space, action_space):
        self.num_envs = num_envs
        self.observation_space = observation_space
        self.action_space = action_space
        self._seeds = [None] * num_envs
        self._options = [{} for _ in range(num_envs)]
        self.render_mode = None

    def reset(self):
        raise NotImplementedError

    def step_async(self, actions):
        raise NotImplementedError

    def step_wait(self):
        raise NotImplementedError

    def step(self, actions):
        """Step every environment; returns ``(obs, rewards, dones, infos)``; finished episodes restart."""
        self.step_async(actions)
        return self.step_wait()

    def seed(self, seed=None):
        """Seed the next reset: environment ``i`` gets ``seed + i`` (the action spaces too)."""
        if seed is None:
            seed = int(np.random.randint(0, 2 ** 31 - 1))
        self._seeds = [seed + i for i in range(self.num_envs)]
        self.action_space.seed(seed)
        return list(self._seeds)

    def set_options(self, options=None):
        options = {} if options is None else options
        self._options = [dict(options) for _ in range(self.num_envs)] if isinstance(options, dict) else list(options)

    def _reset_seeds(self):
        self._seeds = [None] * self.num_envs

    @property
    def unwrapped(self):
        return self

    def close(self):
        pass

    def __len__(self):
        return self.num_envs

    def _check_actions(self, actions):
        actions = np.asarray(actions)
        if actions.shape[:1] != (self.num_envs,):
            raise ValueError(f"{type(self).__name__}.step expects one action per environment ({self.num_envs}), got "
                             f"an array of shape {actions.shape}")
        return actions


class DummyVecEnv(VecEnv):
    """The environments made by ``env_fns`` run one after the other in this process."""

    def __init__(self, env_fns):
        if not env_fns:
            raise ValueError("DummyVecEnv needs at least one environment factory")
        self.envs = [fn() for fn in env_fns]
        if len({id(e) for e in self.envs}) != len(self.envs):
            raise ValueError("DummyVecEnv: the factories returned the same environment object several times; each "
                             "must make a new one (e.g. lambda: gymnasium.make(...))")
        env = self.envs[0]
        super().__init__(len(self.envs), env.observation_space, env.action_space)
        self.render_mode = getattr(env, "render_mode", None)
        self._actions = None

    def reset(self):
        obs = []
        for i, env in enumerate(self.envs):
            o, _ = env.reset(seed=self._seeds[i], **({"options": self._options[i]} if self._options[i] else {}))
            obs.append(o)
        self._reset_seeds()
        return _flatten_obs(obs, self.observation_space)

    def step_async(self, actions):
        self._actions = self._check_actions(actions)

    def step_wait(self):
        n = self.num_envs
        obs, rewards, dones, infos = [None] * n, np.zeros(n, np.float32), np.zeros(n, bool), [None] * n
        for i, env in enumerate(self.envs):
            o, r, terminated, truncated, info = env.step(self._actions[i])
            done = terminated or truncated
            if done:
                info = dict(info)
                info["TimeLimit.truncated"] = bool(truncated and not terminated)
                info["terminal_observation"] = o
                o, reset_info = env.reset()
            obs[i], rewards[i], dones[i], infos[i] = o, r, done, info
        return _flatten_obs(obs, self.observation_space), rewards, dones, infos

    def render(self):
        return [env.render() for env in self.envs]

    def close(self):
        for env in self.envs:
            env.close()

    def get_attr(self, name, indices=None):
        return [getattr(self.envs[i], name) for i in self._indices(indices)]

    def set_attr(self, name, value, indices=None):
        for i in self._indices(indices):
            setattr(self.envs[i], name, value)

    def env_method(self, method, *args, indices=None, **kwargs):
        return [getattr(self.envs[i], method)(*args, **kwargs) for i in self._indices(indices)]

    def _indices(self, indices):
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices


def _worker(remote, parent_remote, env_fn):
    parent_remote.close()
    env = env_fn()
    try:
        while True:
            cmd, data = remote.recv()
            if cmd == "step":
                o, r, terminated, truncated, info = env.step(data)
                done = terminated or truncated
                if done:
                    info = dict(info)
                    info["TimeLimit.truncated"] = bool(truncated and not terminated)
                    info["terminal_observation"] = o
                    o, _ = env.reset()
                remote.send((o, r, done, info))
            elif cmd == "reset":
                seed, options = data
                o, _ = env.reset(seed=seed, **({"options": options} if options else {}))
                remote.send(o)
            elif cmd == "spaces":
                remote.send((env.observation_space, env.action_space, getattr(env, "render_mode", None)))
            elif cmd == "render":
                remote.send(env.render())
            elif cmd == "get_attr":
                remote.send(getattr(env, data))
            elif cmd == "set_attr":
                setattr(env, data[0], data[1])
                remote.send(None)
            elif cmd == "env_method":
                name, args, kwargs = data
                remote.send(getattr(env, name)(*args, **kwargs))
            elif cmd == "close":
                env.close()
                remote.close()
                break
            else:
                raise ValueError(f"SubprocVecEnv worker: unknown command {cmd!r}")
    except (KeyboardInterrupt, EOFError):
        pass


class SubprocVecEnv(VecEnv):
    """Each environment runs in its own process (worth it when an environment step is expensive).

    ``start_method`` defaults to ``"fork"`` where available (the factories need not be picklable), else
    ``"spawn"`` (they must be)."""

    def __init__(self, env_fns, start_method=None):
        if not env_fns:
            raise ValueError("SubprocVecEnv needs at least one environment factory")
        if start_method is None:
            start_method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(start_method)
        self.remotes, work_remotes = zip(*[ctx.Pipe() for _ in env_fns])
        self.processes = []
        for work_remote, remote, fn in zip(work_remotes, self.remotes, env_fns):
            p = ctx.Process(target=_worker, args=(work_remote, remote, fn), daemon=True)
            p.start()
            self.processes.append(p)
            work_remote.close()
        self.remotes[0].send(("spaces", None))
        obs_space, act_space, self.render_mode = self.remotes[0].recv()
        super().__init__(len(env_fns), obs_space, act_space)
        self.closed = False
        self.waiting = False

    def reset(self):
        for i, remote in enumerate(self.remotes):
            remote.send(("reset", (self._seeds[i], self._options[i])))
        obs = [remote.recv() for remote in self.remotes]
        self._reset_seeds()
        return _flatten_obs(obs, self.observation_space)

    def step_async(self, actions):
        actions = self._check_actions(actions)
        for remote, action in zip(self.remotes, actions):
            remote.send(("step", action))
        self.waiting = True

    def step_wait(self):
        results = [remote.recv() for remote in self.remotes]
        self.waiting = False
        obs, rewards, dones, infos = zip(*results)
        return (_flatten_obs(list(obs), self.observation_space), np.asarray(rewards, np.float32),
                np.asarray(dones, bool), list(infos))

    def render(self):
        for remote in self.remotes:
            remote.send(("render", None))
        return [remote.recv() for remote in self.remotes]

    def get_attr(self, name, indices=None):
        remotes = self._remotes(indices)
        for remote in remotes:
            remote.send(("get_attr", name))
        return [remote.recv() for remote in remotes]

    def set_attr(self, name, value, indices=None):
        remotes = self._remotes(indices)
        for remote in remotes:
            remote.send(("set_attr", (name, value)))
        for remote in remotes:
            remote.recv()

    def env_method(self, method, *args, indices=None, **kwargs):
        remotes = self._remotes(indices)
        for remote in remotes:
            remote.send(("env_method", (method, args, kwargs)))
        return [remote.recv() for remote in remotes]

    def _remotes(self, indices):
        if indices is None:
            return list(self.remotes)
        return [self.remotes[i] for i in ([indices] if isinstance(indices, int) else indices)]

    def close(self):
        if self.closed:
            return
        if self.waiting:
            for remote in self.remotes:
                remote.recv()
        for remote in self.remotes:
            remote.send(("close", None))
        for p in self.processes:
            p.join(timeout=5)
        self.closed = True

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---- wrappers -------------------------------------------------------------------------------------------------
class VecEnvWrapper(VecEnv):
    """A VecEnv around another one; attributes it does not have are looked up on the wrapped one."""

    def __init__(self, venv, observation_space=None, action_space=None):
        if not isinstance(venv, VecEnv):
            raise TypeError(f"{type(self).__name__} wraps a VecEnv (DummyVecEnv, SubprocVecEnv ...), got "
                            f"{type(venv).__name__}; make one with zoo.rl.make_vec_env")
        self.venv = venv
        super().__init__(venv.num_envs, observation_space or venv.observation_space,
                         action_space or venv.action_space)
        self.render_mode = venv.render_mode

    def step_async(self, actions):
        self.venv.step_async(actions)

    def seed(self, seed=None):
        return self.venv.seed(seed)

    def set_options(self, options=None):
        self.venv.set_options(options)

    def render(self):
        return self.venv.render()

    def close(self):
        self.venv.close()

    def get_attr(self, name, indices=None):
        return self.venv.get_attr(name, indices)

    def set_attr(self, name, value, indices=None):
        self.venv.set_attr(name, value, indices)

    def env_method(self, method, *args, indices=None, **kwargs):
        return self.venv.env_method(method, *args, indices=indices, **kwargs)

    @property
    def unwrapped(self):
        return self.venv.unwrapped

    def __getattr__(self, name):
        if name.startswith("_") or name == "venv":
            raise AttributeError(name)
        return getattr(self.venv, name)


class RunningMeanStd:
    """Running mean and variance of a stream of batches (parallel algorithm of Chan et al.)."""

    def __init__(self, shape=(), epsilon=1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = epsilon

    def update(self, batch):
        batch = np.asarray(batch, np.float64)
        b_mean, b_var, b_count = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta ** 2 * self.count * b_count / total
        self.var = m2 / total
        self.count = total

    def to_dict(self):
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": float(self.count)}

    @classmethod
    def from_dict(cls, d):
        rms = cls(np.shape(d["mean"]))
        rms.mean, rms.var, rms.count = np.asarray(d["mean"], np.float64), np.asarray(d["var"], np.float64), d["count"]
        return rms


class VecNormalize(VecEnvWrapper):
    """Normalises observations by a running mean / std and rewards by the running std of the discounted return
    (SB3's VecNormalize). ``training=False`` freezes the statistics (evaluation). :meth:`save` / :meth:`load`
    keep them in a JSON file."""

    def __init__(self, venv, training=True, norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0,
                 gamma=0.99, epsilon=1e-8):
        super().__init__(venv)
        if norm_obs and not isinstance(self.observation_space, gym.spaces.Box):
            raise NotImplementedError(f"VecNormalize normalises Box observations only, not "
                                      f"{type(self.observation_space).__name__}")
        self.obs_rms = RunningMeanStd(self.observation_space.shape) if norm_obs else None
        self.ret_rms = RunningMeanStd(())
        self.training, self.norm_obs, self.norm_reward = training, norm_obs, norm_reward
        self.clip_obs, self.clip_reward, self.gamma, self.epsilon = clip_obs, clip_reward, gamma, epsilon
        self.returns = np.zeros(self.num_envs)
        self.old_obs = self.old_reward = None

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.old_obs, self.old_reward = obs, rewards
        if self.training and self.norm_obs:
            self.obs_rms.update(obs)
        for i, done in enumerate(dones):
            if done and "terminal_observation" in infos[i]:
                infos[i]["terminal_observation"] = self.normalize_obs(infos[i]["terminal_observation"])
        obs = self.normalize_obs(obs)
        if self.training:
            self.returns = self.returns * self.gamma + rewards
            self.ret_rms.update(self.returns)
        rewards = self.normalize_reward(rewards)
        self.returns[dones] = 0
        return obs, rewards, dones, infos

    def reset(self):
        obs = self.venv.reset()
        self.old_obs = obs
        self.returns = np.zeros(self.num_envs)
        if self.training and self.norm_obs:
            self.obs_rms.update(obs)
        return self.normalize_obs(obs)

    def normalize_obs(self, obs):
        if not self.norm_obs:
            return obs
        out = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon)
        return np.clip(out, -self.clip_obs, self.clip_obs).astype(np.float32)

    def normalize_reward(self, reward):
        if not self.norm_reward:
            return reward
        return np.clip(reward / np.sqrt(self.ret_rms.var + self.epsilon), -self.clip_reward,
                       self.clip_reward).astype(np.float32)

    def get_original_obs(self):
        return self.old_obs

    def get_original_reward(self):
        return self.old_reward

    def state_dict(self):
        return {"norm_obs": self.norm_obs, "norm_reward": self.norm_reward, "clip_obs": self.clip_obs,
                "clip_reward": self.clip_reward, "gamma": self.gamma, "epsilon": self.epsilon,
                "obs_rms": self.obs_rms.to_dict() if self.obs_rms is not None else None,
                "ret_rms": self.ret_rms.to_dict()}

    def load_state_dict(self, state):
        self.norm_obs, self.norm_reward = state["norm_obs"], state["norm_reward"]
        self.clip_obs, self.clip_reward = state["clip_obs"], state["clip_reward"]
        self.gamma, self.epsilon = state["gamma"], state["epsilon"]
        self.obs_rms = RunningMeanStd.from_dict(state["obs_rms"]) if state["obs_rms"] is not None else None
        if self.obs_rms is not None and self.obs_rms.mean.shape != self.observation_space.shape:
            raise ValueError(f"VecNormalize statistics are for observations of shape {self.obs_rms.mean.shape}, "
                             f"the environment has {self.observation_space.shape}")
        self.ret_rms = RunningMeanStd.from_dict(state["ret_rms"])

    def save(self, path):
        """Write the statistics and settings as JSON (zoo never pickles)."""
        with open(path, "w") as f:
            json.dump({"format": "zoo.rl.VecNormalize", "version": 1, **self.state_dict()}, f)

    @classmethod
    def load(cls, path, venv):
        """A VecNormalize around ``venv`` with the statistics :meth:`save` wrote."""
        with open(path) as f:
            state = json.load(f)
        if state.get("format") != "zoo.rl.VecNormalize":
            raise ValueError(f"{path} is not a zoo VecNormalize file (SB3's pickled vec_normalize.pkl cannot be "
                             "read: zoo never unpickles)")
        vn = cls(venv, norm_obs=state["norm_obs"], norm_reward=state["norm_reward"])
        vn.load_state_dict(state)
        return vn


class VecFrameStack(VecEnvWrapper):
    """Stacks the last ``n_stack`` observations along the channel axis (last, or first with
    ``channels_order="first"``); a new episode starts from zeros."""

    def __init__(self, venv, n_stack, channels_order=None):
        space = venv.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise NotImplementedError("VecFrameStack stacks Box observations only")
        if n_stack < 1:
            raise ValueError(f"VecFrameStack: n_stack must be >= 1, got {n_stack}")
        if channels_order is None:
            channels_order = "first" if (len(space.shape) == 3 and _is_channels_first(space)) else "last"
        if channels_order not in ("first", "last"):
            raise ValueError(f"channels_order must be 'first' or 'last', got {channels_order!r}")
        self.n_stack, self.axis = n_stack, 0 if channels_order == "first" else -1
        low = np.repeat(space.low, n_stack, axis=self.axis)
        high = np.repeat(space.high, n_stack, axis=self.axis)
        super().__init__(venv, observation_space=gym.spaces.Box(low=low, high=high, dtype=space.dtype))
        self.stacked = np.zeros((venv.num_envs,) + self.observation_space.shape, space.dtype)
        self.shift = space.shape[self.axis]

    def _push(self, obs):
        if self.axis == 0:
            self.stacked = np.roll(self.stacked, -self.shift, axis=1)
            self.stacked[:, -self.shift:] = obs
        else:
            self.stacked = np.roll(self.stacked, -self.shift, axis=-1)
            self.stacked[..., -self.shift:] = obs

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        for i, done in enumerate(dones):
            if done:
                if "terminal_observation" in infos[i]:
                    old = self.stacked[i].copy()
                    old = np.roll(old, -self.shift, axis=self.axis)
                    if self.axis == 0:
                        old[-self.shift:] = infos[i]["terminal_observation"]
                    else:
                        old[..., -self.shift:] = infos[i]["terminal_observation"]
                    infos[i]["terminal_observation"] = old
                self.stacked[i] = 0
        self._push(obs)
        return self.stacked.copy(), rewards, dones, infos

    def reset(self):
        obs = self.venv.reset()
        self.stacked[...] = 0
        self._push(obs)
        return self.stacked.copy()


class VecTransposeImage(VecEnvWrapper):
    """Channels-last image observations (H, W, C) to channels-first (C, H, W), as the CNN policies expect."""

    def __init__(self, venv):
        space = venv.observation_space
        if not is_image_space(space):
            raise ValueError(f"VecTransposeImage needs a uint8 image observation space, got {space}")
        h, w, c = space.shape
        super().__init__(venv, observation_space=gym.spaces.Box(0, 255, (c, h, w), np.uint8))

    @staticmethod
    def transpose_image(obs):
        return np.transpose(obs, (2, 0, 1)) if obs.ndim == 3 else np.transpose(obs, (0, 3, 1, 2))

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        for i, done in enumerate(dones):
            if done and "terminal_observation" in infos[i]:
                infos[i]["terminal_observation"] = self.transpose_image(infos[i]["terminal_observation"])
        return self.transpose_image(obs), rewards, dones, infos

    def reset(self):
        return self.transpose_image(self.venv.reset())


def unwrap_vec_normalize(env):
    """The VecNormalize inside a stack of VecEnv wrappers, or None."""
    while isinstance(env, VecEnvWrapper):
        if isinstance(env, VecNormalize):
            return env
        env = env.venv
    return None


# ---- builders -------------------------------------------------------------------------------------------------
def _make_env(env_id, env_kwargs):
    if isinstance(env_id, str):
        return gym.make(env_id, **(env_kwargs or {}))
    if callable(env_id):
        return env_id(**(env_kwargs or {}))
    raise TypeError(f"expected an environment id (str) or a callable making an environment, got {env_id!r}")


def make_vec_env(env_id, n_envs=1, seed=None, start_index=0, monitor_dir=None, wrapper_class=None, env_kwargs=None,
                 vec_env_cls=None, vec_env_kwargs=None, monitor_kwargs=None, wrapper_kwargs=None):
    """``n_envs`` Monitor-wrapped copies of ``env_id`` (an id or a factory) in a VecEnv, seeded ``seed + i``
    (as ``stable_baselines3.common.env_util.make_vec_env``)."""
    if not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"make_vec_env: n_envs must be a positive integer, got {n_envs!r}")
    if isinstance(env_id, str):
        require_gymnasium().spec(env_id)  # an unknown id fails here, naming it
    vec_env_cls = vec_env_cls or DummyVecEnv

    def make(rank):
        def _init():
            env = _make_env(env_id, env_kwargs)
            if seed is not None:
                env.action_space.seed(seed + rank)
            path = os.path.join(monitor_dir, str(rank)) if monitor_dir is not None else None
            if monitor_dir is not None:
                os.makedirs(monitor_dir, exist_ok=True)
            env = Monitor(env, filename=path, **(monitor_kwargs or {}))
            if wrapper_class is not None:
                env = wrapper_class(env, **(wrapper_kwargs or {}))
            return env
        return _init

    vec_env = vec_env_cls([make(i + start_index) for i in range(n_envs)], **(vec_env_kwargs or {}))
    if seed is not None:
        vec_env.seed(seed)
    return vec_env


def AtariWrapper(env, noop_max=30, frame_skip=4, screen_size=84, terminal_on_life_loss=True, clip_reward=True):  # noqa: N802
    """Atari preprocessing (ale-py): no-op starts, frame skip with max-pooling, 84x84 grey frames, episode end on
    life loss, rewards clipped to their sign. The environment must be made with ``frameskip=1``."""
    env = gym.wrappers.AtariPreprocessing(env, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size,
                                          terminal_on_life_loss=terminal_on_life_loss, grayscale_obs=True,
                                          grayscale_newaxis=True, scale_obs=False)
    if clip_reward:
        env = gym.wrappers.TransformReward(env, lambda r: float(np.sign(r)))
    return env


def make_atari_env(env_id, n_envs=1, seed=None, frame_stack=4, wrapper_kwargs=None, vec_env_cls=None,
                   monitor_dir=None):
    """Vectorised Atari environments with :func:`AtariWrapper` and ``frame_stack`` stacked frames (channels-last;
    the CNN policies transpose them). Needs ``ale-py`` (``pip install ale-py``)."""
    try:
        import ale_py
    except ImportError as e:
        raise ImportError("Atari environments need ale-py: pip install ale-py") from e
    gym.register_envs(ale_py)

    def factory(**kwargs):
        return gym.make(env_id, frameskip=1, **kwargs)

    venv = make_vec_env(factory, n_envs=n_envs, seed=seed, monitor_dir=monitor_dir, wrapper_class=AtariWrapper,
                        wrapper_kwargs=wrapper_kwargs, vec_env_cls=vec_env_cls)
    return VecFrameStack(venv, frame_stack) if frame_stack else venv
