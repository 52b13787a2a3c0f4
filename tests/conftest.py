"""Test tiers: the default suite needs nothing outside the repo; `gpu`, `oracle` and `real` tests skip
themselves when CuPy + a GPU, PyTorch, or real weights/data are missing."""
import numpy as np
import pytest

import zoo


def _cuda_ok():
    try:
        return zoo.cuda.is_available()
    except Exception:
        return False


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Run a test on cpu, and on cuda where CuPy and a GPU are present."""
    if request.param == "cuda" and not _cuda_ok():
        pytest.skip("needs CuPy and a CUDA GPU")
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    zoo.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face hub cache in tmp_path, used offline (fill it with helpers.add_snapshot)."""
    pytest.importorskip("huggingface_hub")
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return cache
