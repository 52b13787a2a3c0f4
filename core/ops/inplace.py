"""In-place ops (``add_``, ``mul_``, ``clamp_`` …): compute out of place, write into the tensor's memory, bump
its version counter and, when autograd records, move the tensor's history onto the new node.

When the op records a graph, it runs on a snapshot of the old values, so a backward that needs them (``mul_``
of a tensor that requires grad) still has them; any *earlier* node that saved this tensor sees the version
change and refuses to run backward with stale values.
"""
import numpy as np

from ..autograd.function import Function, refresh_view, view_chain
from ..autograd.grad_mode import _mode
from ..device import array_module
from ..tensor import Tensor
from ._util import unbroadcast

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


def inplace(op, name=None, snapshot=True):
    """Make ``self.op_(*args)`` (named ``name``, by default ``op``'s name + ``_``) from the out-of-place
    ``op(self, *args)``. ``snapshot=False``: ``op`` neither keeps its input for backward nor writes into it
    (relu's backward reads only its output), so while autograd records it runs on ``self``'s memory, uncopied."""
    def method(self, *args, **kwargs):
        if _mode.grad_enabled:
            if self._view is not None and self._view[2] != self._vc[0]:
                refresh_view(self)
            if self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args):
                return record_inplace(self, lambda src: op(src, *(src if a is self else a for a in args), **kwargs),
                                      method.__name__, snapshot)
            self._check_inplace()
        return write_inplace(self, op(self, *args, **kwargs))
    method.__name__ = name or op.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{op.__name__}`."
    return method


def record_inplace(self, compute, name, snapshot=True):
    """``self.<name>(...)`` while autograd records: write ``compute(old self)`` into ``self``.

    ``compute`` runs on a snapshot of the old values (``x.mul_(x)`` reads the old x twice; a backward that needs
    them still has them), or on ``self``'s memory when ``snapshot`` is False (ops that copy before writing).
    ``self`` takes over the result's history; when ``self`` is a view, the tensor it views takes a ``CopySlices``
    node (its old history outside the view, the in-place op's inside) and ``self`` is derived from that afresh,
    as in PyTorch.
    """
    self._check_inplace()
    base, chain = view_chain(self)
    if chain:
        base._check_inplace(f"a view of it ({name})")
    src = Tensor._make(self._data.copy() if snapshot else self._data, self._requires_grad, self.grad_fn)
    result = compute(src)
    if result.grad_fn is None:  # the new values depend on nothing that requires grad
        result = Overwrite().apply(src, result)
    if not chain:
        return write_inplace(self, result)
    old_base = Tensor._make(base._data, base._requires_grad, base.grad_fn)
    write_inplace(self, result)
    new_base = CopySlices(chain).apply(old_base, result)
    base.grad_fn, base._requires_grad = new_base.grad_fn, True
    refresh_view(self)
    return self


class Overwrite(Function):
    """``old`` replaced by ``new`` (broadcast to its shape): no gradient reaches the old values."""

    def forward(self, old, new):
        self.new_shape = getattr(new, "shape", ())
        return array_module(old).broadcast_to(new, old.shape)

    def backward(self, g):
        return array_module(g).zeros_like(g), unbroadcast(g, self.new_shape) if self.needs_input_grad[1] else None


class CopySlices(Function):
    """The history of a tensor after an in-place op on a view of it (already written into its memory): outside
    the view the gradient flows to its old history, inside the view to the in-place op's result."""

    def __init__(self, chain):
        self.chain = chain  # the view nodes leading from the base to the view

    def forward(self, base, result):
        self.shape = base.shape
        return base

    def backward(self, g):
        xp = array_module(g)
        positions = xp.arange(g.size).reshape(self.shape)  # the flat positions the view covers, by replaying it
        for op in self.chain:
            fresh = object.__new__(type(op))
            fresh.__dict__.update(op.__dict__)
            positions = fresh.forward(positions)
        g_base = xp.array(g)  # a C-contiguous copy: its flat view below is a view, not a copy
        g_result = g_base.reshape(-1)[positions]
        if self.needs_input_grad[0]:
            g_base.reshape(-1)[positions] = 0
            return g_base, g_result
        return None, g_result


def _filled(self, value):
    """``self`` overwritten by ``value`` (a number or a 0-d tensor, which gets the gradient)."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions")
        return Overwrite().apply(self, value.to(self.dtype))
    return Overwrite().apply(self, array_module(self._data).asarray(value, dtype=self._data.dtype))


def fill_(self, value):
    """Set every element to ``value``."""
    return _fill_(self, value)


def zero_(self):
    """Set every element to zero."""
    return _zero_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into ``self``; differentiable with respect to src."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    src = src.to(device=self.device, dtype=self.dtype)
    return _copy_(self, src)


def _copied(self, src):
    from .shape import expand
    if src._data.shape != self._data.shape:
        src = expand(src, self._data.shape)  # checks the shapes
    return Overwrite().apply(self, src)


_fill_, _zero_, _copy_ = inplace(_filled, "fill_"), inplace(_filled, "zero_"), inplace(_copied, "copy_")

TENSOR_METHODS = dict(fill_=fill_, zero_=zero_, copy_=copy_)
