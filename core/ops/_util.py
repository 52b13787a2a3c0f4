"""Small helpers shared by the op files: broadcasting gradients, PyTorch dtype promotion, dim handling."""
import builtins

import numpy as np

from .. import dtypes
from ..tensor import Tensor

_CATEGORY = {d.numpy: d.category for d in dtypes.ALL}
_PROMOTED = {}


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the gradient of a broadcast."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def promote_np(a, b):
    """PyTorch's promotion of two NumPy dtypes."""
    if a is b:
        return a
    key = (a, b)
    r = _PROMOTED.get(key)
    if r is None:
        r = dtypes.promote_types(dtypes._BY_NUMPY[a], dtypes._BY_NUMPY[b]).numpy
        _PROMOTED[key] = r
    return r


def _scalar_category(s):
    t = type(s)
    if t is builtins.bool or t is np.bool_:
        return 0
    if t is builtins.int or isinstance(s, np.integer):
        return 1
    if t is builtins.float or isinstance(s, np.floating):
        return 2
    if isinstance(s, complex):
        raise NotImplementedError("complex numbers are not supported by zoo")
    raise TypeError(f"unsupported operand type {t.__name__}")


def result_dtype(a, b):
    """The NumPy dtype of ``a (op) b`` for Tensors and Python scalars, by PyTorch's rules:
    dimensioned tensors > 0-d tensors > Python scalars, a lower-priority operand only wins with a
    higher category (bool < integer < floating point)."""
    if isinstance(a, Tensor):
        da = a._data.dtype
        if isinstance(b, Tensor):
            db = b._data.dtype
            if da is db:
                return da
            za, zb = a._data.ndim == 0, b._data.ndim == 0
            if za == zb:
                return promote_np(da, db)
            dim_dt, zero_dt = (db, da) if za else (da, db)
            return zero_dt if _CATEGORY[zero_dt] > _CATEGORY[dim_dt] else dim_dt
        return _with_scalar(da, b)
    return _with_scalar(b._data.dtype, a)


def _with_scalar(dt, s):
    cs = _scalar_category(s)
    if cs <= _CATEGORY[dt]:
        return dt
    return dtypes.get_default_dtype().numpy if cs == 2 else np.dtype(np.int64)


def float_result(dt):
    """The dtype of a result that must be floating point (true division, exp of ints …)."""
    return dt if dt.kind == "f" else dtypes.get_default_dtype().numpy


def wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def wrap_dims(dim, ndim):
    """A tuple of non-negative axes from None (all), an int, or a sequence."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(int(dim), ndim),)
    axes = tuple(wrap_dim(int(d), ndim) for d in dim)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    return axes


def shape_arg(args):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` like PyTorch."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(s) for s in args)
