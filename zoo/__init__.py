"""zoo: deep learning on NumPy and CuPy with PyTorch's API.

``import zoo`` gives the tensor library (``zoo.tensor``, ``zoo.nn``, ``zoo.optim`` …). Domain packages
(``zoo.vision``, ``zoo.text``, ``zoo.audio``, ``zoo.rl``) and the facade (``zoo.pipeline``, ``zoo.Trainer``,
``zoo.from_pretrained``, ``zoo.list_models``) load on first access, so ``import zoo`` stays fast.
"""
import importlib

from zoo.core import *  # noqa: F401,F403
from zoo.core import __all__ as _core_all
from zoo.core.autograd.gradcheck import gradcheck  # noqa: F401  (also zoo.autograd.gradcheck)

__version__ = "0.1.0"

_LAZY = {"vision", "text", "audio", "rl", "weights", "nn", "optim", "utils", "pipelines", "trainer"}
_FACADE = {"pipeline": "zoo.pipelines:pipeline", "Trainer": "zoo.trainer:Trainer",
           "from_pretrained": "zoo.weights.pretrained:from_pretrained", "list_models": "zoo.weights.registry:list_models"}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"zoo.{name}")
    if name in _FACADE:
        module, _, attr = _FACADE[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    if name == "bfloat16":
        raise NotImplementedError("bfloat16 is not supported by zoo (NumPy has no bfloat16 dtype)")
    if name in ("complex64", "complex128", "cfloat", "cdouble"):
        raise NotImplementedError(f"complex dtype {name} is not supported by zoo")
    raise AttributeError(f"module 'zoo' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | _LAZY | set(_FACADE))


__all__ = list(_core_all) + ["gradcheck"] + list(_FACADE)
