"""Reductions: sum, mean, prod, var/std, max/min (with indices), amax/amin, argmax/argmin, logsumexp,
cumsum/cumprod, norm, all/any, count_nonzero. Each op's forward and backward sit side by side.

``dim`` is an int, a sequence of ints, or None (every dim); an empty sequence also means every dim, as in
PyTorch. Backward passes broadcast the upstream gradient back over the reduced dims.
"""
import builtins
import collections
import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..device import array_module
from ..tensor import Tensor
from ._util import float_result, wrap_dim, wrap_dims

_INT64 = np.dtype(np.int64)
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)

# torch.return_types look-alikes: named tuples that unpack like (values, indices).
max_result = collections.namedtuple("max", ["values", "indices"])
min_result = collections.namedtuple("min", ["values", "indices"])
aminmax_result = collections.namedtuple("aminmax", ["min", "max"])


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def _axes(dim, ndim):
    """The axes to reduce: None or an empty sequence mean all of them; a 0-d tensor has none."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    axes = wrap_dims(dim, ndim)
    return axes if ndim else ()


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _reduced_shape(shape, axes, keepdim):
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _expand(g, axes, keepdim, shape):
    """Broadcast a reduced gradient back to the input's shape (a view, no copy)."""
    xp = array_module(g)
    if not keepdim and axes:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


def _np_dtype(dtype):
    return None if dtype is None else dtypes.as_dtype(dtype).numpy


def _apply(fn, input, out_dtype):
    """Run ``fn`` on ``input``; a bool/integer result (``dtype=`` given) records no graph."""
    if out_dtype is not None and out_dtype.kind != "f" and input._requires_grad:
        with no_grad():
            return fn.apply(input)
    return fn.apply(input)


def _check_tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")


def _check_nonempty(shape, axes, op):
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


# ----------------------------------------------------------------------------------------------------------------
# sum, mean, prod
# ----------------------------------------------------------------------------------------------------------------


class Sum(Function):
    amp = "float32"

    def __init__(self, axes, keepdim, dtype):
        self.axes, self.keepdim, self.dtype = axes, keepdim, dtype

    def forward(self, x):
        self.shape, self.in_dtype = x.shape, x.dtype
        if x.dtype == _F16 and self.dtype in (None, _F16):  # accumulate half in float32, as PyTorch
            return x.sum(axis=self.axes, dtype=_F32, keepdims=self.keepdim).astype(_F16)
        return x.sum(axis=self.axes, dtype=self.dtype, keepdims=self.keepdim)

    def backward(self, g):
        return _expand(g, self.axes, self.keepdim, self.shape).astype(self.in_dtype, copy=False)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim``; bool and integer tensors sum to int64 unless ``dtype`` is given."""
    _check_tensor(input, "sum")
    d = input._data
    dt = _np_dtype(dtype)
    if dt is None and d.dtype.kind in "biu":
        dt = _INT64
    return _apply(Sum(_axes(dim, d.ndim), keepdim, dt), input, dt)


class Mean(Function):
    def __init__(self, axes, keepdim, dtype):
        self.axes, self.keepdim, self.dtype = axes, keepdim, dtype

    def forward(self, x):
        self.shape, self.in_dtype = x.shape, x.dtype
        n = _count(x.shape, self.axes)
        self.n = n
        dt = x.dtype if self.dtype is None else self.dtype
        if n == 0:  # PyTorch: the mean of nothing is nan
            return array_module(x).full(_reduced_shape(x.shape, self.axes, self.keepdim), np.nan, dt)
        return x.mean(axis=self.axes, dtype=self.dtype, keepdims=self.keepdim)

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdim, self.shape) * (1.0 / builtins.max(self.n, 1))
        return g.astype(self.in_dtype, copy=False)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; integer tensors need an explicit floating ``dtype`` (as in PyTorch)."""
    _check_tensor(input, "mean")
    dt = _np_dtype(dtype)
    kind = input._data.dtype.kind if dt is None else dt.kind
    if kind != "f":
        which = "Input" if dt is None else "Optional"
        name = (input.dtype if dt is None else dtypes.as_dtype(dtype)).name
        raise RuntimeError(f"mean(): could not infer output dtype. {which} dtype must be either a floating point "
                           f"or complex dtype. Got: {name}")
    return Mean(_axes(dim, input._data.ndim), keepdim, dt).apply(input)


class Prod(Function):
    """Product over one axis (or all). The gradient is the product of the *other* elements, built from
    exclusive prefix and suffix products, so it is exact when some elements are zero."""
    amp = "float32"

    def __init__(self, axis, keepdim, dtype):
        self.axis, self.keepdim, self.dtype = axis, keepdim, dtype

    def forward(self, x):
        self.shape, self.in_dtype = x.shape, x.dtype
        if self.dtype is not None and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        self.x = x
        self.retain_inputs(0)
        return x.prod(axis=self.axis, keepdims=self.keepdim)

    def backward(self, g):
        xp = array_module(g)
        x = self.x
        if self.axis is None:
            xm, axis = x.reshape(-1), 0
        else:
            xm, axis = xp.moveaxis(x, self.axis, -1), self.axis
        ones = xp.ones(xm.shape[:-1] + (1,), xm.dtype)
        left = xp.cumprod(xp.concatenate([ones, xm[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([xm[..., 1:], ones], axis=-1), -1), axis=-1), -1)
        others = (left * right)[..., :xm.shape[-1]]  # an empty axis would otherwise leave a spurious 1
        if self.axis is None:
            grad = (g * others).reshape(self.shape)
        else:
            grad = (g if self.keepdim else xp.expand_dims(g, axis)) * xp.moveaxis(others, -1, axis)
        return grad.astype(self.in_dtype, copy=False)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one dim (or all); bool and integer tensors multiply in int64 unless ``dtype`` is given."""
    _check_tensor(input, "prod")
    d = input._data
    dt = _np_dtype(dtype)
    if dt is None and d.dtype.kind in "biu":
        dt = _INT64
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = None if dim is None else wrap_dim(int(dim), d.ndim)
    if d.ndim == 0:
        axis = None
    return _apply(Prod(axis, keepdim, dt), input, dt)


# ----------------------------------------------------------------------------------------------------------------
# var, std
# ----------------------------------------------------------------------------------------------------------------


class Var(Function):
    """Variance (or, with ``root``, standard deviation) with divisor ``N - correction``."""

    def __init__(self, axes, keepdim, correction, root):
        self.axes, self.keepdim, self.correction, self.root = axes, keepdim, correction, root

    def forward(self, x):
        xp = array_module(x)
        self.shape = x.shape
        n = _count(x.shape, self.axes)
        self.div = builtins.max(n - self.correction, 0)
        if n == 0:
            self.d = x
            return xp.full(_reduced_shape(x.shape, self.axes, self.keepdim), np.nan, x.dtype)
        d = x - x.mean(axis=self.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (d * d).sum(axis=self.axes, keepdims=self.keepdim) / x.dtype.type(self.div)
        if self.root:
            out = xp.asarray(xp.sqrt(out))
            self.out = out
            self.retain_output()
        self.d = d
        return out

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdim, self.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            if not self.root:
                return g * self.d * g.dtype.type(2.0 / self.div if self.div else math.inf)
            o = _expand(self.out, self.axes, self.keepdim, self.shape)
            # where std == 0 every deviation is 0: divide by 1 there so the gradient is 0 (as PyTorch)
            return g * self.d / ((o + (o == 0)) * g.dtype.type(self.div))


def _correction(op, input, dim, unbiased, correction):
    if isinstance(dim, bool):  # var(input, unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}(): got both a bool dim and 'unbiased'")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either 'unbiased' or 'correction', not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): std and var only support floating point and complex dtypes, got "
                           f"{input.dtype.name}")
    axes = _axes(dim, input._data.ndim)
    n = _count(input._data.shape, axes)
    if n - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      f"reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    return axes, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with divisor ``N - correction`` (``correction=1`` by default; ``unbiased=False``
    means ``correction=0``)."""
    _check_tensor(input, "var")
    axes, c = _correction("var", input, dim, unbiased, correction)
    return Var(axes, keepdim, c, False).apply(input)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (see :func:`var`); its gradient is 0 where the std is 0."""
    _check_tensor(input, "std")
    axes, c = _correction("std", input, dim, unbiased, correction)
    return Var(axes, keepdim, c, True).apply(input)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    _check_tensor(input, "var_mean")
    axes, c = _correction("var_mean", input, dim, unbiased, correction)
    return Var(axes, keepdim, c, False).apply(input), Mean(axes, keepdim, None).apply(input)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    _check_tensor(input, "std_mean")
    axes, c = _correction("std_mean", input, dim, unbiased, correction)
    return Var(axes, keepdim, c, True).apply(input), Mean(axes, keepdim, None).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# amax / amin / max / min / argmax / argmin / aminmax
# ----------------------------------------------------------------------------------------------------------------


class Amax(Function):
    """Largest (or smallest) value over ``axes``; tied elements share the gradient evenly (as PyTorch)."""

    def __init__(self, axes, keepdim, largest):
        self.axes, self.keepdim, self.largest = axes, keepdim, largest

    def forward(self, x):
        xp = array_module(x)
        self.x = x
        self.retain_inputs(0)
        out = xp.asarray((xp.amax if self.largest else xp.amin)(x, axis=self.axes, keepdims=self.keepdim))
        self.out = out
        self.retain_output()
        return out

    def backward(self, g):
        shape = self.x.shape
        mask = self.x == _expand(self.out, self.axes, self.keepdim, shape)
        count = mask.sum(axis=self.axes, keepdims=True).astype(g.dtype)
        g = _expand(g, self.axes, self.keepdim, shape)
        return g * mask / count


def amax(input, dim=(), keepdim=False):
    """Largest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    _check_tensor(input, "amax")
    axes = _axes(dim, input._data.ndim)
    _check_nonempty(input._data.shape, axes, "amax")
    return Amax(axes, keepdim, True).apply(input)


def amin(input, dim=(), keepdim=False):
    """Smallest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    _check_tensor(input, "amin")
    axes = _axes(dim, input._data.ndim)
    _check_nonempty(input._data.shape, axes, "amin")
    return Amax(axes, keepdim, False).apply(input)


class MaxDim(Function):
    """Values of max/min along one axis; the gradient goes to the element whose index was returned."""

    def __init__(self, axis, keepdim, largest):
        self.axis, self.keepdim, self.largest = axis, keepdim, largest

    def forward(self, x):
        xp = array_module(x)
        self.shape = x.shape
        xr = x.reshape(1) if x.ndim == 0 else x
        idx = (xp.argmax if self.largest else xp.argmin)(xr, axis=self.axis, keepdims=True)
        values = xp.take_along_axis(xr, idx, self.axis)
        self.n, self.idx = xr.shape[self.axis], idx
        out_shape = x.shape if x.ndim == 0 else _reduced_shape(x.shape, (self.axis,), self.keepdim)
        self.indices = idx.reshape(out_shape).astype(_INT64, copy=False)
        return values.reshape(out_shape)

    def backward(self, g):
        xp = array_module(g)
        g = g.reshape(self.idx.shape)
        pos = xp.arange(self.n).reshape([-1 if i == self.axis else 1 for i in range(self.idx.ndim)])
        return xp.where(pos == self.idx, g, g.dtype.type(0)).reshape(self.shape)


def _max_dim(input, dim, keepdim, largest, op):
    d = input._data
    axis = wrap_dim(int(dim), d.ndim)
    if d.ndim:
        _check_nonempty(d.shape, (axis,), op)
    fn = MaxDim(axis, keepdim, largest)
    values = fn.apply(input)
    # backward reads the indices: hand out a copy so in-place changes to it cannot corrupt the gradient
    indices = fn.indices.copy() if values.grad_fn is not None else fn.indices
    return (max_result if largest else min_result)(values, Tensor._make(indices))


def _full_reduce(input, largest, op):
    if input._data.size == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           f"reduction dim with the 'dim' argument.")
    return Amax(tuple(range(input._data.ndim)), False, largest).apply(input)


def max(input, dim=None, keepdim=False, *, other=None):
    """``max(input)``: the largest value (ties share the gradient); ``max(input, dim, keepdim)``: a named
    tuple ``(values, indices)``; ``max(input, other)``: the elementwise maximum."""
    _check_tensor(input, "max")
    if isinstance(dim, Tensor) or other is not None:
        from .pointwise import maximum
        return maximum(input, dim if other is None else other)
    if dim is None:
        if keepdim:
            raise TypeError("max(): keepdim=True needs a dim")
        return _full_reduce(input, True, "max")
    return _max_dim(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim=False, *, other=None):
    """``min(input)``: the smallest value (ties share the gradient); ``min(input, dim, keepdim)``: a named
    tuple ``(values, indices)``; ``min(input, other)``: the elementwise minimum."""
    _check_tensor(input, "min")
    if isinstance(dim, Tensor) or other is not None:
        from .pointwise import minimum
        return minimum(input, dim if other is None else other)
    if dim is None:
        if keepdim:
            raise TypeError("min(): keepdim=True needs a dim")
        return _full_reduce(input, False, "min")
    return _max_dim(input, dim, keepdim, False, "min")


def _arg(input, dim, keepdim, largest, op):
    _check_tensor(input, op)
    d = input._data
    xp = array_module(d)
    f = xp.argmax if largest else xp.argmin
    if dim is None:
        if d.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = f(d.reshape(-1)).astype(_INT64)
        out = out.reshape((1,) * d.ndim) if keepdim else out.reshape(())
    else:
        axis = wrap_dim(int(dim), d.ndim)
        if d.ndim == 0:
            return Tensor._make(xp.zeros((), _INT64))
        _check_nonempty(d.shape, (axis,), op)
        out = f(d, axis=axis, keepdims=keepdim).astype(_INT64, copy=False)
    return Tensor._make(xp.asarray(out))


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value along ``dim`` (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, True, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest value along ``dim`` (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, False, "argmin")


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all dims when None) as a named tuple."""
    _check_tensor(input, "aminmax")
    d = input._data
    if dim is None:
        if d.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                               "no identity.")
        axes = tuple(range(d.ndim))
    else:
        axes = (wrap_dim(int(dim), d.ndim),) if d.ndim else ()
        _check_nonempty(d.shape, axes, "aminmax")
    return aminmax_result(Amax(axes, keepdim, False).apply(input), Amax(axes, keepdim, True).apply(input))


# ----------------------------------------------------------------------------------------------------------------
# logsumexp, cumsum, cumprod
# ----------------------------------------------------------------------------------------------------------------


class LogSumExp(Function):
    """log(sum(exp(x))) computed after shifting by the max, so large inputs do not overflow."""

    def __init__(self, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        xp = array_module(x)
        if x.dtype.kind != "f":
            x = x.astype(float_result(x.dtype))
        self.x = x
        self.retain_inputs(0)
        if _count(x.shape, self.axes) == 0:
            out = xp.full(_reduced_shape(x.shape, self.axes, True), -np.inf, x.dtype)
        else:
            m = xp.amax(x, axis=self.axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, x.dtype.type(0))
            with np.errstate(divide="ignore"):  # log(0) = -inf where every input is -inf
                out = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        self.out_k = out
        self.retain_output()
        return out if self.keepdim else out.reshape(_reduced_shape(x.shape, self.axes, False))

    def backward(self, g):
        xp = array_module(g)
        return _expand(g, self.axes, self.keepdim, self.x.shape) * xp.exp(self.x - self.out_k)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))``, numerically stable."""
    _check_tensor(input, "logsumexp")
    return LogSumExp(_axes(dim, input._data.ndim), keepdim).apply(input)


def _flipped_cumsum(xp, g, axis):
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


class CumSum(Function):
    amp = "float32"

    def __init__(self, axis, dtype):
        self.axis, self.dtype = axis, dtype

    def forward(self, x):
        self.in_shape, self.in_dtype = x.shape, x.dtype
        xr = x.reshape(1) if x.ndim == 0 else x
        return array_module(x).cumsum(xr, axis=self.axis, dtype=self.dtype).reshape(x.shape)

    def backward(self, g):
        xp = array_module(g)
        gr = g.reshape(1) if g.ndim == 0 else g
        return _flipped_cumsum(xp, gr, self.axis).reshape(self.in_shape).astype(self.in_dtype, copy=False)


class CumProd(Function):
    """Running product. Backward: before the first zero, sum_{j>=i} g_j out_j / x_i; at the first zero, the
    same sum with that zero replaced by 1; after it, 0 (every later output already contains the zero)."""
    amp = "float32"

    def __init__(self, axis, dtype):
        self.axis, self.dtype = axis, dtype

    def forward(self, x):
        xp = array_module(x)
        self.in_shape, self.in_dtype = x.shape, x.dtype
        xr = x.reshape(1) if x.ndim == 0 else x
        if self.dtype is not None and xr.dtype != self.dtype:
            xr = xr.astype(self.dtype)
        out = xp.cumprod(xr, axis=self.axis)
        self.x, self.out = xr, out
        self.retain_inputs(0)
        self.retain_output()
        return out.reshape(x.shape)

    def backward(self, g):
        xp = array_module(g)
        x, out, axis = self.x, self.out, self.axis
        g = g.reshape(out.shape)
        is_zero = x == 0
        zeros_so_far = xp.cumsum(is_zero, axis=axis)
        before = zeros_so_far == 0
        first_zero = is_zero & (zeros_so_far == 1)
        grad_before = _flipped_cumsum(xp, g * out, axis) / xp.where(before, x, x.dtype.type(1))
        out_skip = xp.cumprod(xp.where(first_zero, x.dtype.type(1), x), axis=axis)
        grad_first = _flipped_cumsum(xp, g * out_skip, axis)
        zero = g.dtype.type(0)
        grad = xp.where(before, grad_before, xp.where(first_zero, grad_first, zero))
        return grad.reshape(self.in_shape).astype(self.in_dtype, copy=False)


def _cum_dtype(input, dtype):
    dt = _np_dtype(dtype)
    if dt is None and input._data.dtype.kind in "biu":
        dt = _INT64
    return dt


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``; bool and integer tensors accumulate in int64 unless ``dtype`` is given."""
    _check_tensor(input, "cumsum")
    return CumSum(wrap_dim(int(dim), input._data.ndim), _cum_dtype(input, dtype)).apply(input)


def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``; exact gradients with zeros in the input."""
    _check_tensor(input, "cumprod")
    return CumProd(wrap_dim(int(dim), input._data.ndim), _cum_dtype(input, dtype)).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# norm
# ----------------------------------------------------------------------------------------------------------------


class Norm(Function):
    """Vector p-norm over ``axes`` (2, 1, 0, ±inf or any other p)."""
    amp = "float32"

    def __init__(self, p, axes, keepdim):
        self.p, self.axes, self.keepdim = p, axes, keepdim

    def forward(self, x):
        xp = array_module(x)
        p, axes, keepdim = self.p, self.axes, self.keepdim
        self.x = x
        self.retain_inputs(0)
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            out = xp.abs(x).sum(axis=axes, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim, dtype=x.dtype)
        elif math.isinf(p):
            out = (xp.amax if p > 0 else xp.amin)(xp.abs(x), axis=axes, keepdims=keepdim)
        else:
            out = (xp.abs(x) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        out = xp.asarray(out)
        self.out = out
        self.retain_output()
        return out

    def backward(self, g):
        xp = array_module(g)
        p, x = self.p, self.x
        g = _expand(g, self.axes, self.keepdim, x.shape)
        if p == 1:
            return g * xp.sign(x)
        if p == 0:
            return xp.zeros_like(g)
        o = _expand(self.out, self.axes, self.keepdim, x.shape)
        if p == 2:  # where the norm is 0 so is x: dividing by 1 there gives the gradient 0 (as PyTorch)
            return g * x / (o + (o == 0))
        ax = xp.abs(x)
        if math.isinf(p):
            mask = ax == o
            count = mask.sum(axis=self.axes, keepdims=True).astype(g.dtype)
            return g * xp.sign(x) * mask / count
        # d/dx (sum|x|^p)^(1/p) = sign(x) (|x| / norm)^(p-1); 0 where x is 0
        ratio = ax / (o + (o == 0))
        nz = ax != 0
        return g * xp.where(nz, xp.sign(x) * xp.where(nz, ratio, x.dtype.type(1)) ** (p - 1), x.dtype.type(0))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector norm over ``dim`` (all elements by default): ``p`` = 2 / 'fro' (default), 1, 0, inf, -inf or any
    other number. The matrix nuclear norm ('nuc') is not supported."""
    _check_tensor(input, "norm")
    if out is not None:
        raise NotImplementedError("norm: the out= argument is not supported by zoo")
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor as input, got {input.dtype.name}")
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: the Frobenius norm takes at most 2 dims, got dim={tuple(dim)}")
        p = 2
    elif p == "nuc":
        raise NotImplementedError("norm: the nuclear norm (p='nuc') is not supported by zoo")
    elif isinstance(p, str):
        raise RuntimeError(f"norm: unknown norm type p={p!r}; expected a number, 'fro' or 'nuc'")
    p = float(p)
    axes = _axes(dim, input._data.ndim)
    if math.isinf(p) and _count(input._data.shape, axes) == 0:
        raise RuntimeError(f"norm: cannot compute the {p} norm over an empty dimension, as the operation has no "
                           f"identity")
    return Norm(p, axes, keepdim).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# all, any, count_nonzero (no gradient)
# ----------------------------------------------------------------------------------------------------------------


def _logical_reduce(input, dim, keepdim, op):
    _check_tensor(input, op)
    d = input._data
    xp = array_module(d)
    out = (xp.all if op == "all" else xp.any)(d, axis=_axes(dim, d.ndim), keepdims=keepdim)
    if d.dtype == np.uint8:  # PyTorch keeps uint8 for uint8 inputs
        out = out.astype(np.uint8)
    return Tensor._make(xp.asarray(out))


def all(input, dim=None, keepdim=False):
    """True where every element along ``dim`` is non-zero."""
    return _logical_reduce(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False):
    """True where some element along ``dim`` is non-zero."""
    return _logical_reduce(input, dim, keepdim, "any")


def count_nonzero(input, dim=None):
    """Number of non-zero elements along ``dim`` (int64)."""
    _check_tensor(input, "count_nonzero")
    d = input._data
    xp = array_module(d)
    return Tensor._make(xp.asarray((d != 0).sum(axis=_axes(dim, d.ndim), dtype=_INT64)))


# ----------------------------------------------------------------------------------------------------------------
# Tensor methods
# ----------------------------------------------------------------------------------------------------------------


def _inplace_methods():
    from .inplace import inplace
    return dict(cumsum_=inplace(cumsum), cumprod_=inplace(cumprod))


TENSOR_METHODS = dict(
    sum=sum, mean=mean, prod=prod, var=var, std=std, max=max, min=min, amax=amax, amin=amin, argmax=argmax,
    argmin=argmin, aminmax=aminmax, logsumexp=logsumexp, cumsum=cumsum, cumprod=cumprod, norm=norm, all=all,
    any=any, count_nonzero=count_nonzero,
)
TENSOR_METHODS.update(_inplace_methods())

__all__ = [
    "sum", "mean", "prod", "var", "std", "var_mean", "std_mean", "max", "min", "amax", "amin", "argmax",
    "argmin", "aminmax", "logsumexp", "cumsum", "cumprod", "norm", "all", "any", "count_nonzero",
]
