"""zoo.autograd: backward, grad, gradcheck, grad modes and anomaly detection."""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .function import Function
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import gradcheck
from ..device import array_module as _array_module

__all__ = ["backward", "grad", "gradcheck", "Function", "no_grad", "enable_grad", "inference_mode",
           "set_grad_enabled", "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled"]


def _root_grads(tensors, grad_tensors):
    grads = []
    for t, g in zip(tensors, grad_tensors):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this output has shape "
                                   f"{tuple(t._data.shape)}: pass gradient= with that shape")
            if t._data.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs, got "
                                   f"{t.dtype}")
            g = _array_module(t._data).ones_like(t._data)
        else:
            g = g._data if hasattr(g, "_data") else g
            if tuple(g.shape) != tuple(t._data.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {tuple(g.shape)} and output "
                                   f"has a shape of {tuple(t._data.shape)}")
            if type(g) is not type(t._data):
                raise RuntimeError("grad_output and output are on different devices")
            g = g.astype(t._data.dtype, copy=False)
        grads.append(g)
    return grads


def _as_list(x):
    return [x] if hasattr(x, "_data") else list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by zoo")
    tensors = _as_list(tensors)
    grad_tensors = [None] * len(tensors) if grad_tensors is None else _as_list(grad_tensors)
    if inputs is not None:
        inputs = _as_list(inputs)
        grads = run_backward(tensors, _root_grads(tensors, grad_tensors), bool(retain_graph), inputs)
        from .engine import _accumulate
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g)
        return
    run_backward(tensors, _root_grads(tensors, grad_tensors), bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (``.grad`` is left alone)."""
    from ..tensor import Tensor
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by zoo")
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    grads = run_backward(outputs, _root_grads(outputs, grad_outputs), bool(retain_graph), inputs)
    result = []
    for t, g in zip(inputs, grads):
        if g is None:
            if materialize_grads:
                g = 0 * t._data
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        result.append(None if g is None else Tensor._make(g.astype(t._data.dtype, copy=False)))
    return tuple(result)
