"""Sorting and searching: sort, argsort, topk, kthvalue, msort, unique, searchsorted, bucketize (and the
``multinomial`` Tensor method). Values are differentiable: their gradient goes back to the picked positions."""
from collections import namedtuple

import numpy as np

from ..device import array_module
from ..random import multinomial
from ..tensor import Tensor
from ._util import wrap_dim
from .indexing import Gather, along_dim

# the named tuples PyTorch returns (torch.return_types.*)
_Sort = namedtuple("sort", ["values", "indices"])
_Topk = namedtuple("topk", ["values", "indices"])
_Kthvalue = namedtuple("kthvalue", ["values", "indices"])


def _argsort(a, dim, descending):
    """Stable argsort along ``dim``; descending keeps equal elements in their original order and puts NaN
    first (as PyTorch), by sorting the reversed array ascending and reversing back."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")
    n = a.shape[dim]
    idx = xp.argsort(xp.flip(a, dim), axis=dim, kind="stable")
    return (n - 1) - xp.flip(idx, dim)


def _pick(input, dim, idx):
    """(values, indices) tensors for int64 indices ``idx`` along ``dim`` (distinct positions per row)."""
    idx = idx.astype(np.int64, copy=False)
    return Gather(dim, idx, unique=True).apply(input), Tensor._make(idx)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorted values along ``dim`` and the indices they came from (equal elements keep their order)."""
    if out is not None:
        raise NotImplementedError("sort: the out= argument is not supported by zoo")
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        v, i = _pick(input.reshape(1), 0, _argsort(a.reshape(1), 0, descending))
        return _Sort(v.reshape(()), i.reshape(()))
    return _Sort(*_pick(input, d, _argsort(a, d, descending)))


def argsort(input, dim=-1, descending=False, stable=False):
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return Tensor._make(array_module(a).zeros((), np.int64))
    return Tensor._make(_argsort(a, d, descending).astype(np.int64, copy=False))


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) values along ``dim``, in order, and their indices."""
    if out is not None:
        raise NotImplementedError("topk: the out= argument is not supported by zoo")
    a = input._data
    flat = a.ndim == 0
    if flat:
        a, input = a.reshape(1), input.reshape(1)
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, size {n} at dimension {d})")
    xp = array_module(a)
    lead = (slice(None),) * d
    if 0 < k < n:
        # partition so that the k wanted elements come first (or last), then sort only those
        part = xp.argpartition(a, n - k if largest else k - 1, axis=d)
        part = xp.sort(part[lead + ((slice(n - k, None) if largest else slice(0, k)),)], axis=d)  # ties: index order
        order = _argsort(a[along_dim(part, d)], d, largest)
        idx = part[along_dim(order, d)]
    else:
        idx = _argsort(a, d, largest)[lead + (slice(0, k),)]
    values, indices = _pick(input, d, idx)
    if flat:
        values, indices = values.reshape(()), indices.reshape(())
    return _Topk(values, indices)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    if out is not None:
        raise NotImplementedError("kthvalue: the out= argument is not supported by zoo")
    a = input._data
    flat = a.ndim == 0
    if flat:
        a, input = a.reshape(1), input.reshape(1)
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    k = int(k)
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {d} of size {n}")
    part = array_module(a).argpartition(a, k - 1, axis=d)
    values, indices = _pick(input, d, part[(slice(None),) * d + (slice(k - 1, k),)])
    if flat:
        return _Kthvalue(values.reshape(()), indices.reshape(()))
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _Kthvalue(values, indices)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse map and the counts; no gradient."""
    a = input._data
    xp = array_module(a)
    if dim is None:
        res = xp.unique(a.reshape(-1), return_inverse=return_inverse, return_counts=return_counts)
        inverse_shape = a.shape
    else:
        d = wrap_dim(dim, a.ndim)
        res = xp.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=d)
        inverse_shape = (a.shape[d],)
    if not (return_inverse or return_counts):
        return Tensor._make(res)
    out = [Tensor._make(res[0])]
    if return_inverse:
        out.append(Tensor._make(res[1].reshape(inverse_shape).astype(np.int64, copy=False)))
    if return_counts:
        out.append(Tensor._make(res[-1].astype(np.int64, copy=False)))
    return tuple(out)


def _batched_searchsorted(seq, v, right):
    """searchsorted row by row (leading dims matching) without a loop: stably sort each row of values together
    with its boundaries; a value's position there minus its rank among the values counts the boundaries
    before it (boundaries equal to it come after it for 'left', before it for 'right')."""
    xp = array_module(seq)
    dt = np.promote_types(seq.dtype, v.dtype)
    seq, v = seq.astype(dt, copy=False), v.astype(dt, copy=False)
    both = xp.concatenate([seq, v] if right else [v, seq], axis=-1)
    order = xp.argsort(both, axis=-1, kind="stable")
    pos = xp.empty_like(order)
    pos[along_dim(order, order.ndim - 1)] = xp.arange(both.shape[-1])
    pos = pos[..., seq.shape[-1]:] if right else pos[..., :v.shape[-1]]
    vorder = xp.argsort(v, axis=-1, kind="stable")
    rank = xp.empty_like(vorder)
    rank[along_dim(vorder, vorder.ndim - 1)] = xp.arange(v.shape[-1])
    return pos - rank


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``input`` values would be inserted into the (last dim of) ``sorted_sequence``."""
    seq = sorted_sequence._data
    xp = array_module(seq)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got '{side}'")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side of left while "
                               "right was True")
        right = side == "right"
    if isinstance(input, Tensor):
        v = input._data
        if type(v) is not type(seq):
            raise RuntimeError(f"searchsorted(): expected the boundaries and values on the same device, got "
                               f"{sorted_sequence.device} and {input.device}")
    elif isinstance(input, (bool, int, float, np.number)):
        if seq.ndim != 1:
            raise RuntimeError(f"searchsorted(): input value can be a scalar only when boundaries tensor dimension "
                               f"is 1, but we got boundaries tensor dim({seq.ndim})")
        v = xp.asarray(input)
    else:
        raise TypeError(f"searchsorted(): values must be a Tensor or a number, not {type(input).__name__}")
    if seq.ndim == 0:
        raise RuntimeError("searchsorted(): boundaries tensor should have at least 1 dimension")
    if sorter is not None:
        s = sorter._data
        if s.shape != seq.shape or s.dtype.kind not in "iu":
            raise RuntimeError(f"searchsorted(): sorter must be an integer tensor of the boundaries' shape "
                               f"{list(seq.shape)}, got {sorter.dtype.name} of shape {list(s.shape)}")
        seq = xp.take_along_axis(seq, s, axis=-1)
    if seq.ndim == 1:
        out = xp.searchsorted(seq, v, side="right" if right else "left")
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                               f"of boundaries tensor and input value tensor must match, but we got boundaries "
                               f"tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
        out = _batched_searchsorted(seq, v, right)
    return Tensor._make(xp.asarray(out).astype(np.int32 if out_int32 else np.int64, copy=False))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value for 1-D ``boundaries`` (``right=False``: boundaries[i-1] < x <= boundaries[i])."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


TENSOR_METHODS = dict(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, unique=unique,
                      multinomial=multinomial)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "searchsorted", "bucketize"]
