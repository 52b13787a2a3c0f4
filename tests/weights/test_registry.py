"""zoo.weights registry: entries, registration, lookups, lazy provider modules, transforms / labels / records."""
import dataclasses
import importlib
import os
import pathlib
import subprocess
import sys
import uuid

import numpy as np
import pytest

import zoo
from zoo.weights import (FileSpec, Hub, Package, Record, Store, UnknownWeightsError, WeightsEntry, add_provider,
                         get_entry, list_entries, register, unregister)
from zoo.weights import providers, registry

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef" * 4
RECORD = {"data": "synthetic blobs, seed 0", "command": "python examples/train.py --seed 0", "seed": 0,
          "metric": {"accuracy": 0.97}}


def make(name="test.entry", task="test", architecture="zoo.nn.Linear", **kw):
    kw.setdefault("files", {"w.safetensors": SHA})
    kw.setdefault("sources", [Hub("org/repo")])
    return WeightsEntry(name=name, architecture=architecture, task=task, **kw)


@pytest.fixture
def clean_registry(monkeypatch):
    """Entries and providers added by a test vanish with it."""
    providers.load_providers()  # the domains' own entries are in the copy, so they outlive the test
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    monkeypatch.setattr(providers, "_MODULES", list(providers._MODULES))
    monkeypatch.setattr(providers, "_LOADED", set(providers._LOADED))


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name, module in list(sys.modules.items()):  # only the modules made in tmp_path
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    importlib.invalidate_caches()


def test_entry_normalises_its_fields():
    e = make(files={"a.bin": SHA.upper(), "b.bin": (SHA, 12), "c.bin": {"size": 3}, "d.bin": None},
             sources=[Hub("org/repo"), Package("some-dist"), Store()], labels=["cat", "dog"],
             metrics={"acc@1": 71.2}, recipe="examples/train.py", record=RECORD)
    assert e.files["a.bin"] == FileSpec(sha256=SHA)
    assert e.files["b.bin"] == FileSpec(SHA, 12)
    assert e.files["c.bin"] == FileSpec(size=3) and e.files["d.bin"] == FileSpec()
    assert [s.kind for s in e.sources] == ["store", "package", "hub"]
    assert e.labels == ("cat", "dog") and e.get_labels() == ["cat", "dog"]
    assert isinstance(e.record, Record) and e.record.metric["accuracy"] == 0.97
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.name = "other"
    with pytest.raises(TypeError):
        e.files["x"] = FileSpec()
    assert {e: 1}[e] == 1  # hashable, usable as a key


@pytest.mark.parametrize("kw, message", [
    ({"files": {}}, "files is empty"),
    ({"files": {"w": "not-a-sha"}}, "64 hex digits"),
    ({"files": {"w": (SHA, -1)}}, "non-negative"),
    ({"sources": []}, "no sources"),
    ({"sources": ["org/repo"]}, "is not a source"),
    ({"sources": [Store()]}, "needs a recipe"),
    ({"task": ""}, "task must be a non-empty string"),
])
def test_entry_validation(kw, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(**kw)


def test_register_get_list(clean_registry):
    a = register(make("test.a", task="image-classification"))
    b = register(make("test.b", task="text-generation", architecture="zoo.text.GPT2LMHeadModel"))
    assert get_entry("test.a") is a and get_entry(b) is b
    register(make("test.a", task="image-classification"))  # the same entry again (a re-import) is fine
    with pytest.raises(ValueError, match="already registered"):
        register(make("test.a", task="audio-classification"))
    c = register(make("test.a", task="audio-classification"), replace=True)
    assert get_entry("test.a") is c
    names = [e.name for e in list_entries()]
    assert names == sorted(names) and {"test.a", "test.b"} <= set(names)
    assert [e.name for e in list_entries(task="text-generation") if e.name.startswith("test.")] == ["test.b"]
    assert [e.name for e in list_entries(architecture="zoo.text.GPT2LMHeadModel")] == ["test.b"]
    assert unregister("test.b") is b and unregister("test.b") is None
    with pytest.raises(UnknownWeightsError) as info:
        get_entry("test.b")
    assert "no pretrained weights named 'test.b'" in str(info.value) and "'test.a'" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_providers_are_imported_on_first_lookup_only(clean_registry, site):
    module = "zoo_test_provider_" + uuid.uuid4().hex[:8]
    (site / f"{module}.py").write_text(
        "from zoo.weights import WeightsEntry, Hub, register\n"
        f"register(WeightsEntry(name='{module}.tiny', architecture='zoo.nn.Linear', task='test',\n"
        f"                      files={{'w.bin': None}}, sources=[Hub('org/{module}')]))\n")
    add_provider(module)
    assert module not in sys.modules
    assert get_entry(f"{module}.tiny").sources == (Hub(f"org/{module}"),)
    assert module in sys.modules
    assert f"{module}.tiny" in [e.name for e in list_entries(task="test")]


def test_missing_provider_is_skipped_broken_one_reported(clean_registry, site):
    add_provider("zoo_test_provider_that_does_not_exist")
    assert isinstance(list_entries(), list)
    broken = "zoo_test_broken_" + uuid.uuid4().hex[:8]
    (site / f"{broken}.py").write_text("import zoo_test_dependency_that_is_missing\n")
    add_provider(broken)
    with pytest.raises(ImportError, match=broken):
        list_entries()
    with pytest.raises(ImportError, match=broken):  # not silently marked as done
        get_entry("anything")


def test_importing_zoo_weights_stays_light():
    code = ("import sys, zoo.weights\n"
            "heavy = {'huggingface_hub', 'torch', 'zoo.vision', 'zoo.text', 'zoo.audio', 'zoo.rl'}\n"
            "assert not heavy & set(sys.modules), sorted(heavy & set(sys.modules))\n"
            "zoo.weights.list_entries()  # imports the domains' provider modules, still not the hub client\n"
            "assert 'huggingface_hub' not in sys.modules\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def test_transforms_and_labels_specs(site):
    module = "zoo_test_labels_" + uuid.uuid4().hex[:8]
    (site / f"{module}.py").write_text("CLASSES = ['a', 'b']\ndef load():\n    return ['x', 'y', 'z']\n")
    e = make(transforms={"builder": "builtins:dict", "resize": 256, "crop": 224}, labels=f"{module}:load")
    assert e.get_transforms() == {"resize": 256, "crop": 224}
    assert e.get_labels() == ["x", "y", "z"]
    assert make(labels=f"{module}:CLASSES").get_labels() == ["a", "b"]
    assert make(transforms=lambda: "eval-transform", labels=lambda: ("p", "q")).get_transforms() == "eval-transform"
    with pytest.raises(ValueError, match="no eval transform"):
        make().get_transforms()
    with pytest.raises(ValueError, match="no labels"):
        make().get_labels()
    with pytest.raises(ValueError, match="'builder'"):
        make(transforms={"resize": 256}).get_transforms()


def test_store_entry_with_recipe_and_state_dict(site, tmp_path):
    anchor = "zoo_test_store_" + uuid.uuid4().hex[:8]
    folder = site / anchor / "store" / "tiny.linear"
    folder.mkdir(parents=True)
    (site / anchor / "__init__.py").write_text("")
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    zoo.save({"weight": zoo.tensor(weight), "bias": zoo.tensor(np.zeros(2, np.float32))},
             str(folder / "model.safetensors"))
    from zoo.weights import file_sha256
    e = WeightsEntry(name="tiny.linear", architecture="zoo.nn.Linear", task="test",
                     files={"model.safetensors": file_sha256(folder / "model.safetensors")},
                     sources=[Store(anchor=anchor)], recipe="examples/train_tiny.py", record=RECORD)
    state = e.get_state_dict()
    np.testing.assert_array_equal(state["weight"].numpy(), weight)
    layer = zoo.nn.Linear(3, 2)
    layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), weight)


def test_every_shipped_checkpoint_verifies():
    """Each entry in zoo's own store: files present with their sha256, recipe in the repo, record.json beside it."""
    import json

    from zoo.weights import resolve
    for e in list_entries():
        stores = [s for s in e.sources if s.kind == "store" and s.anchor == "zoo.weights"]
        if not stores:
            continue
        assert (ROOT / e.recipe).is_file(), f"{e.name}: recipe {e.recipe} is not in the repository"
        for filename in e.files:
            assert e.files[filename].sha256, f"{e.name}: shipped file {filename} has no sha256"
            path = pathlib.Path(resolve(e, filename))
            assert ROOT / "weights" / "store" in path.parents, f"{e.name}: {filename} is not in the store"
        record = json.loads((path.parent / "record.json").read_text())
        r = e.record
        assert record == {"data": r.data, "command": r.command, "seed": r.seed, "metric": dict(r.metric)}, e.name
