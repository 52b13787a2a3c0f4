"""Checkpoints written by PyTorch itself (zip and legacy formats, committed under tests/core/data and made by
make_torch_fixtures.py there) load exactly through zoo's torch-free reader: dtypes, nested containers, views
sharing one storage, a non-contiguous tensor."""
import pathlib

import numpy as np
import pytest

import zoo

DATA = pathlib.Path(__file__).resolve().parent / "data"


def expected():
    """The plain part of the fixture: what every loaded value must equal."""
    return {
        "float32": np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5),
        "float64": np.array([np.pi, -np.e, 1e-300], dtype=np.float64),
        "float16": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
        "int64": np.array([-(2 ** 40), 0, 7], dtype=np.int64),
        "int32": np.arange(-3, 3, dtype=np.int32),
        "int8": np.array([-128, 0, 127], dtype=np.int8),
        "uint8": np.array([0, 200, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "nested": {"layers": [np.ones(2, dtype=np.float32), np.full((1, 2), 2.0, dtype=np.float32)],
                   "step": 12, "name": "fixture", "lr": 0.001, "flags": (True, None)},
    }


def check(loaded, want, path=""):
    if isinstance(want, dict):
        assert set(loaded) >= set(want), path
        for k in want:
            check(loaded[k], want[k], f"{path}.{k}")
    elif isinstance(want, (list, tuple)):
        assert type(loaded) is type(want) and len(loaded) == len(want), path
        for i, (a, b) in enumerate(zip(loaded, want)):
            check(a, b, f"{path}[{i}]")
    elif isinstance(want, np.ndarray):
        assert isinstance(loaded, zoo.Tensor), path
        got = loaded.numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, path
        np.testing.assert_array_equal(got, want, err_msg=path)
    else:
        assert loaded == want and type(loaded) is type(want), path


@pytest.mark.parametrize("name", ["torch_zip.pt", "torch_legacy.pt"])
def test_pytorch_written_checkpoint_loads_exactly(name):
    state = zoo.load(str(DATA / name))
    check(state, expected())
    shared = state["shared"]
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_array_equal(shared["base"].numpy(), base)
    np.testing.assert_array_equal(shared["row"].numpy(), base[1])
    np.testing.assert_array_equal(shared["cols"].numpy(), base[:, 2])
    np.testing.assert_array_equal(state["transposed"].numpy(), np.arange(12, dtype=np.float64).reshape(3, 4).T)
