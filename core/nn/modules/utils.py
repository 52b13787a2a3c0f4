"""Helpers shared by the layer constructors (PyTorch keeps the like of these in torch/nn/modules/utils.py)."""
from ...creation import empty
from .. import init
from ..parameter import Parameter


def _ntuple(value, n):
    """``value`` as an n-tuple: a sequence is kept as a tuple, a scalar is repeated (PyTorch's _single/_pair...)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def _new_parameter(shape, device, dtype, enabled=True):
    """An uninitialised Parameter of ``shape`` (reset_parameters fills it), or None when not ``enabled``: what a
    constructor registers for an optional weight or bias."""
    return Parameter(empty(shape, device=device, dtype=dtype)) if enabled else None


def _reset_affine(module):
    """A normalization layer's affine parameters at init: weight ones, bias zeros (those that exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)
