"""Pooling: max, average, adaptive (average / max), Lp, and max-unpooling, in 1, 2 and 3 spatial dims.

Windows are strided views of the padded input (see ``conv.windows``); a max pool copies them once as
(B, C, *out, K) rows and takes the first argmax (NaN wins, like PyTorch), its backward scatters the gradient
to those positions. Indices follow PyTorch: flat positions within each (unpadded) input plane.
"""
import itertools
import math

import numpy as np

from ...autograd import is_grad_enabled
from ...autograd.function import Function
from ...device import array_module
from ...tensor import Tensor
from .conv import crop, ntuple, pad_spatial, scatter_taps, windows

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d"]

_ALL = slice(None)


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices summed (numpy.add.at; cupyx.scatter_add on cuda)."""
    if type(target) is np.ndarray:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def _batched(op, nd, input):
    """(array view as (B, C, *spatial), unbatched?) after checking the input's rank."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got input of "
                           f"size {tuple(input.shape)}")
    if any(s == 0 for s in input.shape[-nd:]):
        raise RuntimeError(f"{op}: expected input with non-empty spatial dimensions, got input of size "
                           f"{tuple(input.shape)}")
    return input.ndim == nd + 1


def _plane_index(coords, in_size):
    """Flat index within an input plane from per-dim coordinates."""
    flat = coords[0]
    for c, n in zip(coords[1:], in_size[1:]):
        flat = flat * n + c
    return flat


def _global_index(xp, indices, n_lead, plane):
    """In-plane indices (*lead, *out) -> flat indices into the whole (*lead, plane) array."""
    lead = indices.shape[:n_lead]
    offsets = xp.arange(0, math.prod(lead) * plane, plane).reshape(lead + (1,) * (indices.ndim - n_lead))
    return (indices + offsets).ravel()


def _out_axis(xp, values, j, nd, extra=0):
    """``values`` (length out_j) shaped to broadcast along output axis j of (*out, *extra)."""
    shape = [1] * (nd + extra)
    shape[j] = -1
    return xp.asarray(values).reshape(shape)


# ----------------------------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------------------------

class _Geometry:
    __slots__ = ("k", "stride", "pad", "dilation", "in_size", "out", "hi")

    def __init__(self, k, stride, pad, dilation, in_size, out):
        self.k, self.stride, self.pad, self.dilation, self.in_size, self.out = k, stride, pad, dilation, in_size, out
        # extra high-side padding so that ceil_mode windows fit
        self.hi = tuple(max(0, (o - 1) * s + d * (kk - 1) + 1 - i - p)
                        for o, s, d, kk, i, p in zip(out, stride, dilation, k, in_size, pad))

    def padded_shape(self, B, C):
        return (B, C) + tuple(i + p + h for i, p, h in zip(self.in_size, self.pad, self.hi))


def _pool_geometry(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    k = ntuple(kernel_size, nd, "kernel_size", op)
    stride = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if min(k) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={k}")
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride must be greater than zero, but got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dilation={dilation}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: padding must be non-negative, but got padding={padding}")
    if any(p > (d * (kk - 1) + 1) // 2 for p, d, kk in zip(padding, dilation, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={padding}, "
                           f"kernel_size={k} and dilation={dilation}")
    in_size = tuple(input.shape[-nd:])
    out = []
    for i, kk, s, p, d in zip(in_size, k, stride, padding, dilation):
        o = (i + 2 * p - d * (kk - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        out.append(o)
    if min(out) < 1:
        raise RuntimeError(f"{op}: given input size {in_size}, the calculated output size {tuple(out)} is too small")
    return _Geometry(k, stride, padding, dilation, in_size, tuple(out))


def _reduce_taps(win, ksize, ufunc):
    """Reduce a (B, C, *kernel, *out) window view over its kernel taps with one in-place ufunc call per tap
    (much faster than a multi-axis reduction over the strided view)."""
    taps = itertools.product(*(range(k) for k in ksize))
    y = win[(_ALL, _ALL) + next(taps)].copy()
    for tap in taps:
        ufunc(y, win[(_ALL, _ALL) + tap], out=y)
    return y


class MaxPoolNd(Function):
    """Max over each window. When indices are needed (backward, return_indices) the windows are copied as rows
    and the first argmax is kept as a flat in-plane index; otherwise a running maximum over the taps suffices."""

    def __init__(self, geo, unbatched, with_indices):
        self.geo, self.unbatched, self.with_indices = geo, unbatched, with_indices

    def forward(self, x):
        geo = self.geo
        if self.unbatched:
            x = x[None]
        xp = array_module(x)
        B, C = x.shape[:2]
        nd = len(geo.k)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xpad = pad_spatial(x, geo.pad, geo.hi, fill)
        if not self.with_indices:  # np.maximum propagates NaN like PyTorch
            y = _reduce_taps(windows(xpad, geo.k, geo.stride, geo.dilation, geo.out), geo.k, xp.maximum)
            return y[0] if self.unbatched else y
        rows = windows(xpad, geo.k, geo.stride, geo.dilation, geo.out, kernel_last=True)
        rows = rows.reshape((B, C) + geo.out + (math.prod(geo.k),))
        tap = rows.argmax(-1)
        y = xp.take_along_axis(rows, tap[..., None], -1)[..., 0]
        # in-plane coordinates of the chosen tap, per spatial dim
        coords, first_valid, pads = [], [], any(geo.pad) or any(geo.hi)
        rest = math.prod(geo.k)
        for j in range(nd):
            rest //= geo.k[j]
            start = np.arange(geo.out[j]) * geo.stride[j] - geo.pad[j]
            t = (tap // rest) % geo.k[j] if rest > 1 else tap % geo.k[j]
            coords.append(_out_axis(xp, start, j, nd) + t * geo.dilation[j])
            if pads:  # first in-bounds tap of each window: where PyTorch points when only padding wins
                skip = -(-np.maximum(-start, 0) // geo.dilation[j])
                first_valid.append(_out_axis(xp, start + skip * geo.dilation[j], j, nd))
        idx = _plane_index(coords, geo.in_size)
        if pads:
            outside = None
            for c, n in zip(coords, geo.in_size):
                o = (c < 0) | (c >= n)
                outside = o if outside is None else outside | o
            idx = xp.where(outside, _plane_index(first_valid, geo.in_size), idx)
        self.indices = idx
        self.x_shape = x.shape
        return y[0] if self.unbatched else y

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        geo = self.geo
        xp = array_module(g)
        B, C = self.x_shape[:2]
        plane = math.prod(geo.in_size)
        gx = xp.zeros(B * C * plane, g.dtype)
        flat = _global_index(xp, self.indices, 2, plane)
        if all(s >= d * (k - 1) + 1 for s, d, k in zip(geo.stride, geo.dilation, geo.k)):
            gx[flat] = g.ravel()  # windows do not overlap: every input receives at most one gradient
        else:
            scatter_add(gx, flat, g.ravel())
        gx = gx.reshape(self.x_shape)
        return gx[0] if self.unbatched else gx


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    unbatched = _batched(op, nd, input)
    if input._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: unsupported input dtype {input._data.dtype.name}")
    geo = _pool_geometry(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    fn = MaxPoolNd(geo, unbatched, return_indices or (input.requires_grad and is_grad_enabled()))
    out = fn.apply(input)
    if return_indices:
        idx = fn.indices[0] if unbatched else fn.indices
        return out, Tensor._make(idx)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling over (N, C, L) or (C, L); indices are positions along L."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling over (N, C, H, W) or (C, H, W); indices are flat positions h * W + w in each plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# ----------------------------------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------------------------------

class AvgPoolNd(Function):
    """Window sums divided by the window size (PyTorch's count_include_pad / divisor_override rules)."""

    def __init__(self, geo, divisor, unbatched):
        self.geo, self.divisor, self.unbatched = geo, divisor, unbatched

    def forward(self, x):
        geo = self.geo
        if self.unbatched:
            x = x[None]
        win = windows(pad_spatial(x, geo.pad, geo.hi), geo.k, geo.stride, geo.dilation, geo.out)
        y = _reduce_taps(win, geo.k, array_module(x).add)
        self.div = _as_array(array_module(x), self.divisor, x.dtype)
        y /= self.div
        self.x_shape = x.shape
        return y[0] if self.unbatched else y

    def backward(self, g):
        geo = self.geo
        if self.unbatched:
            g = g[None]
        xp = array_module(g)
        B, C = self.x_shape[:2]
        gw = g / self.div
        cols = xp.broadcast_to(gw[(_ALL, _ALL) + (None,) * len(geo.k)], (B, C) + geo.k + geo.out)
        gx = crop(scatter_taps(cols, geo.padded_shape(B, C), geo.k, geo.stride, geo.dilation, geo.out),
                  geo.pad, geo.in_size)
        return gx[0] if self.unbatched else gx


def _as_array(xp, divisor, dtype):
    return dtype.type(divisor) if np.isscalar(divisor) else xp.asarray(divisor.astype(dtype))


def _avg_divisor(geo, count_include_pad, divisor_override):
    """The divisor of every output position: an outer product of per-dim window sizes (or the override)."""
    if divisor_override is not None:
        return divisor_override
    nd = len(geo.k)
    div = np.ones((1,) * nd)
    for j in range(nd):
        start = np.arange(geo.out[j]) * geo.stride[j] - geo.pad[j]
        end = np.minimum(start + geo.k[j], geo.in_size[j] + geo.pad[j])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, geo.in_size[j])
        div = div * _out_axis(np, end - start, j, nd)
    return div


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    unbatched = _batched(op, nd, input)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{op} on {input._data.dtype.name} (integer) tensors is not supported by zoo")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    geo = _pool_geometry(op, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    return AvgPoolNd(geo, _avg_divisor(geo, count_include_pad, divisor_override), unbatched).apply(input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling over (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling over (N, C, H, W) or (C, H, W)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ----------------------------------------------------------------------------------------------------------------
# Adaptive pooling: output cell i covers input [floor(i*in/out), ceil((i+1)*in/out)).
# ----------------------------------------------------------------------------------------------------------------

def _adaptive_ranges(n_in, n_out):
    o = np.arange(n_out)
    return (o * n_in) // n_out, ((o + 1) * n_in + n_out - 1) // n_out


def _adaptive_setup(op, nd, input, output_size):
    unbatched = _batched(op, nd, input)
    in_size = tuple(input.shape[-nd:])
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise RuntimeError(f"{op}: output_size must have {nd} elements, got {output_size}")
    out = tuple(i if o is None else int(o) for i, o in zip(in_size, output_size))
    if min(out) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, got {output_size}")
    return unbatched, in_size, out


class AdaptiveAvgPoolNd(Function):
    """Average over adaptive windows: a reshape-mean when every size divides evenly, else one small averaging
    matrix per spatial dim (the op is separable)."""

    def __init__(self, in_size, out, unbatched):
        self.in_size, self.out, self.unbatched = in_size, out, unbatched
        self.even = all(o > 0 and i % o == 0 for i, o in zip(in_size, out))

    def _matrices(self, xp, dtype):
        mats = []
        for i, o in zip(self.in_size, self.out):
            start, end = _adaptive_ranges(i, o)
            cols = np.arange(i)
            m = ((cols >= start[:, None]) & (cols < end[:, None])) / (end - start)[:, None]
            mats.append(xp.asarray(m.astype(dtype)))
        return mats

    def forward(self, x):
        if self.unbatched:
            x = x[None]
        xp = array_module(x)
        nd = len(self.out)
        self.x_shape = x.shape
        if self.even:
            shape = x.shape[:2]
            for i, o in zip(self.in_size, self.out):
                shape += (o, i // o)
            y = x.reshape(shape).mean(axis=tuple(range(3, 3 + 2 * nd, 2)))
        else:
            y = x
            for j, m in enumerate(self._matrices(xp, x.dtype)):  # contract spatial axis j with its matrix
                y = xp.moveaxis(xp.tensordot(y, m, axes=([2 + j], [1])), -1, 2 + j)
            y = xp.ascontiguousarray(y)
        return y[0] if self.unbatched else y

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        xp = array_module(g)
        if self.even:
            ks = [i // o for i, o in zip(self.in_size, self.out)]
            shape, idx = g.shape[:2], (_ALL, _ALL)
            for o, k in zip(self.out, ks):
                shape += (o, k)
                idx += (_ALL, None)
            gx = xp.broadcast_to(g[idx] / g.dtype.type(math.prod(ks)), shape).reshape(self.x_shape)
        else:
            gx = g
            for j, m in enumerate(self._matrices(xp, g.dtype)):
                gx = xp.moveaxis(xp.tensordot(gx, m, axes=([2 + j], [0])), -1, 2 + j)
            gx = xp.ascontiguousarray(gx)
        return gx[0] if self.unbatched else gx


def _adaptive_avg(op, nd, input, output_size):
    unbatched, in_size, out = _adaptive_setup(op, nd, input, output_size)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{op} on {input._data.dtype.name} (integer) tensors is not supported by zoo")
    return AdaptiveAvgPoolNd(in_size, out, unbatched).apply(input)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length (N, C, L) -> (N, C, output_size)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) output; a None entry keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) output; a None entry keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


class AdaptiveMaxPoolNd(Function):
    """Max over adaptive windows: gather every window padded to the largest size (repeating its last
    element), take the first argmax, scatter the gradient back there."""

    def __init__(self, in_size, out, unbatched):
        self.in_size, self.out, self.unbatched = in_size, out, unbatched

    def forward(self, x):
        if self.unbatched:
            x = x[None]
        xp = array_module(x)
        nd = len(self.out)
        B, C = x.shape[:2]
        gather, bounds = (_ALL, _ALL), []
        for j, (i, o) in enumerate(zip(self.in_size, self.out)):
            start, end = _adaptive_ranges(i, o)
            kmax = int((end - start).max()) if o else 1
            pos = np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1)
            shape = [1] * (2 * nd)
            shape[j], shape[nd + j] = o, kmax
            gather += (xp.asarray(pos.reshape(shape)),)
            bounds.append((start, end, kmax))
        rows = x[gather].reshape((B, C) + self.out + (math.prod(b[2] for b in bounds),))
        tap = rows.argmax(-1)
        y = xp.take_along_axis(rows, tap[..., None], -1)[..., 0]
        coords, rest = [], math.prod(b[2] for b in bounds)
        for j, (start, end, kmax) in enumerate(bounds):
            rest //= kmax
            t = (tap // rest) % kmax
            coords.append(xp.minimum(_out_axis(xp, start, j, nd) + t, _out_axis(xp, end - 1, j, nd)))
        self.indices = _plane_index(coords, self.in_size)
        self.x_shape = x.shape
        return y[0] if self.unbatched else y

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        xp = array_module(g)
        B, C = self.x_shape[:2]
        plane = math.prod(self.in_size)
        gx = xp.zeros(B * C * plane, g.dtype)
        flat = _global_index(xp, self.indices, 2, plane)
        scatter_add(gx, flat, g.ravel())
        gx = gx.reshape(self.x_shape)
        return gx[0] if self.unbatched else gx


def _adaptive_max(op, nd, input, output_size, return_indices):
    unbatched, in_size, out = _adaptive_setup(op, nd, input, output_size)
    if input._data.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: unsupported input dtype {input._data.dtype.name}")
    fn = AdaptiveMaxPoolNd(in_size, out, unbatched)
    y = fn.apply(input)
    if return_indices:
        return y, Tensor._make(fn.indices[0] if unbatched else fn.indices)
    return y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W) output; a None entry keeps that input size."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W) output; a None entry keeps that input size."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ----------------------------------------------------------------------------------------------------------------
# Max unpooling: put each value back at its index (the partial inverse of max pooling).
# ----------------------------------------------------------------------------------------------------------------

class MaxUnpoolNd(Function):
    def __init__(self, indices, out):
        self.indices, self.out = indices, out

    def forward(self, x):
        xp = array_module(x)
        lead = x.shape[:-len(self.out)]
        M = math.prod(lead)
        plane = math.prod(self.out)
        self.flat = _global_index(xp, self.indices, len(lead), plane)
        y = xp.zeros(M * plane, x.dtype)
        y[self.flat] = x.ravel()
        self.x_shape = x.shape
        return y.reshape(lead + self.out)

    def backward(self, g):
        return g.ravel()[self.flat].reshape(self.x_shape)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    _batched(op, nd, input)
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected indices to be an integer Tensor (from max_pool{nd}d return_indices=True)")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape {tuple(input.shape)}, got "
                           f"{tuple(indices.shape)}")
    k = ntuple(kernel_size, nd, "kernel_size", op)
    stride = k if stride is None else ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    in_size = tuple(input.shape[-nd:])
    default = tuple((i - 1) * s - 2 * p + kk for i, s, p, kk in zip(in_size, stride, padding, k))
    if output_size is None:
        out = default
    else:
        output_size = tuple(int(o) for o in output_size)
        if len(output_size) == input.ndim:
            output_size = output_size[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"{op}: output_size should have {nd} or {input.ndim} elements, got {output_size}")
        for o, d, s in zip(output_size, default, stride):
            if not d - s < o < d + s:
                raise ValueError(f"{op}: invalid output_size {output_size} (each size must be strictly between "
                                 f"{tuple(a - b for a, b in zip(default, stride))} and "
                                 f"{tuple(a + b for a, b in zip(default, stride))})")
        out = output_size
    idx = indices._data
    plane = math.prod(out)
    if idx.size and bool(((idx < 0) | (idx >= plane)).any()):
        raise RuntimeError(f"{op}: found an invalid max index (output planes have {plane} elements)")
    return MaxUnpoolNd(idx, out).apply(input)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Scatter (N, C, L) values to their max_pool1d indices in a zero (N, C, L_out) tensor."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Scatter (N, C, H, W) values to their max_pool2d indices in a zero (N, C, H_out, W_out) tensor."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Scatter (N, C, D, H, W) values to their max_pool3d indices."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ----------------------------------------------------------------------------------------------------------------
# Lp pooling: (sum over the window of x^p)^(1/p), built from avg pooling like PyTorch.
# ----------------------------------------------------------------------------------------------------------------

def _lp_pool(op, nd, input, norm_type, kernel_size, stride, ceil_mode):
    from ...ops import pointwise as pw
    k = ntuple(kernel_size, nd, "kernel_size", op)
    out = _avg_pool(op, nd, pw.pow(input, norm_type), k, stride, 0, ceil_mode, True, None)
    out = pw.mul(pw.sign(out), pw.relu(pw.abs(out)))
    return pw.pow(pw.mul(out, math.prod(k)), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L): (sum x^p)^(1/p) per window."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W): (sum x^p)^(1/p) per window."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)
