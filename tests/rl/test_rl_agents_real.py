"""Real tier: the agents zoo ships (weights/store/<agent>/) reach their thresholds, and their records match."""
import json
import pathlib

import numpy as np
import pytest

pytest.importorskip("gymnasium")

import zoo  # noqa: E402
from zoo.rl.pretrained import AGENTS  # noqa: E402
from zoo.weights.registry import get_entry  # noqa: E402
from zoo.weights.sources import resolve  # noqa: E402


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_shipped_agent_entry_and_record(name):
    entry = get_entry(name)
    algorithm, env_id, files, threshold = AGENTS[name]
    assert entry.task == "reinforcement-learning" and entry.architecture == algorithm
    assert entry.recipe == "examples/train_rl_agents.py"
    folder = pathlib.Path(resolve(entry, "agent.zip")).parent
    record = json.loads((folder / "record.json").read_text())
    assert record == {"data": entry.record.data, "command": entry.record.command, "seed": entry.record.seed,
                      "metric": dict(entry.record.metric)}
    info = json.loads((folder / "train_info.json").read_text())
    assert info["files"] == {f: spec.sha256 for f, spec in entry.files.items()}
    assert info["algorithm"] == algorithm and info["env_id"] == env_id
    assert record["metric"]["mean_return"] >= threshold and record["metric"]["n_eval_episodes"] == 20


@pytest.mark.real
@pytest.mark.parametrize("name", sorted(AGENTS))
def test_shipped_agent_reaches_its_threshold(name):
    _, env_id, _, threshold = AGENTS[name]
    agent = zoo.pipeline("reinforcement-learning", model=name)
    episodes = agent.play(env_id, episodes=20, seed=2000)
    returns = [e["return"] for e in episodes]
    assert np.mean(returns) >= threshold, returns


def test_default_agent_acts():
    agent = zoo.pipeline("reinforcement-learning")
    assert agent.model.env_id == "CartPole-v1"
    assert agent(np.zeros(4, np.float32)) in (0, 1)
