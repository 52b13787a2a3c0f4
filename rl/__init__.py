"""zoo.rl: reinforcement learning with Stable-Baselines3's API on zoo tensors and Gymnasium environments.

    import zoo.rl as rl
    env = rl.make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = rl.PPO("MlpPolicy", env, seed=0).learn(100_000)
    mean, std = rl.evaluate_policy(model, "CartPole-v1", n_eval_episodes=20)
    model.save("ppo_cartpole")            # zip: data.json + safetensors, never pickle
    model = rl.PPO.load("ppo_cartpole")   # also reads Stable-Baselines3 zip files

Everything is imported on first access, so ``import zoo.rl`` does not import Gymnasium (the ``rl`` extra).
"""
import importlib

_EXPORTS = {
    "PPO": "ppo", "A2C": "a2c", "DQN": "dqn",
    "make_vec_env": "envs", "make_atari_env": "envs", "DummyVecEnv": "envs", "SubprocVecEnv": "envs",
    "VecEnv": "envs", "VecEnvWrapper": "envs", "VecNormalize": "envs", "VecFrameStack": "envs",
    "VecTransposeImage": "envs", "Monitor": "envs", "AtariWrapper": "envs",
    "RolloutBuffer": "buffers", "ReplayBuffer": "buffers",
    "ActorCriticPolicy": "policies", "ActorCriticCnnPolicy": "policies", "DQNPolicy": "policies",
    "CnnDQNPolicy": "policies", "NatureCNN": "policies", "FlattenExtractor": "policies", "MlpExtractor": "policies",
    "CategoricalDistribution": "distributions", "DiagGaussianDistribution": "distributions",
    "evaluate_policy": "common", "BaseAlgorithm": "common", "BaseCallback": "common", "CallbackList": "common",
    "EvalCallback": "common", "CheckpointCallback": "common", "StopTrainingOnRewardThreshold": "common",
    "ProgressBarCallback": "common", "ConstantSchedule": "common", "LinearSchedule": "common",
    "linear_schedule": "common", "get_schedule_fn": "common", "get_linear_fn": "common",
    "ReinforcementLearningPipeline": "pipelines", "load_agent": "pipelines",
}
_SUBMODULES = {"envs", "buffers", "policies", "distributions", "common", "on_policy", "ppo", "a2c", "dqn", "sb3_zip",
               "pipelines", "pretrained"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'zoo.rl' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
