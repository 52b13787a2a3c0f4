"""The spoken-digit recipe (examples/train_spoken_digits.py) runs end to end on a tiny FSDD-layout folder."""
import importlib.util
import json
import os
import pathlib

import numpy as np
import pytest

import zoo

pytest.importorskip("soundfile")
ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_recipe():
    spec = importlib.util.spec_from_file_location("train_spoken_digits", ROOT / "examples" / "train_spoken_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_trains_saves_and_records(tmp_path):
    rec = tmp_path / "data" / "recordings"
    os.makedirs(rec)
    rng = np.random.default_rng(0)
    for d in range(10):
        for i in (0, 5, 6):  # index 0: test split; 5, 6: train split
            t = np.arange(2000) / 8000
            x = 0.3 * np.sin(2 * np.pi * (200 + 150 * d) * t) + 0.01 * rng.standard_normal(2000)
            zoo.audio.save(rec / f"{d}_alice_{i}.wav", x.astype(np.float32), 8000)
    out = tmp_path / "model"
    acc = load_recipe().main(["--data", str(tmp_path / "data"), "--epochs", "2", "--batch-size", "8",
                              "--channels", "4,8", "--out", str(out), "--log-dir", str(tmp_path / "logs")])
    assert 0.0 <= acc <= 1.0
    record = json.loads((out / "record.json").read_text())
    assert record["seed"] == 0 and record["metric"]["accuracy"] == round(acc, 4)
    assert record["command"].startswith("python examples/train_spoken_digits.py --data")
    assert (tmp_path / "logs" / "metrics.csv").is_file() and (tmp_path / "logs" / "curves.png").is_file()
    model = zoo.from_pretrained(out)
    assert model.config.id2label[3] == "3" and model.config.channels == [4, 8]
