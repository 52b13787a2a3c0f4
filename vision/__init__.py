"""zoo.vision: image transforms, datasets, models, pipelines and image utilities (≈ torchvision).

Submodules load on first access (``zoo.vision.transforms``, ``zoo.vision.datasets``, ``zoo.vision.models``,
``zoo.vision.pipelines``, ``zoo.vision.utils``), so ``import zoo.vision`` stays light and imports no Pillow.
``make_grid`` and ``save_image`` are re-exported from ``zoo.vision.utils``.
"""
import importlib

_SUBMODULES = {"transforms", "datasets", "models", "pipelines", "utils"}
_FROM_UTILS = {"make_grid", "save_image"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FROM_UTILS:
        return getattr(importlib.import_module(f"{__name__}.utils"), name)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | _FROM_UTILS)
