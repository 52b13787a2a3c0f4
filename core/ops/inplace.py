"""In-place ops (``add_``, ``mul_``, ``clamp_`` …): compute out of place, write into the tensor's memory, bump
its version counter and, when autograd records, move the tensor's history onto the new node.

When the op records a graph, it runs on a snapshot of the old values, so a backward that needs them (``mul_``
of a tensor that requires grad) still has them; any *earlier* node that saved this tensor sees the version
change and refuses to run backward with stale values.
"""
import numpy as np

from ..autograd.grad_mode import _mode
from ..tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def write_inplace(self, result):
    """Write ``result`` into ``self`` (same shape after broadcasting) and take over its history."""
    d = self._data
    r = result._data
    if r.shape != d.shape:
        try:
            broadcast_ok = np.broadcast_shapes(r.shape, d.shape) == d.shape
        except ValueError:
            broadcast_ok = False
        if not broadcast_ok:
            raise RuntimeError(f"output with shape {list(d.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}")
    if _CATEGORY[r.dtype.kind] > _CATEGORY[d.dtype.kind]:
        raise RuntimeError(f"result type {r.dtype.name} can't be cast to the desired output type {d.dtype.name}")
    if not getattr(d.flags, "writeable", True):
        raise RuntimeError("in-place write to a read-only tensor (an expanded view or a NumPy array that is "
                           "not writeable); clone() it first")
    d[...] = r
    self._vc[0] += 1
    if result.grad_fn is not None:
        self.grad_fn = result.grad_fn
        self._requires_grad = True
    return self


def inplace(op):
    """Make ``self.op_(*args)`` from the out-of-place ``op(self, *args)``."""
    def method(self, *args, **kwargs):
        recording = _mode.grad_enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        if recording:
            self._check_inplace()
            if self._base is not None:
                raise NotImplementedError(
                    f"{op.__name__}_: an in-place op on a view that records autograd history is not supported by "
                    f"zoo (the viewed tensor would not see it); apply it to the base tensor or out of place")
            src = Tensor._make(self._data.copy(), self._requires_grad, self.grad_fn)
            args = tuple(src if a is self else a for a in args)  # x.mul_(x) reads the old x twice
        else:
            if _mode.grad_enabled and self._requires_grad and self.grad_fn is None:
                self._check_inplace()
            src = self
        return write_inplace(self, op(src, *args, **kwargs))
    method.__name__ = op.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{op.__name__}`."
    return method



def _filled(self, value):
    """A tensor of ``self``'s shape filled with ``value`` (a number or a 0-d tensor, which gets the gradient)."""
    from ..device import array_module
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions")
        from .shape import expand
        return expand(value.to(self.dtype), self._data.shape)
    return Tensor._make(array_module(self._data).full(self._data.shape, value, dtype=self._data.dtype))


def fill_(self, value):
    """Set every element to ``value``."""
    return inplace(_filled)(self, value)


def zero_(self):
    """Set every element to zero."""
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into ``self``; differentiable with respect to src."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    src = src.to(device=self.device, dtype=self.dtype)
    return inplace(_copied)(self, src)


def _copied(self, src):
    from .conversion import clone
    from .shape import expand
    if src._data.shape != self._data.shape:
        return expand(src, self._data.shape)
    return clone(src) if src._requires_grad else src  # a node of its own links self's new history to src


TENSOR_METHODS = dict(fill_=fill_, zero_=zero_, copy_=copy_)
