"""Padding, interpolation (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area) and pixel
(un)shuffle.

Non-constant padding and interpolation are *separable gathers*: along each spatial axis, output position o reads
input positions ``idx[t][o]`` with weights ``w[t][o]`` (T = 1 tap for nearest / padding, 2 for linear, 4 for
cubic). Index and weight tables are tiny and built on the host with PyTorch's formulas (in the input's precision,
as PyTorch does); the data work is one vectorised gather per tap, and backward is the matching index-add.
"""
import math

import numpy as np

from ...autograd.function import Function
from ...device import array_module
from ...tensor import Tensor

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "grid_sample"]

_ALL = slice(None)


def _as_slice(a):
    """``a`` (increasing host ints) as an equivalent slice, or None when it is not an arithmetic progression."""
    if a.size == 1:
        return slice(int(a[0]), int(a[0]) + 1)
    d = np.diff(a)
    if d[0] > 0 and np.all(d == d[0]):
        return slice(int(a[0]), int(a[-1]) + 1, int(d[0]))
    return None


def _split_regular(pos, tgt):
    """Split matched (increasing) position/target arrays into a regular middle (both arithmetic: strided slices)
    and at most two irregular elements on either side (clamped borders): [(pos part, tgt part), ...]."""
    m = pos.size
    for h in range(3):
        for t in range(3):
            if m - h - t >= 2:
                ps, ts = _as_slice(pos[h:m - t]), _as_slice(tgt[h:m - t])
                if ps is not None and ts is not None:
                    parts = [(ps, ts)]
                    if h or t:
                        rest = np.r_[0:h, m - t:m]
                        parts.append((pos[rest], tgt[rest]))
                    return parts
    return [(pos, tgt)]


def index_add(target, axis, idx, vals, skip=None):
    """``target[..., idx[j], ...] += vals[..., j, ...]`` along ``axis``, summing repeated indices.

    ``idx`` is a host (NumPy) int array. The positions are split into passes with distinct targets (the k-th
    occurrence of every index); within a pass, regular stretches become strided slices, so the common cases
    (integer-factor and linear resampling, padding borders) run as a few vectorised slice adds rather than a
    scatter. ``skip`` is a boolean mask of positions already handled by the caller.
    """
    xp = array_module(target)
    pre = (_ALL,) * axis
    keep = np.arange(idx.size) if skip is None else np.flatnonzero(~skip)
    if keep.size == 0:
        return
    order = keep[np.argsort(idx[keep], kind="stable")]
    sidx = idx[order]
    first = np.r_[True, sidx[1:] != sidx[:-1]]
    rank = np.arange(sidx.size) - np.maximum.accumulate(np.where(first, np.arange(sidx.size), 0))
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        by_pos = np.argsort(order[sel], kind="stable")
        pos, tgt = order[sel][by_pos], sidx[sel][by_pos]
        for p, t in _split_regular(pos, tgt):
            v = vals[pre + (p,)] if isinstance(p, slice) else xp.take(vals, xp.asarray(p), axis=axis)
            if isinstance(t, slice):
                target[pre + (t,)] += v
            else:
                target[pre + (xp.asarray(t),)] += v  # distinct targets within a pass: plain fancy add is exact


def _along(w, axis, ndim):
    """A 1-d array shaped to broadcast along ``axis`` of an ndim-d array."""
    shape = [1] * ndim
    shape[axis] = -1
    return w.reshape(shape)


class Resample(Function):
    """y = sum_t w_t * x[idx_t] along each planned axis in turn (a separable linear map); backward applies the
    transposed maps in reverse order. ``plans`` holds (axis, n_in, [idx_t], [w_t] or None, center) per axis;
    ``center`` = (out_start, in_start, length) marks an identity stretch (padding) that backward copies as a
    slice."""

    def __init__(self, plans):
        self.plans = plans

    def forward(self, x):
        xp = array_module(x)
        self.weights = []
        for axis, n_in, idxs, ws, center in self.plans:
            d_w = None if ws is None else [_along(xp.asarray(w.astype(x.dtype)), axis, x.ndim) for w in ws]
            self.weights.append(d_w)
            if d_w is None:
                x = xp.take(x, xp.asarray(idxs[0]), axis=axis)
            else:
                y = xp.take(x, xp.asarray(idxs[0]), axis=axis) * d_w[0]
                for i, w in zip(idxs[1:], d_w[1:]):
                    y += xp.take(x, xp.asarray(i), axis=axis) * w
                x = y
        return x

    def backward(self, g):
        xp = array_module(g)
        for (axis, n_in, idxs, ws, center), d_w in zip(reversed(self.plans), reversed(self.weights)):
            shape = list(g.shape)
            shape[axis] = n_in
            gx = xp.zeros(shape, g.dtype)
            skip = None
            if center is not None:
                o, i, n = center
                pre = (_ALL,) * axis
                gx[pre + (slice(i, i + n),)] = g[pre + (slice(o, o + n),)]
                skip = np.zeros(idxs[0].size, bool)
                skip[o:o + n] = True
            for t, i in enumerate(idxs):
                index_add(gx, axis, i, g if d_w is None else g * d_w[t], skip)
            g = gx
        return g


# ----------------------------------------------------------------------------------------------------------------
# pad
# ----------------------------------------------------------------------------------------------------------------

def _pad_index(mode, n, lo, hi):
    """Source positions (0..n-1) of every output position along one axis for a non-constant pad mode."""
    if mode == "circular":  # PyTorch crops first, then wraps around the cropped part
        a, b = max(-lo, 0), n - max(-hi, 0)
        m = b - a
        return a + (np.arange(n + lo + hi) - max(lo, 0)) % m
    src = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(src, 0, n - 1)
    src = np.abs(src)  # reflect about the first element, then about the last
    return np.where(src > n - 1, 2 * (n - 1) - src, src)


class ConstantPad(Function):
    """Pad with a constant; negative amounts crop."""

    def __init__(self, pads, value):
        self.pads, self.value = pads, value  # pads: per axis (lo, hi) for every axis

    def forward(self, x):
        xp = array_module(x)
        shape = tuple(s + a + b for s, (a, b) in zip(x.shape, self.pads))
        self.src = tuple(slice(max(-a, 0), s - max(-b, 0)) for s, (a, b) in zip(x.shape, self.pads))
        self.dst = tuple(slice(max(a, 0), n - max(b, 0)) for n, (a, b) in zip(shape, self.pads))
        self.x_shape = x.shape
        y = xp.full(shape, self.value, x.dtype) if self.value != 0 else xp.zeros(shape, x.dtype)
        y[self.dst] = x[self.src]
        return y

    def backward(self, g):
        if all(a >= 0 and b >= 0 for a, b in self.pads):
            return g[self.dst]
        gx = array_module(g).zeros(self.x_shape, g.dtype)
        gx[self.src] = g[self.dst]
        return gx


_NON_CONSTANT_DIMS = {1: (2, 3), 2: (3, 4), 3: (4, 5)}


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims; ``pad`` is (last_lo, last_hi, 2nd_last_lo, 2nd_last_hi, ...).

    Modes: 'constant' (with ``value``; negative amounts crop), 'reflect', 'replicate', 'circular'."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected input to be a Tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got pad={pad}")
    npad = len(pad) // 2
    if npad > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} is too large for an input of dimension {input.ndim} "
                           f"(at most {2 * input.ndim})")
    shape = tuple(input.shape)
    pads = [(0, 0)] * (input.ndim - npad) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(npad))]
    if mode == "constant":
        for ax, (s, (a, b)) in enumerate(zip(shape, pads)):
            if s + a + b < 0:
                raise RuntimeError(f"pad: the input size {s} at dim {ax}, plus negative padding {a} and {b}, "
                                   f"gives a negative output size")
        return ConstantPad(pads, 0 if value is None else value).apply(input)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r} (expected 'constant', 'reflect', "
                                  f"'replicate' or 'circular')")
    if value is not None and value != 0:
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take a value argument")
    if npad not in _NON_CONSTANT_DIMS or input.ndim not in _NON_CONSTANT_DIMS[npad]:
        raise NotImplementedError(f"pad: {mode} padding of size {len(pad)} is not supported for a {input.ndim}-D "
                                  f"input (pad sizes 2, 4, 6 need 2-3D, 3-4D, 4-5D inputs)")
    plans = []
    for ax in range(input.ndim - npad, input.ndim):
        n, (a, b) = shape[ax], pads[ax]
        if a == 0 and b == 0:
            continue
        if n == 0:
            raise RuntimeError(f"pad: {mode} padding needs non-empty padded dimensions, got input of size {shape}")
        if mode == "reflect" and (a >= n or b >= n):
            raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension, but "
                               f"got padding ({a}, {b}) at dimension {ax} of input {list(shape)}")
        if n + a + b <= 0 or (mode == "circular" and n - max(-a, 0) - max(-b, 0) <= 0):
            raise RuntimeError(f"pad: padding ({a}, {b}) leaves an empty dimension {ax} of input {list(shape)}")
        if mode == "circular" and max(a, b) > n - max(-a, 0) - max(-b, 0):
            raise RuntimeError(f"pad: circular padding ({a}, {b}) wraps around more than once at dimension {ax} "
                               f"of input {list(shape)}")
        center = (max(a, 0), max(-a, 0), max(0, n - max(-a, 0) - max(-b, 0)))
        plans.append((ax, n, [_pad_index(mode, n, a, b)], None, center))
    if not plans:
        return ConstantPad(pads, 0).apply(input)
    return Resample(plans).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# interpolate
# ----------------------------------------------------------------------------------------------------------------

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_MODE_DIMS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _scale_value(ct, n_in, n_out, scale):
    """PyTorch's compute_scales_value: 1/scale_factor when given, else in/out (in the compute dtype)."""
    if scale is not None and scale > 0:
        return ct(1.0 / scale)
    return ct(n_in) / ct(n_out)


def _nearest_plan(exact, n_in, n_out, scale):
    ct = np.float32  # PyTorch computes nearest indices in single precision
    o = np.arange(n_out)
    if not exact and n_out == n_in:
        return [o]
    if not exact and n_out == 2 * n_in:
        return [o >> 1]
    s = _scale_value(ct, n_in, n_out, scale)
    src = np.floor((o.astype(ct) + ct(0.5)) * s) if exact else np.floor(o.astype(ct) * s)
    return [np.minimum(src.astype(np.int64), n_in - 1)]


def _source_coords(ct, n_in, n_out, scale, align_corners, cubic):
    """PyTorch's area_pixel_compute_source_index for every output position."""
    o = np.arange(n_out).astype(ct)
    if align_corners:
        s = ct(n_in - 1) / ct(n_out - 1) if n_out > 1 else ct(0)
        return o * s
    s = _scale_value(ct, n_in, n_out, scale)
    src = s * (o + ct(0.5)) - ct(0.5)
    return src if cubic else np.maximum(src, ct(0))


def _linear_plan(ct, n_in, n_out, scale, align_corners):
    src = _source_coords(ct, n_in, n_out, scale, align_corners, cubic=False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(ct), ct(0), ct(1))
    i1 = np.minimum(i0 + 1, n_in - 1)
    return [i0, i1], [ct(1) - lam, lam]


def _cubic_plan(ct, n_in, n_out, scale, align_corners):
    A = ct(-0.75)
    src = _source_coords(ct, n_in, n_out, scale, align_corners, cubic=True)
    i = np.floor(src)
    t = src - i
    i = i.astype(np.int64)

    def near(x):  # |x| <= 1
        return ((A + ct(2)) * x - (A + ct(3))) * x * x + ct(1)

    def far(x):  # 1 < |x| < 2
        return ((A * x - ct(5) * A) * x + ct(8) * A) * x - ct(4) * A

    ws = [far(t + ct(1)), near(t), near(ct(1) - t), far(ct(2) - t)]
    idxs = [np.clip(i - 1 + k, 0, n_in - 1) for k in range(4)]
    return idxs, ws


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) ``input`` to ``size`` or by ``scale_factor``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected input to be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (expected one of "
                                  f"{' | '.join(_MODES)})")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: only 3D, 4D and 5D input tensors are supported, got "
                                  f"{input.ndim}D input of size {tuple(input.shape)}")
    nd = input.ndim - 2
    in_size = tuple(input.shape[2:])
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != input.ndim:
        raise NotImplementedError(f"interpolate: got {input.ndim}D input, but {mode} mode needs "
                                  f"{_MODE_DIMS[mode]}D input")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    align_corners = bool(align_corners)
    if antialias:
        if mode in ("bilinear", "bicubic"):
            raise NotImplementedError(f"interpolate: antialias=True ({mode}) is not supported by zoo")
        raise ValueError("interpolate: anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined" if size is not None
                         else "interpolate: either size or scale_factor should be defined")
    scales = [None] * nd
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(out) != nd:
            raise ValueError(f"interpolate: input and output must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(in_size)} and output size of {size}")
        out = tuple(int(o) for o in out)
    else:
        scales = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * nd
        if len(scales) != nd:
            raise ValueError(f"interpolate: input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {list(in_size)} and "
                             f"scale_factor of {scale_factor}")
        scales = [float(s) for s in scales]
        out = tuple(math.floor(float(n) * s) for n, s in zip(in_size, scales))
        if recompute_scale_factor or mode == "area":
            scales = [None] * nd
    if min(in_size) <= 0 or min(out) <= 0:
        raise RuntimeError(f"interpolate: input and output sizes should be greater than 0, but got input "
                           f"{in_size} and output {out}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"interpolate on {input._data.dtype.name} (integer) tensors is not supported")
    if mode == "area":
        from . import pooling
        return getattr(pooling, f"adaptive_avg_pool{nd}d")(input, out)
    ct = np.float64 if input._data.dtype == np.float64 else np.float32
    plans = []
    for j, (n_in, n_out, s) in enumerate(zip(in_size, out, scales)):
        if n_in == n_out and (mode in ("nearest", "linear", "bilinear", "trilinear") or align_corners
                              or s is None or s == 1.0):
            continue  # the identity along this axis (PyTorch's linear kernels skip equal sizes whatever the scale)
        if mode in ("nearest", "nearest-exact"):
            plans.append((2 + j, n_in, _nearest_plan(mode == "nearest-exact", n_in, n_out, s), None, None))
        elif mode == "bicubic":
            plans.append((2 + j, n_in) + _cubic_plan(ct, n_in, n_out, s, align_corners) + (None,))
        else:
            plans.append((2 + j, n_in) + _linear_plan(ct, n_in, n_out, s, align_corners) + (None,))
    return Resample(plans).apply(input) if plans else _Identity().apply(input)


class _Identity(Function):
    """A copy that keeps the graph (interpolating to the same size)."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------------------------------------------------
# pixel_shuffle / pixel_unshuffle: (*, C*r*r, H, W) <-> (*, C, H*r, W*r)
# ----------------------------------------------------------------------------------------------------------------

def _shuffle(x, r):
    lead, (Cr, H, W) = x.shape[:-3], x.shape[-3:]
    C = Cr // (r * r)
    n = len(lead)
    y = x.reshape(lead + (C, r, r, H, W)).transpose(tuple(range(n)) + tuple(n + a for a in (0, 3, 1, 4, 2)))
    return y.reshape(lead + (C, H * r, W * r))


def _unshuffle(x, r):
    lead, (C, Hr, Wr) = x.shape[:-3], x.shape[-3:]
    H, W = Hr // r, Wr // r
    n = len(lead)
    y = x.reshape(lead + (C, H, r, W, r)).transpose(tuple(range(n)) + tuple(n + a for a in (0, 2, 4, 1, 3)))
    return y.reshape(lead + (C * r * r, H, W))


class PixelShuffle(Function):
    def __init__(self, r, inverse):
        self.r, self.inverse = r, inverse

    def forward(self, x):
        return _unshuffle(x, self.r) if self.inverse else _shuffle(x, self.r)

    def backward(self, g):
        return _shuffle(g, self.r) if self.inverse else _unshuffle(g, self.r)


def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C*r^2, H, W) -> (*, C, H*r, W*r) (sub-pixel convolution)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input of size "
                           f"{tuple(input.shape)}")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible by {r * r}")
    return PixelShuffle(r, False).apply(input)


def pixel_unshuffle(input, downscale_factor):
    """Rearrange (*, C, H*r, W*r) -> (*, C*r^2, H, W), the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input of size "
                           f"{tuple(input.shape)}")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    for name, ax in (("height", -2), ("width", -1)):
        if input.shape[ax] % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({ax})={input.shape[ax]} is not divisible by {r}")
    return PixelShuffle(r, True).apply(input)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sampling at arbitrary grid locations is not implemented yet."""
    raise NotImplementedError("grid_sample is not supported by zoo yet")
