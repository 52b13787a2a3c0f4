"""zoo.rl's registrations (the provider module ``zoo.weights`` imports on the first registry lookup).

* the ``reinforcement-learning`` pipeline task (default agent: ``ppo-cartpole-v1``, shipped, runs offline);
* weights entries for the agents this project trains and ships in the project store
  (``weights/store/<agent>/agent.zip``, plus ``vecnormalize.json`` for agents trained on normalised
  observations), each with its recipe (``examples/train_rl_agents.py``) and the record of its run (read from the
  store's ``record.json``: data, command, seed, mean / std return over 20 deterministic episodes).

Nothing heavy is imported here (no gymnasium).
"""
import importlib.resources
import json

from ..pipelines.registry import register_task
from ..weights.registry import Record, WeightsEntry, register
from ..weights.sources import Store

__all__ = ["AGENTS"]

RECIPE = "examples/train_rl_agents.py"

# agent name -> (algorithm, environment, {file: sha256}, threshold the recipe must reach)
AGENTS = {
    "ppo-cartpole-v1": ("PPO", "CartPole-v1",
                        {"agent.zip": "52a5999797db27d6eb37f737299aa09d2c2277fb559a73e6e4927afaa7eaf2d4"}, 475.0),
    "dqn-cartpole-v1": ("DQN", "CartPole-v1",
                        {"agent.zip": "2d9d25c7157756ae294eb8f6ecac8f7240dcfb6786523abb846959e1b8ca4f3f"}, 475.0),
    "ppo-acrobot-v1": ("PPO", "Acrobot-v1",
                       {"agent.zip": "67c06e70e1aa733b1732f403a70025e3e1d276dacf3ee3ff4d489ba955d00270",
                        "vecnormalize.json": "44115ace9c7fc7efdf0b3b33b57e168ab3607c7e068deb47a374312b9093e75c"},
                       -100.0),
    "ppo-pendulum-v1": ("PPO", "Pendulum-v1",
                        {"agent.zip": "d4189607a34d1a9f7d0d37a4ad8f0c859326a55c265497398b67b596997b05f7"}, -250.0),
}


def _record(name):
    text = importlib.resources.files("zoo.weights").joinpath("store", name, "record.json").read_text("utf-8")
    return json.loads(text)


def _entry(name, algorithm, env_id, files, threshold):
    rec = _record(name)
    metric = rec["metric"]
    return WeightsEntry(
        name=name, architecture=algorithm, task="reinforcement-learning", files=files, sources=[Store()],
        metrics={f"{env_id}/mean_return": metric["mean_return"], f"{env_id}/std_return": metric["std_return"],
                 "threshold": threshold},
        license="Apache-2.0", recipe=RECIPE,
        record=Record(data=rec["data"], command=rec["command"], seed=rec["seed"], metric=metric))


for _name, (_algo, _env, _files, _threshold) in AGENTS.items():
    register(_entry(_name, _algo, _env, _files, _threshold))

register_task("reinforcement-learning", "zoo.rl.pipelines:ReinforcementLearningPipeline",
              default_model="ppo-cartpole-v1", aliases=["rl-agent"])
