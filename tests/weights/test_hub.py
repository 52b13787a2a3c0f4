"""zoo.weights sources: the Hugging Face hub through a real local hub cache, checksums, offline errors, source order.

The hub cache is built in tmp_path with huggingface_hub's own layout (models--org--name/blobs/<sha256>,
snapshots/<commit>/<file> symlinks, refs/<branch or tag>), and HF_HUB_CACHE / HF_HUB_OFFLINE=1 are set, so the
real huggingface_hub code path runs with no network. Installed packages are simulated with a temporary site
folder on sys.path holding the package and its .dist-info (what pip leaves behind), found by importlib.metadata.
"""
import hashlib
import importlib
import os
import pathlib
import sys
import uuid

import numpy as np
import pytest
from helpers import add_snapshot

import zoo
from zoo.weights import (ChecksumError, Hub, Package, Record, Store, WeightsEntry, WeightsNotFoundError, download,
                         file_sha256, register, resolve, resolve_model_dir, unregister)

pytest.importorskip("huggingface_hub")

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40
REPO = "zoo-test/tiny-model"


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh site folder on sys.path; packages made in it are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name, module in list(sys.modules.items()):  # only the modules made in folder
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]
    importlib.invalidate_caches()


def make_distribution(site, dist, files):
    """An installed distribution ``dist`` (importable package + .dist-info) carrying ``files``."""
    pkg = dist.replace("-", "_")
    for rel, data in files.items():
        path = site / pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (site / pkg / "__init__.py").write_text("")
    info = site / f"{pkg}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    importlib.invalidate_caches()
    return pkg


def make_store(site, anchor, entry_name, files):
    """A package ``anchor`` whose store/ folder ships ``files`` for ``entry_name``."""
    (site / anchor).mkdir()
    (site / anchor / "__init__.py").write_text("")
    for name, data in files.items():
        path = site / anchor / "store" / entry_name / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    importlib.invalidate_caches()
    return site / anchor / "store" / entry_name


RECORD = Record(data="synthetic", command="python examples/train_tiny.py --seed 0", seed=0, metric={"acc": 1.0})


def entry(files, sources, name="tiny.test"):
    store = any(isinstance(s, Store) for s in sources)
    return WeightsEntry(name=name, architecture="zoo.nn.Linear", task="test", files=files, sources=sources,
                        recipe="examples/train_tiny.py" if store else None, record=RECORD if store else None)


# ---- hub through the cache -----------------------------------------------------------------------------------
def test_resolve_from_hub_cache_offline(hub_cache):
    data = b"weights v1"
    snap = add_snapshot(hub_cache, REPO, COMMIT_A, {"model.bin": data}, refs=["main"])
    e = entry({"model.bin": sha(data)}, [Hub(REPO)])
    path = resolve(e, "model.bin")
    assert os.path.samefile(path, snap / "model.bin")
    assert pathlib.Path(path).read_bytes() == data
    assert resolve(e) == path  # a single-file entry needs no filename


def test_revision_pinning_picks_the_right_snapshot(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.bin": b"old"}, refs=["v1.0"])
    add_snapshot(hub_cache, REPO, COMMIT_B, {"model.bin": b"new"}, refs=["main"])
    read = lambda **kw: pathlib.Path(resolve(REPO, "model.bin", **kw)).read_bytes()  # noqa: E731
    assert read() == b"new"
    assert read(revision=COMMIT_A) == b"old"
    assert read(revision="v1.0") == b"old"
    assert read(revision=COMMIT_B) == b"new"
    pinned = entry({"model.bin": sha(b"old")}, [Hub(REPO, revision=COMMIT_A)])
    assert pathlib.Path(resolve(pinned)).read_bytes() == b"old"
    with pytest.raises(ChecksumError):  # overriding the pin still checks the recorded sha256
        resolve(pinned, revision="main")


def test_subfolder_in_repo(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"unet/w.bin": b"unet"}, refs=["main"])
    e = entry({"w.bin": sha(b"unet")}, [Hub(REPO, subfolder="unet")])
    assert pathlib.Path(resolve(e)).read_bytes() == b"unet"


def test_checksum_mismatch_is_refused(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.bin": b"tampered"}, refs=["main"])
    expected = sha(b"original")
    e = entry({"model.bin": expected}, [Hub(REPO, revision=COMMIT_A)])
    with pytest.raises(ChecksumError) as info:
        resolve(e)
    msg = str(info.value)
    for part in ("model.bin", expected, sha(b"tampered"), REPO, "tiny.test", "zoo download tiny.test --force"):
        assert part in msg


def test_size_mismatch_is_refused(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.bin": b"1234"}, refs=["main"])
    e = entry({"model.bin": (sha(b"1234"), 5)}, [Hub(REPO)])
    with pytest.raises(ChecksumError, match="4 bytes but the registry expects 5"):
        resolve(e)


def test_offline_missing_file_says_what_and_how(hub_cache):
    e = entry({"model.safetensors": None}, [Hub(REPO, revision=COMMIT_A)], name="tiny.missing")
    with pytest.raises(WeightsNotFoundError) as info:
        resolve(e)
    msg = str(info.value)
    for part in ("model.safetensors", REPO, COMMIT_A, "HF_HUB_OFFLINE", str(hub_cache), "zoo download tiny.missing",
                 f"hf download {REPO} model.safetensors --revision {COMMIT_A}"):
        assert part in msg, part


def test_offline_cached_other_revision_only(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.bin": b"a"}, refs=["main"])
    with pytest.raises(WeightsNotFoundError, match=f"revision '{COMMIT_B}'"):
        resolve(REPO, "model.bin", revision=COMMIT_B)
    with pytest.raises(WeightsNotFoundError, match="'other.bin'"):
        resolve(REPO, "other.bin")


def test_hf_home_locates_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    add_snapshot(tmp_path / "hf-home" / "hub", REPO, COMMIT_A, {"model.bin": b"home"}, refs=["main"])
    assert pathlib.Path(resolve(REPO, "model.bin")).read_bytes() == b"home"


def test_loaded_through_zoo_load(hub_cache, tmp_path):
    src = tmp_path / "w.safetensors"
    zoo.save({"weight": zoo.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))}, str(src))
    data = src.read_bytes()
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.safetensors": data}, refs=["main"])
    e = entry({"model.safetensors": (sha(data), len(data))}, [Hub(REPO, revision=COMMIT_A)])
    state = e.get_state_dict()
    np.testing.assert_array_equal(state["weight"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))


# ---- source order: local > store > package > hub ------------------------------------------------------------
def test_source_order(hub_cache, site, tmp_path):
    data = b"the same bytes everywhere"
    snap = add_snapshot(hub_cache, REPO, COMMIT_A, {"w.bin": data}, refs=["main"])
    dist = "zoo-test-weights-" + uuid.uuid4().hex[:8]
    pkg = make_distribution(site, dist, {"models/w.bin": data})
    anchor = "zoo_test_store_" + uuid.uuid4().hex[:8]
    stored = make_store(site, anchor, "tiny.test", {"w.bin": data})
    # given in the reverse order on purpose: the entry keeps store -> package -> hub
    e = entry({"w.bin": sha(data)}, [Hub(REPO), Package(dist, f"{pkg}/models"), Store(anchor=anchor)])
    assert [s.kind for s in e.sources] == ["store", "package", "hub"]

    assert os.path.samefile(resolve(e), stored / "w.bin")
    local = tmp_path / "mine" / "w.bin"
    local.parent.mkdir()
    local.write_bytes(data)
    assert resolve(e, local=local) == str(local)
    assert resolve(e, local=local.parent) == str(local)
    (stored / "w.bin").unlink()
    assert os.path.samefile(resolve(e), site / pkg / "models" / "w.bin")
    (site / pkg / "models" / "w.bin").unlink()
    assert os.path.samefile(resolve(e), snap / "w.bin")


def test_nothing_found_lists_every_source(hub_cache, site):
    anchor = "zoo_test_store_" + uuid.uuid4().hex[:8]
    make_store(site, anchor, "elsewhere", {})
    e = entry({"w.bin": None}, [Store(anchor=anchor), Package("zoo-test-not-installed", "x"), Hub(REPO)])
    with pytest.raises(WeightsNotFoundError) as info:
        resolve(e)
    msg = str(info.value)
    assert "'w.bin' of weights 'tiny.test'" in msg
    assert f"project store ({anchor}" in msg and "not there" in msg
    assert "pip install zoo-test-not-installed" in msg
    assert "HF_HUB_OFFLINE" in msg and "zoo download tiny.test" in msg


def test_project_store_of_zoo_is_searched(hub_cache):
    e = entry({"w.bin": None}, [Store()], name="tiny.not-shipped")
    with pytest.raises(WeightsNotFoundError, match=r"project store \(zoo.weights: store/tiny.not-shipped/\)"):
        resolve(e)


def test_bad_local_file_is_refused_not_skipped(hub_cache, tmp_path):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"w.bin": b"good"}, refs=["main"])
    e = entry({"w.bin": sha(b"good")}, [Hub(REPO)])
    bad = tmp_path / "w.bin"
    bad.write_bytes(b"bad!")
    with pytest.raises(ChecksumError, match="local path"):
        resolve(e, local=bad)
    with pytest.raises(WeightsNotFoundError, match="has no 'w.bin'"):
        resolve(e, local=tmp_path / "hf-cache")


def test_package_source_checks_checksum(site):
    dist = "zoo-test-weights-" + uuid.uuid4().hex[:8]
    pkg = make_distribution(site, dist, {"w.bin": b"package bytes"})
    e = entry({"w.bin": sha(b"something else")}, [Package(dist, pkg)])
    with pytest.raises(ChecksumError, match=f"package '{dist}'"):
        resolve(e)


# ---- hashes -------------------------------------------------------------------------------------------------
def test_file_sha256_streams_and_notices_changes(tmp_path):
    path = tmp_path / "big.bin"
    data = np.random.default_rng(0).bytes(3 << 20)
    path.write_bytes(data)
    assert file_sha256(path) == sha(data)
    assert file_sha256(path) == sha(data)
    path.write_bytes(data[::-1] + b"x")
    assert file_sha256(path) == sha(data[::-1] + b"x")


# ---- download and from_pretrained directories ---------------------------------------------------------------
def test_download_fetches_every_file(hub_cache):
    files = {"config.json": b"{}", "model.bin": b"w"}
    add_snapshot(hub_cache, REPO, COMMIT_A, files, refs=["main"])
    e = entry({k: sha(v) for k, v in files.items()}, [Hub(REPO)], name="tiny.two-files")
    register(e)
    try:
        paths = download("tiny.two-files")
    finally:
        unregister("tiny.two-files")
    assert sorted(paths) == ["config.json", "model.bin"]
    assert all(pathlib.Path(paths[k]).read_bytes() == v for k, v in files.items())
    with pytest.raises(ValueError, match="2 files"):
        resolve(e)


def test_download_repo_snapshot(hub_cache):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"config.json": b"{}", "model.safetensors": b"w"}, refs=["main"])
    got = download(REPO)
    assert sorted(got) == ["config.json", "model.safetensors"]
    assert pathlib.Path(got["model.safetensors"]).read_bytes() == b"w"


def test_resolve_model_dir(hub_cache, tmp_path):
    add_snapshot(hub_cache, REPO, COMMIT_A, {"config.json": b'{"v": 1}', "model.safetensors": b"1"}, refs=["v1"])
    snap_b = add_snapshot(hub_cache, REPO, COMMIT_B, {"config.json": b'{"v": 2}', "model.safetensors": b"2"},
                          refs=["main"])
    assert os.path.samefile(resolve_model_dir(REPO), snap_b)
    assert (pathlib.Path(resolve_model_dir(REPO, revision="v1")) / "config.json").read_bytes() == b'{"v": 1}'
    local = tmp_path / "my-model"
    local.mkdir()
    assert resolve_model_dir(local) == str(local)


def test_resolve_model_dir_pytorch_weights_only(hub_cache):
    snap = add_snapshot(hub_cache, REPO, COMMIT_A, {"config.json": b"{}", "pytorch_model.bin": b"w"}, refs=["main"])
    assert os.path.samefile(resolve_model_dir(REPO), snap)


def test_resolve_model_dir_errors(hub_cache, tmp_path):
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_model_dir("zoo-test/not-cached")
    msg = str(info.value)
    assert "zoo-test/not-cached" in msg and "HF_HUB_OFFLINE" in msg and "zoo download zoo-test/not-cached" in msg
    add_snapshot(hub_cache, REPO, COMMIT_A, {"model.safetensors": b"w"}, refs=["main"])
    with pytest.raises(WeightsNotFoundError, match="no config.json"):
        resolve_model_dir(REPO)
    with pytest.raises(WeightsNotFoundError, match="not a Hugging Face hub repo id"):
        resolve_model_dir(str(tmp_path / "no" / "such" / "dir"))
    (tmp_path / "file.json").write_text("{}")
    with pytest.raises(NotADirectoryError):
        resolve_model_dir(tmp_path / "file.json")
