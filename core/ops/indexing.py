"""Indexing: ``x[idx]`` and ``x[idx] = v`` with PyTorch's rules, gather / scatter, index_select / index_add,
masks, take, nonzero and one_hot.

An index is split in two steps, as PyTorch does: the basic part (ints, slices, None, Ellipsis) is a view; the
advanced part (integer arrays, boolean masks) then picks elements from that view into a copy. Backward of an
advanced pick accumulates repeated positions (``np.add.at`` / ``cupyx.scatter_add``).
"""
import warnings

import numpy as np

from ..autograd.function import Function, refresh_view
from ..autograd.grad_mode import _mode
from ..device import array_module
from ..tensor import Tensor
from ._util import unbroadcast, wrap_dim
from .inplace import inplace, record_inplace

# ----------------------------------------------------------------------------------------------------------------
# helpers shared with sorting.py
# ----------------------------------------------------------------------------------------------------------------

_ATOMIC_OK = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int32, np.uint32, np.uint64))


def add_at(z, key, v):
    """``z[key] += v`` where repeated positions in ``key`` all contribute (``np.add.at``; on CuPy
    ``cupyx.scatter_add``, whose atomics cover fewer dtypes: int64 adds as uint64 (same bits), small ints as
    int32)."""
    if type(z) is np.ndarray:
        np.add.at(z, key, v)
        return
    import cupyx
    dt = z.dtype
    v = array_module(z).asarray(v)
    if dt in _ATOMIC_OK:
        cupyx.scatter_add(z, key, v.astype(dt, copy=False))
    elif dt == np.int64:
        cupyx.scatter_add(z.view(np.uint64), key, v.astype(np.int64, copy=False).view(np.uint64))
    else:
        wide = z.astype(np.int32)
        cupyx.scatter_add(wide, key, v.astype(np.int32))
        z[...] = wide.astype(dt)


def along_dim(index, dim):
    """The advanced-index key that picks, at every position of ``index``, element ``index[pos]`` along ``dim``
    and the same position along the other dims (the addressing of gather / scatter)."""
    xp = array_module(index)
    nd = index.ndim
    key = []
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * nd
            shape[d] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


class Gather(Function):
    """``x[along_dim(index, dim)]``; backward scatters g back (``unique``: no repeated positions, so a plain
    write suffices)."""

    def __init__(self, dim, index, unique=False):
        self.dim, self.index, self.unique = dim, index, unique

    def forward(self, x):
        self.in_shape = x.shape
        return x[along_dim(self.index, self.dim)]

    def backward(self, g):
        z = array_module(g).zeros(self.in_shape, g.dtype)
        key = along_dim(self.index, self.dim)
        if self.unique:
            z[key] = g
        else:
            add_at(z, key, g)
        return z


def _check_bounds(idx, n, dim, negative_ok=True):
    """Raise PyTorch's IndexError when an integer index array leaves [-n, n) (or [0, n)). One host sync."""
    if idx.size == 0:
        return
    lo = -n if negative_ok else 0
    bad = (idx < lo) | (idx >= n)
    if bool(bad.any()):
        v = int(idx[bad].reshape(-1)[0])
        raise IndexError(f"index {v} is out of bounds for dimension {dim} with size {n}")


def _index_tensor(index, input, op):
    """The array of an integer index tensor, on ``input``'s device."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be a Tensor, not {type(index).__name__}")
    d = index._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype.name}")
    if type(d) is not type(input._data):
        raise RuntimeError(f"{op}(): expected index and input on the same device, got {index.device} and "
                           f"{input.device}")
    return d


# ----------------------------------------------------------------------------------------------------------------
# x[index]
# ----------------------------------------------------------------------------------------------------------------

_BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte or bool tensors are valid "
              "indices")


def _index_item(item, xp):
    """Normalise one index item: int, slice, None, Ellipsis, or an integer / boolean array on ``xp``."""
    if isinstance(item, (bool, np.bool_)):
        return xp.asarray(bool(item))
    if isinstance(item, (int, np.integer)):
        return int(item)
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        start, stop, step = (None if b is None else int(b) for b in (item.start, item.stop, item.step))
        if step is not None and step <= 0:
            raise ValueError(f"step must be greater than zero (got {step})")
        return slice(start, stop, step)
    if isinstance(item, Tensor):
        a = item._data
        if type(a) is not np.ndarray and xp is np:
            raise IndexError(f"indices should be either on cpu or on the same device as the indexed tensor (cpu), "
                             f"got {item.device}")
    elif isinstance(item, (list, tuple, np.ndarray)) or hasattr(item, "__cuda_array_interface__"):
        a = item if hasattr(item, "dtype") else np.asarray(item)
        if a.size == 0 and a.dtype.kind not in "biu":
            a = a.astype(np.int64)
    else:
        raise IndexError(f"{_BAD_INDEX} (got {type(item).__name__})")
    kind = a.dtype.kind
    if kind == "u" and a.dtype.itemsize == 1:
        warnings.warn("indexing with dtype uint8 is deprecated, please use a dtype bool instead", UserWarning,
                      stacklevel=4)
        a = a.astype(bool)
        kind = "b"
    if kind not in "biu":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got {a.dtype})")
    if kind != "b" and a.ndim == 0:
        return int(a)
    return a if xp is np or type(a) is not np.ndarray else xp.asarray(a)


def _parse(x, index):
    """Split ``index`` for array ``x`` into (basic key, advanced key, unique).

    ``x[basic]`` is a view; ``view[advanced]`` (None when there are no arrays) picks the rest. ``unique`` is
    True when the advanced key cannot name a position twice (it comes from one boolean mask)."""
    xp = array_module(x)
    items = [_index_item(i, xp) for i in (index if type(index) is tuple else (index,))]
    used = 0
    ellipsis = 0
    for it in items:
        if it is Ellipsis:
            ellipsis += 1
        elif it is not None:
            used += it.ndim if hasattr(it, "dtype") and it.dtype.kind == "b" else 1
    if ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    shape = x.shape
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    basic, adv = [], []
    masks = arrays = 0
    d = 0  # dim of x
    o = 0  # dim of the basic view
    for it in items:
        if it is Ellipsis:
            k = len(shape) - used
            basic += [slice(None)] * k
            d += k
            o += k
        elif it is None:
            basic.append(None)
            o += 1
        elif type(it) is int:
            n = shape[d]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {d} with size {n}")
            basic.append(it)
            d += 1
        elif type(it) is slice:
            basic.append(it)
            d += 1
            o += 1
        elif it.dtype.kind == "b":
            masks += 1
            if it.ndim == 0:  # x[True] adds a dim of size 1, x[False] one of size 0
                basic.append(None)
                adv.append((o, xp.zeros(1 if bool(it) else 0, np.int64)))
                o += 1
                continue
            k = it.ndim
            if it.shape != shape[d:d + k]:
                raise IndexError(f"The shape of the mask {list(it.shape)} at index {d} does not match the shape of "
                                 f"the indexed tensor {list(shape[d:d + k])} at index {d}")
            basic += [slice(None)] * k
            for j, nz in enumerate(xp.nonzero(it)):
                adv.append((o + j, nz))
            d += k
            o += k
        else:
            _check_bounds(it, shape[d], d)
            arrays += 1
            basic.append(slice(None))
            adv.append((o, it))
            d += 1
            o += 1
    basic.append(Ellipsis)  # numpy then returns a 0-d view, never a scalar copy
    if not adv:
        return tuple(basic), None, True
    if len(adv) > 1:
        try:
            np.broadcast_shapes(*[a.shape for _, a in adv])
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(a.shape)) for _, a in adv)) from None
    key = [slice(None)] * (adv[-1][0] + 1)
    for pos, a in adv:
        key[pos] = a
    return tuple(basic), tuple(key), masks == 1 and arrays == 0


class BasicIndex(Function):
    """Ints, slices, None and Ellipsis: a view of the input."""
    is_view = True

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.key]

    def backward(self, g):
        z = array_module(g).zeros(self.in_shape, g.dtype)
        z[self.key] = g
        return z


class AdvancedIndex(Function):
    """Integer arrays / masks: a copy; backward accumulates repeated positions."""

    def __init__(self, key, unique):
        self.key, self.unique = key, unique

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.key]

    def backward(self, g):
        z = array_module(g).zeros(self.in_shape, g.dtype)
        if self.unique:
            z[self.key] = g
        else:
            add_at(z, self.key, g)
        return z


def getitem(self, index):
    basic, adv, unique = _parse(self._data, index)
    if adv is None:
        return BasicIndex(basic).apply(self)
    if len(basic) > 1 and any(b is not Ellipsis and b != slice(None) for b in basic):
        self = BasicIndex(basic).apply(self)
    return AdvancedIndex(adv, unique).apply(self)


# ----------------------------------------------------------------------------------------------------------------
# x[index] = value, index_put
# ----------------------------------------------------------------------------------------------------------------


def _write(a, basic, adv, v, accumulate=False):
    target = a[basic]
    if adv is None:
        if accumulate:
            target += v
        else:
            target[...] = v
    elif accumulate:
        add_at(target, adv, v)
    else:
        target[adv] = v


def _picked(a, basic, adv):
    target = a[basic]
    return target if adv is None else target[adv]


class IndexPut(Function):
    """Out of place ``x[index] = v`` (or ``+= v`` with ``accumulate``): grad to x is g with the written
    positions zeroed (kept when accumulating); grad to v is g at those positions, summed to v's shape."""

    def __init__(self, basic, adv, accumulate=False):
        self.basic, self.adv, self.accumulate = basic, adv, accumulate

    def forward(self, x, v):
        out = x.copy()
        if hasattr(v, "dtype"):
            self.v_shape, self.v_dtype = v.shape, v.dtype
            v = v.astype(x.dtype, copy=False)
        _write(out, self.basic, self.adv, v, self.accumulate)
        return out

    def backward(self, g):
        need = self.needs_input_grad
        gx = gv = None
        if need[0]:
            if self.accumulate:
                gx = g
            else:
                gx = g.copy()
                _write(gx, self.basic, self.adv, 0)
        if need[1]:
            gv = _picked(g, self.basic, self.adv)
            extra = len(self.v_shape) - gv.ndim
            if extra > 0:
                gv = gv.reshape((1,) * extra + gv.shape)
            gv = unbroadcast(gv, self.v_shape).astype(self.v_dtype, copy=False)
        return gx, gv


def _value(self, value, op):
    """A number, or a Tensor on self's device (a 0-d cpu tensor may be written into a cuda tensor)."""
    if isinstance(value, Tensor):
        if type(value._data) is not type(self._data):
            if value._data.ndim == 0 and value.is_cpu and not value._requires_grad:
                return value.item()
            raise RuntimeError(f"{op}: expected the value on device {self.device}, got {value.device}")
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return Tensor._make(array_module(self._data).asarray(np.asarray(value)))
    raise TypeError(f"{op}: can't assign a {type(value).__name__} to a tensor")


def _writeable(a):
    """False for read-only NumPy arrays and for expanded (stride-0) views, whose elements alias."""
    if not getattr(a.flags, "writeable", True):
        return False
    return not any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def _put(self, basic, adv, value, accumulate, op):
    value = _value(self, value, op)
    if _mode.grad_enabled and self._view is not None and self._view[2] != self._vc[0]:
        refresh_view(self)
    recording = _mode.grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    self._check_inplace()
    d = self._data
    if not _writeable(d):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (an expanded view or a read-only array); clone() it first")
    if recording:
        return record_inplace(self, lambda src: IndexPut(basic, adv, accumulate).apply(src, value), op,
                              snapshot=False)
    v = value._data.astype(d.dtype, copy=False) if isinstance(value, Tensor) else value
    try:
        _write(d, basic, adv, v, accumulate)
    except ValueError as e:
        shape = list(_picked(d, basic, adv).shape)
        raise RuntimeError(f"{op}: shape mismatch: value of shape {list(getattr(v, 'shape', ()))} cannot be "
                           f"broadcast to indexing result of shape {shape} ({e})") from None
    self._vc[0] += 1
    return self


def setitem(self, index, value):
    basic, adv, _ = _parse(self._data, index)
    _put(self, basic, adv, value, False, "__setitem__")


def index_put(input, indices, values, accumulate=False):
    """``input[indices] = values`` (``+=`` with ``accumulate``, repeated positions adding up), out of place."""
    basic, adv, _ = _parse(input._data, tuple(indices))
    values = _value(input, values, "index_put")
    return IndexPut(basic, adv, accumulate).apply(input, values)


def index_put_(input, indices, values, accumulate=False):
    basic, adv, _ = _parse(input._data, tuple(indices))
    return _put(input, basic, adv, values, accumulate, "index_put_")


# ----------------------------------------------------------------------------------------------------------------
# gather / scatter
# ----------------------------------------------------------------------------------------------------------------


def _gather_checks(input, dim, index, op, src=None):
    """Validate a gather/scatter index (same ndim as input and src, not larger than them, in range);
    returns the wrapped dim and the index array (1-D for a 0-d input)."""
    x = input._data
    idx = _index_tensor(index, input, op)
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(index {list(idx.shape)}, input {list(x.shape)})")
    if src is not None and src._data.ndim != x.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as src tensor "
                           f"(index {list(idx.shape)}, src {list(src._data.shape)})")
    for i, n in enumerate(idx.shape):
        if (i != d and n > x.shape[i]) or (src is not None and n > src._data.shape[i]):
            raise RuntimeError(f"{op}(): Expected index {list(idx.shape)} to be smaller than self {list(x.shape)} "
                               f"apart from dimension {d}" + ("" if src is None else
                               f" and to be smaller size than src {list(src._data.shape)}"))
    _check_bounds(idx, (x.shape or (1,))[d], d, negative_ok=False)
    return d, idx.reshape(1) if x.ndim == 0 else idx


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0): pick along ``dim`` at the given indices."""
    if out is not None:
        raise NotImplementedError("gather: the out= argument is not supported by zoo")
    d, idx = _gather_checks(input, dim, index, "gather")
    if input._data.ndim == 0:
        return Gather(0, idx).apply(input.reshape(1)).reshape(())
    return Gather(d, idx).apply(input)


def take_along_dim(input, indices, dim=None, *, out=None):
    """Pick along ``dim`` (broadcasting the other dims), or from the flattened tensor when ``dim`` is None."""
    if dim is None:
        return take(input, indices)
    x, idx = input._data, indices._data
    nd = x.ndim
    if idx.ndim != nd:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, but got "
                           f"{nd} dimensions for input, and {idx.ndim} dimensions for indices")
    d = wrap_dim(dim, nd)
    try:
        rest = np.broadcast_shapes(x.shape[:d] + x.shape[d + 1:], idx.shape[:d] + idx.shape[d + 1:])
    except ValueError:
        raise RuntimeError(f"take_along_dim(): input {list(x.shape)} and indices {list(idx.shape)} don't broadcast "
                           f"apart from dimension {d}") from None
    from .shape import expand
    input = expand(input, rest[:d] + (x.shape[d],) + rest[d:])
    indices = expand(indices, rest[:d] + (idx.shape[d],) + rest[d:])
    return gather(input, d, indices)


class Scatter(Function):
    """``out = x; out[along_dim(index)] = src`` (or ``+=`` with ``add``)."""

    def __init__(self, dim, index, add):
        self.dim, self.index, self.add = dim, index, add

    def forward(self, x, src):
        out = x.copy()
        key = along_dim(self.index, self.dim)
        if not isinstance(src, (bool, int, float)):
            self.src_shape = src.shape
            src = src[tuple(slice(0, n) for n in self.index.shape)]
        if self.add:
            add_at(out, key, src)
        else:
            out[key] = src
        return out

    def backward(self, g):
        need = self.needs_input_grad
        key = along_dim(self.index, self.dim)
        gx = gs = None
        if need[0]:
            gx = g
            if not self.add:
                gx = g.copy()
                gx[key] = 0
        if need[1]:
            gs = array_module(g).zeros(self.src_shape, g.dtype)
            gs[tuple(slice(0, n) for n in self.index.shape)] = g[key]
        return gx, gs


def _scatter(input, dim, index, src, add, op):
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {input.dtype.name} and "
                               f"{src.dtype.name})")
        if type(src._data) is not type(input._data):
            raise RuntimeError(f"{op}(): expected src on device {input.device}, got {src.device}")
        d, idx = _gather_checks(input, dim, index, op, src)
    elif isinstance(src, (bool, int, float, np.number, np.bool_)):
        d, idx = _gather_checks(input, dim, index, op)
        src = src.item() if isinstance(src, np.generic) else src
    else:
        raise TypeError(f"{op}(): src must be a Tensor or a number, got {type(src).__name__}")
    if input._data.ndim == 0:
        return Scatter(0, idx, add).apply(input.reshape(1), src.reshape(1) if isinstance(src, Tensor) else
                                          src).reshape(())
    return Scatter(d, idx, add).apply(input, src)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Write ``src`` (a tensor, or the number ``value``) into a copy of ``input`` at ``index`` along ``dim``."""
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of 'src' and 'value'")
    if reduce is not None:
        if reduce == "add":
            return _scatter(input, dim, index, src if src is not None else value, True, "scatter")
        if reduce == "multiply":
            raise NotImplementedError("scatter(reduce='multiply') is not supported by zoo")
        raise RuntimeError(f"scatter(): reduce argument must be either 'add' or 'multiply', got '{reduce}'")
    return _scatter(input, dim, index, src if src is not None else value, False, "scatter")


def scatter_add(input, dim, index, src):
    """Add ``src`` into a copy of ``input`` at ``index`` along ``dim``; repeated indices accumulate."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be a Tensor, not {type(src).__name__}")
    return _scatter(input, dim, index, src, True, "scatter_add")


class ScatterMean(Function):
    """scatter_reduce(reduce='mean'): each written position becomes the mean of its contributions (and of the
    input value when ``include_self``)."""

    def __init__(self, dim, index, include_self):
        self.dim, self.index, self.include_self = dim, index, include_self

    def forward(self, x, src):
        xp = array_module(x)
        key = along_dim(self.index, self.dim)
        self.src_shape = src.shape
        src = src[tuple(slice(0, n) for n in self.index.shape)]
        total = x.copy() if self.include_self else xp.where(self._touched(xp, x.shape), 0, x).astype(x.dtype)
        count = xp.ones(x.shape, x.dtype) if self.include_self else xp.zeros(x.shape, x.dtype)
        add_at(total, key, src)
        add_at(count, key, xp.ones(src.shape, x.dtype))
        self.count = xp.where(count == 0, 1, count).astype(x.dtype)
        if x.dtype.kind == "f":
            return total / self.count
        return total // self.count

    def _touched(self, xp, shape):
        t = xp.zeros(shape, bool)
        t[along_dim(self.index, self.dim)] = True
        return t

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        gc = g / self.count
        gx = gs = None
        if need[0]:
            gx = gc if self.include_self else xp.where(self._touched(xp, g.shape), 0, g).astype(g.dtype)
        if need[1]:
            gs = xp.zeros(self.src_shape, g.dtype)
            gs[tuple(slice(0, n) for n in self.index.shape)] = gc[along_dim(self.index, self.dim)]
        return gx, gs


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into a copy of ``input`` at ``index`` along ``dim`` (reduce 'sum' or 'mean')."""
    if reduce == "sum":
        if include_self:
            return scatter_add(input, dim, index, src)
        d, idx = _gather_checks(input, dim, index, "scatter_reduce", src)
        return scatter_add(scatter(input, d, index, value=0), d, index, src)
    if reduce == "mean":
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype (got "
                               f"{input.dtype.name} and {src.dtype.name})")
        d, idx = _gather_checks(input, dim, index, "scatter_reduce", src)
        if input._data.ndim == 0:
            return ScatterMean(0, idx, include_self).apply(input.reshape(1), src.reshape(1)).reshape(())
        return ScatterMean(d, idx, include_self).apply(input, src)
    if reduce in ("prod", "amax", "amin"):
        raise NotImplementedError(f"scatter_reduce(reduce='{reduce}') is not supported by zoo ('sum' and 'mean' are)")
    raise RuntimeError(f"scatter_reduce(): reduce argument must be one of 'sum', 'prod', 'mean', 'amax', 'amin', "
                       f"got '{reduce}'")


# ----------------------------------------------------------------------------------------------------------------
# index_select / index_add / take
# ----------------------------------------------------------------------------------------------------------------


def _vector_index(input, dim, index, op):
    idx = _index_tensor(index, input, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {list(idx.shape)}")
    idx = idx.reshape(-1)
    shape = input._data.shape or (1,)
    d = wrap_dim(dim, len(shape))
    _check_bounds(idx, shape[d], d, negative_ok=False)
    return d, idx


class IndexSelect(Function):
    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x.shape
        return array_module(x).take(x, self.index, axis=self.dim)

    def backward(self, g):
        z = array_module(g).zeros(self.in_shape, g.dtype)
        add_at(z, (slice(None),) * self.dim + (self.index,), g)
        return z


def index_select(input, dim, index, *, out=None):
    """The slices ``index`` (a vector) along ``dim``."""
    if out is not None:
        raise NotImplementedError("index_select: the out= argument is not supported by zoo")
    d, idx = _vector_index(input, dim, index, "index_select")
    if input._data.ndim == 0:
        return IndexSelect(0, idx).apply(input.reshape(1)).reshape(())
    return IndexSelect(d, idx).apply(input)


class IndexAdd(Function):
    def __init__(self, dim, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha

    def forward(self, x, src):
        out = x.copy()
        add_at(out, (slice(None),) * self.dim + (self.index,), src if self.alpha == 1 else src * self.alpha)
        return out

    def backward(self, g):
        gs = None
        if self.needs_input_grad[1]:
            gs = array_module(g).take(g, self.index, axis=self.dim)
            if self.alpha != 1:
                gs = gs * self.alpha
        return g, gs


def index_add(input, dim, index, source, *, alpha=1):
    """Add the slices of ``source`` into a copy of ``input`` at ``index`` along ``dim`` (repeats accumulate)."""
    d, idx = _vector_index(input, dim, index, "index_add")
    x, s = input._data, source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f"index_add(): self ({input.dtype.name}) and source ({source.dtype.name}) must have the "
                           f"same scalar type")
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1:] if x.ndim else (idx.size,)
    if (s.shape or (1,)) != want:
        raise RuntimeError(f"index_add(): source of shape {list(s.shape)} does not match self {list(x.shape)} with "
                           f"dimension {d} of size {idx.size} (the index length)")
    if x.ndim == 0:
        return IndexAdd(0, idx, alpha).apply(input.reshape(1), source.reshape(1)).reshape(())
    return IndexAdd(d, idx, alpha).apply(input, source)


class Take(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(-1)[self.index]

    def backward(self, g):
        z = array_module(g).zeros(int(np.prod(self.in_shape)), g.dtype)
        add_at(z, self.index, g)
        return z.reshape(self.in_shape)


def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (result shaped like ``index``)."""
    idx = _index_tensor(index, input, "take")
    n = input._data.size
    if idx.size and bool(((idx < -n) | (idx >= n)).any()):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"take(): out of range: tried to access index {int(bad)} on a tensor of {n} elements.")
    return Take(idx).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# masks
# ----------------------------------------------------------------------------------------------------------------


def _mask(mask, input, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be a Tensor, not {type(mask).__name__}")
    m = mask._data
    if m.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask.dtype.name}")
    if type(m) is not type(input._data):
        raise RuntimeError(f"{op}(): expected mask and input on the same device, got {mask.device} and "
                           f"{input.device}")
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"{op}(): the shape of the mask {list(m.shape)} must be broadcastable with the shape of "
                           f"the input {list(input._data.shape)}") from None
    return m, shape


class MaskedFill(Function):
    def __init__(self, mask):
        self.mask = mask

    def forward(self, x, v):
        self.x_shape = x.shape
        if hasattr(v, "dtype"):
            self.v_dtype = v.dtype
            v = v.astype(x.dtype)
        else:
            v = x.dtype.type(v)
        return array_module(x).where(self.mask, v, x)

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        zero = g.dtype.type(0)
        gx = unbroadcast(xp.where(self.mask, zero, g), self.x_shape) if need[0] else None
        gv = xp.asarray(xp.where(self.mask, g, zero).sum()).astype(self.v_dtype) if need[1] else None
        return gx, gv


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, ``input`` elsewhere (``value``: a number or a 0-d tensor)."""
    m, _ = _mask(mask, input, "masked_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if type(value._data) is not type(input._data):
            value = value.item()
    elif not isinstance(value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"masked_fill(): value must be a number or a 0-d Tensor, not {type(value).__name__}")
    return MaskedFill(m).apply(input, value)


class MaskedSelect(Function):
    def __init__(self, mask, shape):
        self.mask, self.shape = mask, shape

    def forward(self, x):
        self.in_shape = x.shape
        xp = array_module(x)
        return xp.broadcast_to(x, self.shape)[xp.broadcast_to(self.mask, self.shape)]

    def backward(self, g):
        xp = array_module(g)
        z = xp.zeros(self.shape, g.dtype)
        z[xp.broadcast_to(self.mask, self.shape)] = g
        return unbroadcast(z, self.in_shape)


def masked_select(input, mask):
    """The elements where (broadcast) ``mask`` is True, as a 1-D tensor."""
    m, shape = _mask(mask, input, "masked_select")
    return MaskedSelect(m, shape).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# nonzero, one_hot
# ----------------------------------------------------------------------------------------------------------------


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of ndim index vectors."""
    d = input._data
    xp = array_module(d)
    if as_tuple:
        return tuple(Tensor._make(a.astype(np.int64, copy=False)) for a in xp.nonzero(d.reshape(-1) if d.ndim == 0
                                                                                       else d))
    if d.ndim == 0:
        return Tensor._make(xp.zeros((int(bool(d != 0)), 0), np.int64))
    return Tensor._make(xp.stack(xp.nonzero(d), axis=1).astype(np.int64, copy=False))


def argwhere(input):
    return nonzero(input)


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) to one-hot rows of length ``num_classes`` (-1: max + 1); int64 result."""
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor (int64), got "
                           f"{tensor.dtype.name}")
    xp = array_module(d)
    if d.size:
        lo, hi = int(d.min()), int(d.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative (got {lo}).")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({hi} >= {num_classes}).")
    elif num_classes == -1:
        raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
    if num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    return Tensor._make((d[..., None] == xp.arange(num_classes)).astype(np.int64))


# ----------------------------------------------------------------------------------------------------------------
# Tensor methods
# ----------------------------------------------------------------------------------------------------------------


def _scatter_method(self, dim, index, src=None, value=None, *, reduce=None):
    return scatter(self, dim, index, src, value=value, reduce=reduce)


_masked_fill_inplace = inplace(masked_fill)


def _masked_fill_(self, mask, value):
    if mask._data.shape != self._data.shape:
        try:
            ok = np.broadcast_shapes(mask._data.shape, self._data.shape) == self._data.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"masked_fill_: the shape of the mask {list(mask._data.shape)} must be "
                               f"broadcastable to the shape of self {list(self._data.shape)}")
    return _masked_fill_inplace(self, mask, value)


TENSOR_METHODS = dict(
    __getitem__=getitem, __setitem__=setitem, index_put=index_put, index_put_=index_put_, gather=gather,
    take_along_dim=take_along_dim, scatter=_scatter_method, scatter_=inplace(_scatter_method),
    scatter_add=scatter_add, scatter_add_=inplace(scatter_add), scatter_reduce=scatter_reduce,
    scatter_reduce_=inplace(scatter_reduce), index_select=index_select, index_add=index_add,
    index_add_=inplace(index_add), take=take, masked_fill=masked_fill, masked_fill_=_masked_fill_,
    masked_select=masked_select, nonzero=nonzero, argwhere=argwhere,
)

__all__ = ["gather", "take_along_dim", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_put", "take", "masked_fill", "masked_select", "nonzero", "argwhere"]
