"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

Norms are computed on each gradient's own device with one reduction per tensor (a BLAS/cuBLAS dot for the
2-norm) and combined there; the scaling is an in-place multiply by a device scalar, so nothing waits for the
GPU unless ``error_if_nonfinite`` asks to look at the norm."""
import math

import numpy as np

from ...creation import tensor as _tensor
from ...device import array_module, device_of, move
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _vector_norm(xp, a, p):
    """The p-norm of array ``a`` seen as one vector, as a 0-d array on its device (float16 accumulates in
    float32, like PyTorch's reductions, and is returned as float16)."""
    dtype = a.dtype
    if dtype.kind != "f":
        raise RuntimeError(f"clip_grad: expected floating point tensors, got dtype {dtype}")
    if dtype == np.float16:
        a = a.astype(np.float32)
    if a.size == 0:
        if p < 0:
            raise RuntimeError("linalg.vector_norm: the norm of order -inf (or a negative order) is not defined "
                               "for an empty tensor")
        return xp.zeros((), dtype=dtype)
    if p == 2.0:
        flat = a.ravel()
        n = xp.sqrt(xp.dot(flat, flat))
    elif p == 1.0:
        n = xp.abs(a).sum()
    elif p == math.inf:
        n = xp.abs(a).max()
    elif p == -math.inf:
        n = xp.abs(a).min()
    elif p == 0.0:
        n = xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    else:
        n = (xp.abs(a) ** p).sum() ** (1.0 / p)
    return xp.asarray(n, dtype=dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector (a 0-d tensor on
    the first tensor's device; ``tensor(0.)`` for no tensors)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    first = tensors[0]._data
    xp = array_module(first)
    first_dev = device_of(first)
    norms = [move(_vector_norm(array_module(t._data), t._data, norm_type), first_dev) for t in tensors]
    dtype = np.result_type(*[n.dtype for n in norms])
    stacked = xp.stack([n.astype(dtype, copy=False) for n in norms])
    total = _vector_norm(xp, stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(total)


def _scale_in_place(g, factor):
    a = g._data
    if type(a) is np.ndarray and not a.flags.writeable:
        raise RuntimeError(f"clip_grad: a gradient of shape {tuple(a.shape)} is a read-only array and cannot be "
                           f"scaled in place")
    a *= factor.astype(a.dtype, copy=False)
    g._vc[0] += 1


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient in place by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = _grads(parameters)
    if not grads:
        return
    max_norm = float(max_norm)
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm, dtype=np.float32)
    xp = array_module(total)
    factor = xp.asarray(xp.minimum(max_norm / (total + 1e-6), 1.0))
    for g in grads:
        _scale_in_place(g, move(factor, device_of(g._data)))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients in place so that their total ``norm_type``-norm is at most ``max_norm``; returns the
    total norm before clipping (a 0-d tensor)."""
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        a = g._data
        if type(a) is np.ndarray and not a.flags.writeable:
            raise RuntimeError(f"clip_grad_value_: a gradient of shape {tuple(a.shape)} is a read-only array and "
                               f"cannot be clipped in place")
        array_module(a).clip(a, -clip_value, clip_value, out=a)
        g._vc[0] += 1
