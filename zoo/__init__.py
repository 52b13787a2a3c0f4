"""zoo: deep learning on NumPy and CuPy with PyTorch's API.

``import zoo`` gives the tensor library (``zoo.tensor``, ``zoo.nn``, ``zoo.optim`` …). Domain packages
(``zoo.vision``, ``zoo.text``, ``zoo.audio``, ``zoo.rl``) and the facade (``zoo.pipeline``, ``zoo.Trainer``,
``zoo.from_pretrained``, ``zoo.list_models``) load on first access, so ``import zoo`` stays fast.
"""
import importlib
import sys

from zoo.core import *  # noqa: F401,F403
from zoo.core import __all__ as _core_all
from zoo.core import autograd as _autograd, cuda as _cuda, cuda_amp as _cuda_amp
from zoo.core.autograd.gradcheck import gradcheck  # noqa: F401  (also zoo.autograd.gradcheck)

# PyTorch's module paths that ported scripts import: zoo.autograd, zoo.cuda, zoo.cuda.amp are zoo.core's modules
for _name, _module in (("autograd", _autograd), ("cuda", _cuda), ("cuda.amp", _cuda_amp)):
    sys.modules.setdefault(f"zoo.{_name}", _module)

__version__ = "0.1.0"

_LAZY = {"vision", "text", "audio", "rl", "weights", "nn", "optim", "utils", "pipelines", "trainer"}
_FACADE = {"pipeline": "zoo.pipelines:pipeline", "Trainer": "zoo.trainer:Trainer",
           "from_pretrained": "zoo.weights.pretrained:from_pretrained", "list_models": "zoo.weights.registry:list_models"}


class _Unsupported:
    """A PyTorch feature zoo does not have (``torch.compile``, ``torch.jit`` …): it exists, so ``hasattr`` probes
    find it as in PyTorch, and using it raises NotImplementedError naming it."""

    def __init__(self, feature):
        self._feature = feature

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"{self._feature} is not supported by zoo")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(f"{self._feature}.{name} is not supported by zoo")

    def __repr__(self):
        return f"<unsupported {self._feature}>"


_UNSUPPORTED = {"compile": _Unsupported("torch.compile"), "jit": _Unsupported("torch.jit"),
                "backends": _Unsupported("torch.backends"), "distributed": _Unsupported("torch.distributed")}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"zoo.{name}")
    if name in _FACADE:
        module, _, attr = _FACADE[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    if name in _UNSUPPORTED:
        return _UNSUPPORTED[name]
    if name == "bfloat16":
        raise NotImplementedError("bfloat16 is not supported by zoo (NumPy has no bfloat16 dtype)")
    if name in ("complex64", "complex128", "cfloat", "cdouble"):
        raise NotImplementedError(f"complex dtype {name} is not supported by zoo")
    raise AttributeError(f"module 'zoo' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | _LAZY | set(_FACADE))


__all__ = list(_core_all) + ["gradcheck"] + list(_FACADE)
