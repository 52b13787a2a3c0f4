"""Regenerate the PyTorch-written checkpoints that tests/core/test_torch_fixtures.py reads without torch:
``python tests/core/data/make_torch_fixtures.py`` (needs PyTorch; the files are committed, so tests do not).

Every value derives from ``expected()`` in the test module, so the test knows what each tensor must hold."""
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from test_torch_fixtures import expected  # noqa: E402


def as_torch(obj):
    if isinstance(obj, dict):
        return {k: as_torch(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [as_torch(v) for v in obj]
    if hasattr(obj, "dtype") and hasattr(obj, "shape"):
        return torch.from_numpy(obj.copy())
    return obj


def build():
    state = as_torch(expected())
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state["shared"] = {"base": base, "row": base[1], "cols": base[:, 2]}  # views into one storage
    state["transposed"] = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()  # non-contiguous
    return state


if __name__ == "__main__":
    torch.save(build(), HERE / "torch_zip.pt")
    torch.save(build(), HERE / "torch_legacy.pt", _use_new_zipfile_serialization=False)
    print("wrote", HERE / "torch_zip.pt", HERE / "torch_legacy.pt")
