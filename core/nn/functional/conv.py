"""Convolutions (1-d, 2-d, 3-d), transposed convolutions, unfold (im2col) and fold (col2im).

One generic N-d engine serves them all. A convolution is im2col (a strided *view* of the padded input,
``(N, C, *kernel, *out)``, copied once into columns) followed by ONE batched GEMM with the weight; groups are
a batch axis of that GEMM. Its adjoint (the input gradient, and the forward of a transposed convolution) is
either a convolution of the padded gradient with the flipped weight (stride 1) or a GEMM followed by a
col2im scatter-add over the kernel taps (stride > 1). The weight gradient is one GEMM with the columns.
On NumPy, 1x1 kernels without padding skip the columns (one GEMM per sample, straight into the output),
stride-1 convolutions and the adjoints of strided ones skip them too when they have enough channels (one GEMM per
kernel tap on a shifted view of a padded phase grid, accumulating in place through NumPy's BLAS), and depthwise
convolutions (one input channel per group) use per-tap multiply-adds instead of GEMMs (see below).
"""
import contextlib
import functools
import itertools
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ... import _blas
from ... import parallel as helper_process
from ...autograd.function import Function
from ...device import array_module
from ...ops import blockwise
from ...tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "unfold", "fold"]

_ALL = slice(None)


# ----------------------------------------------------------------------------------------------------------------
# Window helpers (shared with pooling.py): strided views, padding, im2col and its adjoint.
# ----------------------------------------------------------------------------------------------------------------

def ntuple(value, n, name, op):
    """``value`` as an n-tuple of ints (an int or a 1-element sequence is repeated), like PyTorch's _ntuple."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        t = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: expected {name} to be an int or a tuple of {n} ints, got {value!r}") from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match "
                           f"the {n}-d spatial dimensions, but got {name}={list(t)}")
    return t


def windows(x, ksize, stride, dilation, out, kernel_last=False):
    """A strided view of ``x`` (B, C, *spatial): element ``[b, c, *i, *o]`` is ``x[b, c, o*stride + i*dilation]``
    (kernel axes after the output axes when ``kernel_last``). No copy."""
    st = x.strides[2:]
    k_shape = tuple(ksize)
    k_strides = tuple(a * d for a, d in zip(st, dilation))
    o_strides = tuple(a * s for a, s in zip(st, stride))
    if kernel_last:
        shape, strides = tuple(out) + k_shape, o_strides + k_strides
    else:
        shape, strides = k_shape + tuple(out), k_strides + o_strides
    xp = array_module(x)
    return xp.lib.stride_tricks.as_strided(x, x.shape[:2] + shape, x.strides[:2] + strides)


def pad_spatial(x, lo, hi, value=0):
    """``x`` (B, C, *spatial) padded by ``lo``/``hi`` per spatial dim with ``value``; a negative amount crops.
    Returns ``x`` itself when nothing changes."""
    if not any(lo) and not any(hi):
        return x
    if min(lo) < 0 or min(hi) < 0:
        x = x[(_ALL, _ALL) + tuple(slice(max(-a, 0), s - max(-b, 0)) for a, b, s in zip(lo, hi, x.shape[2:]))]
        lo, hi = [max(a, 0) for a in lo], [max(b, 0) for b in hi]
        if not any(lo) and not any(hi):
            return x
    xp = array_module(x)
    shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    buf = xp.zeros(shape, x.dtype) if value == 0 else xp.full(shape, value, x.dtype)
    buf[(_ALL, _ALL) + tuple(slice(a, a + s) for a, s in zip(lo, x.shape[2:]))] = x
    return buf


def tap_slices(tap, stride, dilation, out):
    """The slices of a padded input read by kernel tap ``tap`` at every output position."""
    return (_ALL, _ALL) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                                for t, d, s, o in zip(tap, dilation, stride, out))


def scatter_taps(cols, padded_shape, ksize, stride, dilation, out):
    """Adjoint of ``windows``: sum ``cols`` (B, C, *kernel, *out) into a zero (B, C, *padded) array, one
    vectorised strided add per kernel tap."""
    xp = array_module(cols)
    buf = xp.zeros(padded_shape, cols.dtype)
    if cols.size:
        for tap in itertools.product(*(range(k) for k in ksize)):
            buf[tap_slices(tap, stride, dilation, out)] += cols[(_ALL, _ALL) + tap]
    return buf


def crop(buf, lo, size):
    """The (B, C, *size) region of ``buf`` starting at ``lo`` (a view)."""
    if not any(lo) and buf.shape[2:] == tuple(size):
        return buf
    return buf[(_ALL, _ALL) + tuple(slice(a, a + s) for a, s in zip(lo, size))]


class _Geometry:
    """Where a convolution's windows sit: kernel, stride, dilation, padding (lo, hi) and both spatial sizes."""
    __slots__ = ("k", "stride", "dilation", "lo", "hi", "in_size", "out_size")

    def __init__(self, k, stride, dilation, lo, hi, in_size, out_size):
        self.k, self.stride, self.dilation = k, stride, dilation
        self.lo, self.hi, self.in_size, self.out_size = lo, hi, in_size, out_size

    def padded(self):
        return tuple(s + a + b for s, a, b in zip(self.in_size, self.lo, self.hi))


def im2col(x, geo):
    """Columns (B, C*K, L) of ``x`` (B, C, *in): one copy (none for an unpadded 1x1 stride-1 kernel)."""
    B, C = x.shape[:2]
    win = windows(pad_spatial(x, geo.lo, geo.hi), geo.k, geo.stride, geo.dilation, geo.out_size)
    return win.reshape(B, C * math.prod(geo.k), math.prod(geo.out_size))


def col2im(cols, channels, geo):
    """Adjoint of ``im2col``: columns (B, C*K, L) summed back into (B, C, *in)."""
    B = cols.shape[0]
    cols = cols.reshape((B, channels) + tuple(geo.k) + tuple(geo.out_size))
    buf = scatter_taps(cols, (B, channels) + geo.padded(), geo.k, geo.stride, geo.dilation, geo.out_size)
    return crop(buf, geo.lo, geo.in_size)


# ----------------------------------------------------------------------------------------------------------------
# The three GEMM kernels of a convolution, on arrays. x: (N, C, *in), w: (Co, C/G, *k), y: (N, Co, *out).
# The batched path (CuPy, groups > 1): one batched GEMM over the samples.
# ----------------------------------------------------------------------------------------------------------------

def _batched_conv(x, w, geo, groups):
    """y = conv(x, w): im2col + one batched GEMM (groups are a batch axis)."""
    N = x.shape[0]
    Co = w.shape[0]
    cols = im2col(x, geo)
    xp = array_module(x)
    if groups == 1:
        y = w.reshape(Co, -1) @ cols
    elif Co == groups:  # depthwise: many 1-row GEMMs are slower than one multiply-reduce
        y = xp.einsum("gk,ngkl->ngl", w.reshape(groups, -1), cols.reshape(N, groups, -1, cols.shape[-1]))
    else:
        y = w.reshape(groups, Co // groups, -1) @ cols.reshape(N, groups, -1, cols.shape[-1])
    return y.reshape((N, Co) + tuple(geo.out_size))


def _batched_conv_input_grad(gy, w, geo, groups):
    """x-gradient of ``_conv`` (the adjoint): gy (N, Co, *out) -> (N, C, *in)."""
    N, Co = gy.shape[:2]
    Cg = w.shape[1]
    if all(s == 1 for s in geo.stride):
        # Stride 1: a convolution of the (padded or cropped) gradient with the flipped, transposed weight.
        return _batched_conv(gy, _flipped(w, groups), _adjoint_geometry(geo), groups)
    # Strided: GEMM to columns, then col2im (one strided add per kernel tap).
    L = math.prod(geo.out_size)
    if groups == 1:
        cols = w.reshape(Co, -1).T @ gy.reshape(N, Co, L)
    else:
        wg = w.reshape(groups, Co // groups, -1).swapaxes(1, 2)
        cols = (wg @ gy.reshape(N, groups, Co // groups, L)).reshape(N, -1, L)
    return col2im(cols, Cg * groups, geo)


def _batched_conv_weight_grad(x, gy, geo, groups, w_shape):
    """w-gradient of ``_conv``: one batched GEMM of the gradient with the (recomputed) columns, summed over N."""
    N, Co = gy.shape[:2]
    cols = im2col(x, geo)
    L = cols.shape[-1]
    if groups == 1:
        gw = gy.reshape(N, Co, L) @ cols.swapaxes(1, 2)
    elif Co == groups:  # depthwise
        xp = array_module(x)
        return xp.einsum("ngl,ngkl->gk", gy.reshape(N, Co, L), cols.reshape(N, groups, -1, L)).reshape(w_shape)
    else:
        gw = gy.reshape(N, groups, Co // groups, L) @ cols.reshape(N, groups, -1, L).swapaxes(2, 3)
    return gw.sum(0).reshape(w_shape)


# ----------------------------------------------------------------------------------------------------------------
# CPU engine (NumPy, groups == 1). The batch is cut into chunks of a few MiB of columns; each chunk is moved
# channel-first and padded, (C, n * prod(padded)), so that ONE GEMM serves the whole chunk (columns indexed by
# sample and position) instead of one small GEMM per sample. The chunks run on zoo's worker threads, each with a
# single-threaded BLAS: many small multi-threaded GEMMs spend more time synchronising than computing, and the
# copies around the GEMMs then run in parallel too. With zoo's helper process on, half of the chunks run there
# instead: each chunk is a module-level kernel, with its arrays (input, weight, output) in the shared arena.
# ----------------------------------------------------------------------------------------------------------------

_CHUNK_BYTES = 3 << 20  # columns per chunk: cache-sized, yet wide enough for an efficient GEMM
_GRID_WASTE = 1.4       # stride 1: compute on the whole input grid while it is at most this much bigger
# The stride-1 weight gradient's per-tap GEMMs are small (BLAS's unpacked kernels): they beat one large GEMM on
# exact columns only while the grid is closer to the output (64 channels at 8x8, a 1.27x grid: columns faster)
_WEIGHT_GRID_WASTE = 1.2
_SMALL_GEMM = 1 << 20   # multiply-adds of a GEMM that BLAS runs without packing (OpenBLAS: about 1e6)
# Stride-1 convolutions and the adjoints of strided ones (input gradients, transposed convolutions) as per-tap
# GEMMs on phase grids (_cpu_conv_taps) when each GEMM has at least this many channels in its inner dimension and
# rows, grid positions (its width) and multiply-adds, and the grid is at most _TAP_WASTE times the output;
# otherwise columns and one GEMM per chunk. (Strided forwards stay on columns: their columns are only about
# (k/s)^d times the input, and per-tap GEMMs measured no faster there.)
_TAP_MIN_CHANNELS = 8
_TAP_MIN_POSITIONS = 2048
_TAP_MIN_WORK = 1 << 22
_TAP_WASTE = 1.4
_TAP_CHUNK_BYTES = 16 << 20  # phase grids + output grid per chunk of samples (weight gradient: input + gradient)
_blas_ctl = [None]


def _blas_controller():
    if _blas_ctl[0] is None:
        from threadpoolctl import ThreadpoolController
        _blas_ctl[0] = ThreadpoolController().select(user_api="blas")
    return _blas_ctl[0]


def run_chunks(n, sample_bytes, fn, *args, chunk_bytes=None, blas=True, parallel=True):
    """``[fn(a, b, *args) for each chunk [a, b) of range(n)]`` with chunks of at most about ``chunk_bytes``
    (default ``_CHUNK_BYTES``; ``sample_bytes`` per sample), in chunk order. With ``parallel``, several chunks run
    on the blockwise threads (with ``blas``, BLAS is made single-threaded meanwhile), as many chunks per thread;
    while the helper process is on, the later half of the chunks runs there instead (for a module-level ``fn``
    whose large arrays lie in the arena; otherwise all here). Shared with normalization.py."""
    if n > 1 and parallel and helper_process.is_enabled():
        bounds = _chunk_bounds(n, sample_bytes, chunk_bytes, 2)
        return [r for part in helper_process.split(_chunk_list, len(bounds), fn, bounds, *args) for r in part]
    pool = blockwise._executor() if n > 1 and parallel else None
    if threading.current_thread().name.startswith("zoo-blockwise"):
        pool = None
    bounds = _chunk_bounds(n, sample_bytes, chunk_bytes, blockwise._pool[1] if pool else 1)
    if not pool or len(bounds) == 1:
        return [fn(a, b, *args) for a, b in bounds]
    results = [None] * len(bounds)
    order = itertools.count()

    def work():
        i = next(order)
        while i < len(bounds):
            results[i] = fn(*bounds[i], *args)
            i = next(order)

    with _blas_controller().limit(limits=1) if blas else contextlib.nullcontext():
        futures = [pool.submit(work) for _ in range(min(blockwise._pool[1], len(bounds)) - 1)]
        try:
            work()
        finally:
            for f in futures:
                f.result()
    return results


def _chunk_bounds(n, sample_bytes, chunk_bytes, workers):
    """Chunks [a, b) of range(n) of at most about ``chunk_bytes``, as many per worker."""
    chunks = -(-n * sample_bytes // (chunk_bytes or _CHUNK_BYTES))
    chunks = min(n, max(1, -(-chunks // workers) * workers))
    return [(n * i // chunks, n * (i + 1) // chunks) for i in range(chunks)]


def _chunk_list(first, last, fn, bounds, *args):
    """Chunks ``first`` to ``last - 1`` of ``bounds``: run_chunks' share of one process."""
    return [fn(a, b, *args) for a, b in bounds[first:last]]


def _scratch(whole):
    """Where a chunk's temporaries go: the helper process's arena when the chunk is the whole batch (its GEMMs
    may then be shared with the helper), else private memory. Either has ``zeros`` and ``empty``."""
    return helper_process if whole else np


def _pack(x, lo, hi):
    """``x`` (n, C, *in) channel-first, zero-padded by ``lo``/``hi`` (negative: cropped) and flattened:
    (C, n * prod(P)), P the padded size."""
    if min(lo) < 0 or min(hi) < 0:
        x = crop(x, [max(-a, 0) for a in lo], [s - max(-a, 0) - max(-b, 0) for s, a, b in zip(x.shape[2:], lo, hi)])
        lo, hi = [max(a, 0) for a in lo], [max(b, 0) for b in hi]
    n, c = x.shape[:2]
    P = tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    m = n * math.prod(P)
    buf = np.zeros((c, m), x.dtype)
    grid = buf.reshape((c, n) + P)
    grid[(_ALL, _ALL) + tuple(slice(a, a + s) for a, s in zip(lo, x.shape[2:]))] = x.swapaxes(0, 1)
    return buf


def _grid_strides(P):
    return [math.prod(P[d + 1:]) for d in range(len(P))]


def _grid_cols(buf, P, geo, m):
    """Stride-1 columns over a chunk's flat input grid (grid shape P, zero slack after its m positions): row
    (c, tap) is the contiguous run ``buf[c, off(tap):off(tap) + m]``. Columns off the output are garbage: the
    caller keeps only the first ``out_size`` positions of each dim."""
    item = buf.itemsize
    tap = tuple(g * d * item for g, d in zip(_grid_strides(P), geo.dilation))
    view = as_strided(buf, (buf.shape[0],) + tuple(geo.k) + (m,), (buf.strides[0],) + tap + (item,))
    return view.reshape(buf.shape[0] * math.prod(geo.k), m)


def _window_cols(buf, n, P, geo):
    """Exact columns (C*K, n*L) of a packed chunk: (c, tap) x (sample, output position)."""
    c = buf.shape[0]
    grid = buf[:, :n * math.prod(P)].reshape((c, n) + P)
    s = grid.strides[2:]
    view = as_strided(grid, (c,) + tuple(geo.k) + (n,) + tuple(geo.out_size),
                      (grid.strides[0],) + tuple(a * d for a, d in zip(s, geo.dilation)) + (grid.strides[1],)
                      + tuple(a * st for a, st in zip(s, geo.stride)))
    return view.reshape(c * math.prod(geo.k), n * math.prod(geo.out_size))


def _pointwise(geo):
    """A 1x1 kernel without padding: the convolution is a GEMM over (C, positions) of each sample."""
    return all(k == 1 for k in geo.k) and not any(geo.lo) and not any(geo.hi)


def _bias_as_weight(C, Co, L):
    """Whether a 1x1 convolution's bias is cheaper as an extra weight column (copying the weight and the input
    with a ones row) than as a pass over the output: expanding layers on large planes."""
    return Co * C + C * L < Co * L


def _per_sample_gemm(a, x3, out3, bias=None):
    """out3[n] = a @ x3[n] (+ bias per row) for every sample, on the worker threads in chunks of samples; the bias
    as a weight column times a row of ones appended to the input where that is cheaper (``_bias_as_weight``)."""
    N, C, L = x3.shape
    augment = bias is not None and _bias_as_weight(C, a.shape[0], N * L)
    if augment:
        a, bias = np.concatenate([a, bias[:, None].astype(a.dtype)], axis=1), None
    run_chunks(N, a.shape[0] * L * out3.itemsize, _per_sample_chunk, helper_process.shared(a),
               helper_process.shared(x3), out3, helper_process.shared(bias))


def _per_sample_chunk(lo, hi, a, x3, out3, bias):
    """Samples [lo, hi) of ``_per_sample_gemm``; ``a`` with one more column than x3 has rows: the bias column."""
    C, single = x3.shape[1], hi - lo == x3.shape[0] == 1
    xs = x3[lo:hi]
    if a.shape[1] > C:
        xs = _scratch(single).empty((hi - lo, C + 1, x3.shape[2]), x3.dtype)
        xs[:, :C] = x3[lo:hi]
        xs[:, C] = 1
    if single:
        _chunk_gemm(a, xs[0], True, out=out3[lo])
    else:
        np.matmul(a, xs, out=out3[lo:hi])
    if bias is not None:
        out3[lo:hi] += bias[:, None]


def channels_last(a):
    """Whether array ``a`` (N, C, *spatial) is stored channels last, (N, *spatial, C) in memory (as PyTorch's
    channels_last memory format): the CPU engines then keep that layout, without transposing copies. Read off
    the strides (this runs for every convolution)."""
    if a.ndim < 3 or a.shape[1] < 2 or a.strides[1] != a.itemsize:
        return False
    expected = a.shape[1] * a.itemsize
    for size, stride in zip(a.shape[:1:-1] + a.shape[:1], a.strides[:1:-1] + a.strides[:1]):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def _to_last(a):
    """(N, C, *spatial) -> the (N, *spatial, C) view."""
    return a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))


def _from_last(a):
    """(N, *spatial, C) -> the (N, C, *spatial) view."""
    return a.transpose((0, a.ndim - 1) + tuple(range(1, a.ndim - 1)))


def _cpu_conv(x, w, geo, bias=None):
    """y = conv(x, w) (+ bias) on NumPy arrays, groups == 1: per chunk, columns + one GEMM (and the bias added to
    the chunk's result while it is in cache). A channels-last input of a 1x1 convolution gives a channels-last
    output from one GEMM (positions x channels)."""
    N, C = x.shape[:2]
    Co, K = w.shape[0], math.prod(geo.k)
    if _pointwise(geo) and x.dtype == w.dtype and all(s == 1 for s in geo.stride) and channels_last(x):
        xl = _to_last(x)
        yl = np.empty(xl.shape[:-1] + (Co,), x.dtype)
        wt = w.reshape(Co, C).T
        if bias is not None and _bias_as_weight(C, Co, yl.size // Co):  # as in _per_sample_gemm
            xa = np.empty((yl.size // Co, C + 1), x.dtype)
            xa[:, :C] = xl.reshape(-1, C)
            xa[:, C] = 1
            np.matmul(xa, np.concatenate([wt, bias[None].astype(wt.dtype)]), out=yl.reshape(-1, Co))
            return _from_last(yl)
        np.matmul(xl.reshape(-1, C), wt, out=yl.reshape(-1, Co))
        if bias is not None:
            yl += bias
        return _from_last(yl)
    if _pointwise(geo) and x.dtype == w.dtype:
        if any(s != 1 for s in geo.stride):
            x = x[(_ALL, _ALL) + tuple(slice(None, None, s) for s in geo.stride)]
        y = helper_process.empty((N, Co) + tuple(geo.out_size), x.dtype)
        _per_sample_gemm(w.reshape(Co, C), x.reshape(N, C, -1), y.reshape(N, Co, -1), bias)
        return y
    out, P = tuple(geo.out_size), geo.padded()
    unit = all(s == 1 for s in geo.stride)
    if unit and _tap_gemms_pay(x, w, C, Co, geo, N):
        return _cpu_conv_taps(x, w, geo, bias)
    ph = _phases(geo, shared=True) if unit else None
    y = helper_process.empty((N, Co) + out, np.result_type(x, w))
    x, w2 = helper_process.shared(x), helper_process.shared(w.reshape(Co, C * K))
    if ph is not None and ph.size <= _GRID_WASTE * math.prod(out):
        run_chunks(N, C * K * ph.size * x.itemsize, _grid_cols_chunk, x, w2, y, geo, helper_process.shared(bias))
    else:
        run_chunks(N, C * K * math.prod(out) * x.itemsize, _window_cols_chunk, x, w2, y, geo,
                   helper_process.shared(bias))
    return y


def _grid_cols_chunk(a, b, x, w2, y, geo, bias):
    """Samples [a, b) of a stride-1 ``_cpu_conv``: columns on the grid (contiguous runs, copied at memory speed),
    one GEMM, the extra positions dropped."""
    ph = _phases(geo, shared=True)
    cols = _grid_cols(_input_grids(ph, x[a:b])[:, 0], ph.Q, geo, (b - a) * ph.size)  # a copy: private memory
    r = _add_bias(_chunk_gemm(w2, cols, b - a == x.shape[0]), bias)
    y[a:b] = r.reshape((w2.shape[0], b - a) + ph.Q)[ph.valid].swapaxes(0, 1)


def _chunk_gemm(w2, cols, whole, out=None):
    """A chunk's GEMM ``w2 @ cols``: for the whole batch (not split by samples), its columns shared with the helper
    process when it is on (``matmul`` copies them into its arena)."""
    if whole:
        return helper_process.matmul(w2, cols, out=out)
    return np.matmul(w2, cols, out=out)


def _window_cols_chunk(a, b, x, w2, y, geo, bias):
    """Samples [a, b) of ``_cpu_conv``: exact columns and one GEMM."""
    cols = _window_cols(_pack(x[a:b], geo.lo, geo.hi), b - a, geo.padded(), geo)  # a copy: private memory
    r = _add_bias(_chunk_gemm(w2, cols, b - a == x.shape[0]), bias)
    y[a:b] = r.reshape((w2.shape[0], b - a) + tuple(geo.out_size)).swapaxes(0, 1)


def _tap_gemms_pay(x, w, inner, rows, geo, n):
    """Whether a convolution (or its adjoint) runs as per-tap GEMMs on phase grids (``_cpu_conv_taps``): BLAS
    reachable for the dtype, GEMMs with at least ``_TAP_MIN_CHANNELS`` channels in their inner dimension and
    their rows, and grids that are wide (``_TAP_MIN_POSITIONS``), not much larger than the output
    (``_TAP_WASTE``) and worth the calls."""
    out, grid = math.prod(geo.out_size), _phases(geo, shared=True).size
    return (x.dtype == w.dtype and min(inner, rows) >= _TAP_MIN_CHANNELS and n * grid >= _TAP_MIN_POSITIONS
            and grid <= _TAP_WASTE * out and w.shape[0] * w.shape[1] * n * grid >= _TAP_MIN_WORK
            and _blas.available(x.dtype))


def _phase_grid_shape(geo):
    """The shape Q of each phase grid (``_Phases``): the output plus the largest tap offset, per dim."""
    return tuple(o + ((k - 1) * d) // s for o, k, d, s in zip(geo.out_size, geo.k, geo.dilation, geo.stride))


def _shared_grid_shape(geo):
    """The phase grid shape when each phase's grids lie one after another in memory (the per-tap engine's
    (channels, phases, samples x grid) layout): a read past the end of a row then lands in the leading zeros of
    the next row (or sample), so neighbouring rows share their padding. A 3x3 kernel with padding 1 gets
    (H+1)(W+1) instead of (H+2)(W+2). Per dim and phase p read by a tap: rows [r0, r1) hold the input values
    that are read, and valid outputs read up to row ``reach`` - 1; the pitch q must hold the outputs and those
    rows, and any read past q must land below the next row's r0. (The depthwise layouts interleave the phases of
    a plane, so they keep ``_phase_grid_shape``.)"""
    Q = []
    for o, k, d, s, lo, n in zip(geo.out_size, geo.k, geo.dilation, geo.stride, geo.lo, geo.in_size):
        q = o
        for p in range(s):
            offs = [(t * d) // s for t in range(k) if (t * d) % s == p]
            if not offs:
                continue
            reach = o + max(offs)                    # one past the last row a valid output reads
            r0 = max(0, -((p - lo) // s))            # first row holding an input value
            r1 = min(reach, -(-(n + lo - p) // s))   # one past the last input row that is read
            q = max(q, r1, reach - r0)
        Q.append(q)
    return tuple(Q)


def _phase_grids(ph, n, channels, dtype, mem=np):
    """Zeroed phase grids of n samples, channels first: (channels, phases, n * grid size + the largest tap
    offset), allocated by ``mem`` (``_scratch``). Tap t of ``ph.taps`` = (i, off) reads or writes
    ``grids[:, i, off:off + n * ph.size]``."""
    return mem.zeros((channels, len(ph.phases), n * ph.size + max(off for _, off in ph.taps)), dtype)


def _phase_view(grids, i, n, ph):
    """Phase ``i`` of ``grids`` as a (channels, n, *Q) view."""
    return grids[:, i, :n * ph.size].reshape((grids.shape[0], n) + ph.Q)


def _input_grids(ph, xc, mem=np):
    """The phase grids of a chunk of samples ``xc`` (n, C, *in), as ``_phase_grids``."""
    n = xc.shape[0]
    grids = _phase_grids(ph, n, xc.shape[1], xc.dtype, mem)
    ph.scatter(lambda i: _phase_view(grids, i, n, ph), xc.swapaxes(0, 1))
    return grids


def _output_grid(ph, gyc, mem=np):
    """A chunk of output gradients ``gyc`` (n, Co, *out) on the (Co, n * grid size) output grid, zero at the
    grid's extra positions; allocated by ``mem`` (``_scratch``)."""
    n, co = gyc.shape[:2]
    g = mem.zeros((co, n * ph.size), gyc.dtype)
    g.reshape((co, n) + ph.Q)[ph.valid] = gyc.swapaxes(0, 1)
    return g


def _cpu_conv_taps(x, w, geo, bias=None):
    """y = conv(x, w) (+ bias) as a sum over kernel taps of W[:, :, tap] @ (a shifted view of one phase grid of
    the padded input): k^d GEMMs that accumulate in place and read the grids where they lie, so no columns are
    copied. A stride s splits the padded input into s^d phase grids (position r·s + p of a dim is element r of
    phase p), on which every tap is a stride-1 shift (see ``_Phases``); stride 1 has one phase, the padded
    input. Neighbouring rows of a grid share their padding (``_shared_grid_shape``). The output is computed on
    the whole grid (its extra positions dropped when copied out), in chunks of samples of about
    ``_TAP_CHUNK_BYTES`` on the worker threads."""
    N, C = x.shape[:2]
    Co, K = w.shape[0], math.prod(geo.k)
    ph = _phases(geo, shared=True)
    per_tap = helper_process.empty((K, Co, C), w.dtype)
    per_tap[...] = np.moveaxis(w.reshape(Co, C, K), 2, 0)
    y = helper_process.empty((N, Co) + tuple(geo.out_size), x.dtype)
    run_chunks(N, (C * len(ph.phases) + Co) * ph.size * x.itemsize, _taps_chunk, helper_process.shared(x), per_tap,
               y, geo, helper_process.shared(bias), chunk_bytes=_TAP_CHUNK_BYTES)
    return y


def _taps_chunk(a, b, x, per_tap, y, geo, bias):
    """Samples [a, b) of ``_cpu_conv_taps``."""
    ph = _phases(geo, shared=True)
    Co, n, m = per_tap.shape[1], b - a, (b - a) * ph.size
    mem = _scratch(n == x.shape[0])
    grids = _input_grids(ph, x[a:b], mem)
    acc = mem.empty((Co, m), x.dtype)
    if bias is not None:
        acc[...] = bias.astype(x.dtype, copy=False)[:, None]
    # a single sample (not split by samples): its output channels are shared with the helper process instead
    helper_process.split(_tap_gemms, Co, per_tap, grids, acc, ph.taps, bias is not None)
    y[a:b] = acc.reshape((Co, n) + ph.Q)[ph.valid].swapaxes(0, 1)


def _tap_gemms(lo, hi, per_tap, grids, acc, taps, accumulate):
    """Rows [lo, hi) of a chunk's per-tap GEMMs: acc[lo:hi] (+)= Σ_t per_tap[t, lo:hi] @ (tap t's view of grids)."""
    m = acc.shape[1]
    for t, (i, off) in enumerate(taps):
        _blas.gemm(per_tap[t, lo:hi], grids[:, i, off:off + m], acc[lo:hi], accumulate=t > 0 or accumulate)


def _cpu_conv_taps_input_grad(gy, w, geo):
    """x-gradient of ``_cpu_conv_taps``, its adjoint: the output gradient on the grid (zero in the extra
    positions), and per tap W[:, :, tap]ᵀ @ that grid added into the tap's shifted view of its phase grid; the
    phase grids then interleave back into the input's shape (padding dropped)."""
    N, Co = gy.shape[:2]
    C, K = w.shape[1], math.prod(geo.k)
    ph = _phases(geo, shared=True)
    per_tap = helper_process.empty((K, C, Co), w.dtype)
    per_tap[...] = np.moveaxis(w.reshape(Co, C, K), 2, 0).swapaxes(1, 2)
    gx = helper_process.empty((N, C) + tuple(geo.in_size), gy.dtype)
    run_chunks(N, (C * len(ph.phases) + Co) * ph.size * gy.itemsize, _taps_input_grad_chunk,
               helper_process.shared(gy), per_tap, gx, geo, chunk_bytes=_TAP_CHUNK_BYTES)
    return gx


def _taps_input_grad_chunk(a, b, gy, per_tap, gx, geo):
    """Samples [a, b) of ``_cpu_conv_taps_input_grad``."""
    ph = _phases(geo, shared=True)
    n, m = b - a, (b - a) * ph.size
    mem = _scratch(n == gy.shape[0])
    g = _output_grid(ph, gy[a:b], mem)
    grids = _phase_grids(ph, n, per_tap.shape[1], gy.dtype, mem)
    # a single sample (not split by samples): its input channels are shared with the helper process instead
    helper_process.split(_tap_gemms_adjoint, per_tap.shape[1], per_tap, g, grids, ph.taps)
    ph.gather(lambda i: _phase_view(grids, i, n, ph), gx[a:b].swapaxes(0, 1))


def _tap_gemms_adjoint(lo, hi, per_tap, g, grids, taps):
    """Rows [lo, hi) of a chunk's adjoint per-tap GEMMs: grids[lo:hi] (tap t's view) += per_tap[t, lo:hi] @ g."""
    m = g.shape[1]
    for t, (i, off) in enumerate(taps):
        _blas.gemm(per_tap[t, lo:hi], g, grids[lo:hi, i, off:off + m], accumulate=True)


def _add_bias(r, bias):
    """A channel-first GEMM result (Co, positions) plus a per-channel bias, in place."""
    if bias is not None:
        r += bias[:, None]
    return r


def _cpu_conv_input_grad(gy, w, geo):
    """x-gradient of ``_cpu_conv`` (the adjoint): a convolution with the flipped weight (stride 1), else per-tap
    GEMMs into phase grids, or a GEMM to columns and a scatter-add of the kernel taps, per chunk."""
    if all(s == 1 for s in geo.stride):
        return _cpu_conv(gy, _flipped(w, 1), _adjoint_geometry(geo))
    N, Co = gy.shape[:2]
    C, K = w.shape[1], math.prod(geo.k)
    if _tap_gemms_pay(gy, w, Co, C, geo, N):
        return _cpu_conv_taps_input_grad(gy, w, geo)
    gx = helper_process.empty((N, C) + tuple(geo.in_size), np.result_type(gy, w))
    run_chunks(N, C * K * math.prod(geo.out_size) * gx.itemsize, _cols_input_grad_chunk, helper_process.shared(gy),
               helper_process.shared(w.reshape(Co, C * K)), gx, geo)
    return gx


def _cols_input_grad_chunk(a, b, gy, w2, gx, geo):
    """Samples [a, b) of a strided ``_cpu_conv_input_grad`` on columns: a GEMM, then a scatter-add of the taps."""
    n, Co, C, out = b - a, w2.shape[0], gx.shape[1], tuple(geo.out_size)
    cols = (w2.T @ gy[a:b].swapaxes(0, 1).reshape(Co, n * math.prod(out))).reshape((C,) + tuple(geo.k) + (n,) + out)
    buf = np.zeros((C, n) + geo.padded(), gx.dtype)
    for tap in itertools.product(*(range(k) for k in geo.k)):
        buf[tap_slices(tap, geo.stride, geo.dilation, out)] += cols[(_ALL,) + tap]
    gx[a:b] = crop(buf, geo.lo, geo.in_size).swapaxes(0, 1)


def _cpu_conv_weight_grad(x, gy, geo, w_shape):
    """w-gradient of ``_cpu_conv``, summed over chunks: per kernel tap, a GEMM of the shifted input grid with
    the gradient on that grid (stride 1, no copy), else exact columns times the gradient."""
    N, C = x.shape[:2]
    Co, K, L = gy.shape[1], math.prod(geo.k), math.prod(geo.out_size)
    if N == 0:
        return np.zeros(w_shape, np.result_type(x, gy))
    x, gy = helper_process.shared(x), helper_process.shared(gy)
    if _pointwise(geo) and all(s == 1 for s in geo.stride) and x.dtype == gy.dtype:
        parts = run_chunks(N, C * L * x.itemsize, _pointwise_weight_grad_chunk, x.reshape(N, C, L),
                           gy.reshape(N, Co, L))
        total = parts[0]
        for p in parts[1:]:
            total += p
        return total.reshape(w_shape)
    ph = _phases(geo, shared=True) if all(s == 1 for s in geo.stride) else None
    if ph is not None and ph.size <= _WEIGHT_GRID_WASTE * L:
        parts = run_chunks(N, (C + Co) * ph.size * x.itemsize, _taps_weight_grad_chunk, x, gy, geo,
                           chunk_bytes=_TAP_CHUNK_BYTES)
    else:
        parts = run_chunks(N, C * K * L * x.itemsize, _exact_weight_grad_chunk, x, gy, geo)
    total = parts[0]
    for p in parts[1:]:
        total += p
    return np.ascontiguousarray(total.T).reshape(w_shape)


def _pointwise_weight_grad_chunk(a, b, x3, g3):
    """Samples [a, b) of a 1x1 stride-1 convolution's weight gradient, (Co, C)."""
    return (g3[a:b] @ x3[a:b].swapaxes(1, 2)).sum(0)


def _exact_weight_grad_chunk(a, b, x, gy, geo):
    """Samples [a, b) of the weight gradient on exact columns, (C*K, Co): the faster GEMM shape."""
    Co = gy.shape[1]
    cols = _window_cols(_pack(x[a:b], geo.lo, geo.hi), b - a, geo.padded(), geo)
    return cols @ gy[a:b].swapaxes(0, 1).reshape(Co, (b - a) * math.prod(geo.out_size)).T


def _taps_weight_grad_chunk(a, b, x, gy, geo):
    """Samples [a, b) of a stride-1 weight gradient, (C*K, Co): the chunk's input grid and gradient grid in two
    large copies (few NumPy calls per thread, so threads seldom wait for each other's GIL), then per-tap GEMMs
    over runs of its samples, each small enough for BLAS's small-matrix kernels (no packing)."""
    ph = _phases(geo, shared=True)
    C, Co, K, item, grid = x.shape[1], gy.shape[1], math.prod(geo.k), x.itemsize, ph.size
    tap_strides = tuple(g * d * item for g, d in zip(_grid_strides(ph.Q), geo.dilation))
    per_gemm = max(1, _SMALL_GEMM // (C * Co * grid))  # samples per GEMM
    buf, g = _input_grids(ph, x[a:b])[:, 0], _output_grid(ph, gy[a:b])
    total = None
    with np.errstate(invalid="ignore"):  # inf * 0 off the grid: detected below
        for s in range(0, b - a, per_gemm):
            j, m = s * grid, (min(s + per_gemm, b - a) - s) * grid
            # every tap's (C, m) shifted view of the packed input at once: one stacked GEMM call
            taps = as_strided(buf[:, j:], tuple(geo.k) + (C, m), tap_strides + (buf.strides[0], item))
            part = np.matmul(taps, g[:, j:j + m].T)  # (*k, C, Co)
            total = part if total is None else np.add(total, part, out=total)
    # positions off the valid grid pair input values with zero gradients: exact unless an input is inf or nan,
    # which then shows in the result; such a chunk is redone with exact columns
    if not np.isfinite(total).all():
        step = max(1, _CHUNK_BYTES // (C * K * math.prod(geo.out_size) * item))
        return sum(_exact_weight_grad_chunk(s, min(s + step, b), x, gy, geo) for s in range(a, b, step))
    return np.moveaxis(total.reshape(K, C, Co), 0, 1).reshape(C * K, Co)


# ----------------------------------------------------------------------------------------------------------------
# CPU depthwise engine (NumPy, one input channel per group: groups == C, any channel multiplier). A GEMM per
# channel would have one row; instead each output plane is a sum over kernel taps of a weight times a shifted
# view of its input plane: k^d vectorised multiply-adds over many planes at once, in cache-sized chunks of
# (sample, channel) planes on the blockwise threads.
#
# Strides become shifts by a polyphase split: padded position r*s + p of a dim is element r of phase p, so tap t
# reads phase (t*d) % s at offset (t*d) // s, and every tap is a stride-1 shift of one phase grid. Each phase
# grid, Q = out + qmax per dim, is stored flat, so a tap's view of a chunk is ONE contiguous run per plane: the
# output is computed on rows of the grid's width (the extra columns are garbage, dropped when copied out), and
# its adjoint scatters on the same runs (with zero gradients in the extra columns).
#
# The forward of small planes skips all that: planes last, every tap of every output position is one strided view
# of the zero-padded input (a regular lattice for any stride and dilation), so each block of output rows is ONE
# einsum, a multiply-add per tap in one C loop.
# ----------------------------------------------------------------------------------------------------------------

_DW_BLOCK = 1 << 16   # output-grid elements per block: a block, its temporary and the inputs it reads stay in L2
_DW_CHUNK = 1 << 18   # output-grid elements per chunk of planes (one task of the worker threads)
_DW_LAST = 1024       # planes with fewer output positions (output-grid runs, in _Phases) use the planes-last layout
# Output elements from which planes-last chunks run on the worker threads. Smaller layers, and the planes-first
# layout (two short NumPy calls per tap), run on one thread: there two threads mostly pass the GIL back and forth
# (EfficientNet-Lite0's depthwise layers: 12.8 ms on one thread at batch 1 against 15.0 on two; at batch 8,
# planes-last layers 1.5-1.8x faster on two, planes-first ones slower).
_DW_PARALLEL = 1 << 19
_DW_HELPER = 1 << 16  # the same for the helper process (no GIL between the two; any layout)


class _Phases:
    """The polyphase layout of a depthwise convolution's input for chunks of n planes: grid shape Q, the phases
    taps read, per tap (phase index, flat offset), and the copies between input and grids.

    Two memory layouts: planes first, (n, phases, size), where a tap's view is a run of Mo elements per plane;
    or planes last, (phases, size, n), where it is ONE contiguous (Mo, n) block and the weights are a row. NumPy
    pays per row of a 2-D operation, so small planes (short runs) use the planes-last layout."""

    def __init__(self, geo, shared=False):
        nd = len(geo.k)
        self.Q = (_shared_grid_shape if shared else _phase_grid_shape)(geo)
        gs = _grid_strides(self.Q)
        phases, self.taps = [], []
        for tap in itertools.product(*(range(k) for k in geo.k)):
            ph = tuple((t * d) % s for t, d, s in zip(tap, geo.dilation, geo.stride))
            if ph not in phases:
                phases.append(ph)
            off = sum(((t * d) // s) * g for t, d, s, g in zip(tap, geo.dilation, geo.stride, gs))
            self.taps.append((phases.index(ph), off))
        self.phases = phases
        self.size = math.prod(self.Q)
        # output grid: the first out[0] rows of the grid (all of its width in the other dims)
        self.Mo = geo.out_size[0] * (self.size // self.Q[0]) if nd else 1
        self.valid = (Ellipsis,) + tuple(slice(0, o) for o in geo.out_size)
        self.slack = max(off for _, off in self.taps) + self.Q[-1]
        # per phase: the (grid, input) slices where the grid holds input values, after any leading dims
        self.copies = []
        for ph in phases:
            g_sl, x_sl = [], []
            for p, s, lo, n, q in zip(ph, geo.stride, geo.lo, geo.in_size, self.Q):
                r0 = max(0, -((p - lo) // s))           # first r with r*s + p - lo >= 0
                r1 = min(q, -(-(n + lo - p) // s))       # last r + 1 with r*s + p - lo < n
                if r1 <= r0:
                    g_sl = None
                    break
                i0 = r0 * s + p - lo
                g_sl.append(slice(r0, r1))
                x_sl.append(slice(i0, i0 + (r1 - r0 - 1) * s + 1, s))
            if g_sl is not None:
                self.copies.append((phases.index(ph), (Ellipsis,) + tuple(g_sl), (Ellipsis,) + tuple(x_sl)))
        # whether the grids hold every input position (a stride beyond the kernel skips some)
        self.covers_input = sum(math.prod(sl.stop - sl.start for sl in g_sl[1:])
                                for _, g_sl, _ in self.copies) == math.prod(geo.in_size)

    @property
    def last(self):
        """Whether the depthwise engines use the planes-last layout (small planes)."""
        return self.Mo < _DW_LAST

    def grids(self, n, dtype):
        """Zeroed phase grids for n planes (flat, with slack)."""
        return np.zeros((len(self.phases) * self.size + self.slack) * n, dtype)

    def phase(self, buf, i, n):
        """Phase ``i`` of the grids ``buf`` as an (n, *Q) view."""
        size = self.size
        if self.last:
            return np.moveaxis(buf[i * size * n:(i + 1) * size * n].reshape(self.Q + (n,)), -1, 0)
        g = buf[:n * len(self.phases) * size].reshape(n, len(self.phases), size)
        return g[:, i].reshape((n,) + self.Q)

    def split(self, xc, dtype):
        """The phase grids of planes ``xc`` (n, *in)."""
        n = xc.shape[0]
        buf = self.grids(n, dtype)
        self.scatter(lambda i: self.phase(buf, i, n), xc)
        return buf

    def merge(self, buf, out):
        """Adjoint of ``split``: the phase grids' values back into planes ``out`` (n, *in)."""
        self.gather(lambda i: self.phase(buf, i, out.shape[0]), out)

    def scatter(self, phase, src):
        """``src`` (..., *in) into zeroed phase grids, ``phase(i)`` giving phase i as a (..., *Q) view."""
        for i, g_sl, x_sl in self.copies:
            phase(i)[g_sl] = src[x_sl]

    def gather(self, phase, dst):
        """Adjoint of ``scatter``: the grids' values into ``dst`` (..., *in), zero where no grid element lies."""
        if not self.covers_input:
            dst[...] = 0
        for i, g_sl, x_sl in self.copies:
            dst[x_sl] = phase(i)[g_sl]

    def blocks(self, n):
        """Ranges [r0, r1) of output-grid positions, each about ``_DW_BLOCK`` elements for n planes."""
        step = max(1, _DW_BLOCK // n)
        return [(r, min(r + step, self.Mo)) for r in range(0, self.Mo, step)]

    def tap_view(self, buf, n, tap, r0, r1):
        """Positions [r0, r1) of tap ``tap``'s shifted run in every plane: (r1 - r0, n) planes last, else
        (n, r1 - r0)."""
        i, off = self.taps[tap]
        start = i * self.size + off + r0
        if self.last:
            return buf[start * n:(start + r1 - r0) * n].reshape(r1 - r0, n)
        item = buf.itemsize
        return as_strided(buf[start:], (n, r1 - r0), (len(self.phases) * self.size * item, item))

    def block(self, a, r0, r1):
        """Positions [r0, r1) of an output-grid array."""
        return a[r0:r1] if self.last else a[:, r0:r1]

    def out_array(self, n, dtype, zero=False):
        return (np.zeros if zero else np.empty)((self.Mo, n) if self.last else (n, self.Mo), dtype)

    def out_planes(self, a):
        """An output-grid array as (n, out[0], *Q[1:]) (a view)."""
        if self.last:
            return np.moveaxis(a.reshape((self.Mo // (self.size // self.Q[0]),) + self.Q[1:] + (a.shape[1],)), -1, 0)
        return a.reshape((a.shape[0], a.shape[1] // (self.size // self.Q[0])) + self.Q[1:])

    def weights(self, wpj):
        """Per-tap weights of n planes, (n, K), as multipliers of ``tap_view``s: a row (n,) planes last, else a
        column (n, 1)."""
        return np.ascontiguousarray(wpj.T) if self.last else wpj.T[:, :, None]

    def grad_grid(self, gyc, dtype):
        """Output gradients (n, *out) on the output grid, zero in the extra columns."""
        g = self.out_array(gyc.shape[0], dtype, zero=True)
        self.out_planes(g)[self.valid] = gyc
        return g


@functools.lru_cache(maxsize=256)
def _cached_phases(k, stride, dilation, lo, hi, in_size, out_size, shared):
    return _Phases(_Geometry(k, stride, dilation, lo, hi, in_size, out_size), shared)


def _phases(geo, shared=False):
    """``_Phases(geo, shared)``, built once per geometry (the engines ask for it on every call; it is read-only)."""
    return _cached_phases(*(tuple(v) for v in (geo.k, geo.stride, geo.dilation, geo.lo, geo.hi, geo.in_size,
                                               geo.out_size)), shared)


def _dw_planes(a, C):
    """(N, C*m, *s) -> (N*C, m, *s) (a view for contiguous arrays)."""
    N, Co = a.shape[:2]
    return a.reshape((N * C, Co // C) + a.shape[2:])


def _dw_weights(w, N, C, dtype):
    """(C*m, 1, *k) -> per plane (N*C, m, K)."""
    m = w.shape[0] // C
    return np.broadcast_to(w.reshape(C, m, -1).astype(dtype, copy=False), (N, C, m, w[0].size)).reshape(N * C, m, -1)


def _dw_parallel(elements, planes_last=True):
    """Whether a depthwise pass over ``elements`` output-grid elements runs its chunks in parallel."""
    if helper_process.is_enabled():
        return elements >= _DW_HELPER
    return planes_last and elements >= _DW_PARALLEL


def _dw_run(lay, n_planes, per_plane, itemsize, fn, *args):
    """run_chunks over the planes of the polyphase depthwise kernels."""
    return run_chunks(n_planes, lay.Mo * per_plane * itemsize, fn, *args,
                      chunk_bytes=(_DW_CHUNK if lay.last else _DW_BLOCK) * itemsize, blas=False,
                      parallel=_dw_parallel(n_planes * lay.Mo * per_plane, lay.last))


def _dw_plane_bias(bias, N, C, m, dtype):
    """Per plane (sample, channel) and multiplier j, the bias of output channel c*m + j: (N*C, m), or None."""
    if bias is None:
        return None
    return helper_process.shared(np.broadcast_to(bias.astype(dtype).reshape(1, C, m), (N, C, m)).reshape(N * C, m))


def _interior(geo):
    """The spatial slices (of the input, of the padded input) where the input lands when padded by ``geo.lo`` /
    ``geo.hi`` (a negative amount crops)."""
    crop_lo = [max(-a, 0) for a in geo.lo]
    src = tuple(slice(c, s - max(-b, 0)) for c, s, b in zip(crop_lo, geo.in_size, geo.hi))
    dst = tuple(slice(max(a, 0), max(a, 0) + s - c - max(-b, 0))
                for a, c, s, b in zip(geo.lo, crop_lo, geo.in_size, geo.hi))
    return src, dst


def _cpu_depthwise_planes_last(x, w, geo, bias=None):
    """``_cpu_depthwise`` for small planes: each chunk of planes is copied once, zero-padded, planes last
    (*padded, n); then for every block of output rows ONE einsum over a strided view (*kernel, *out, n) of it, a
    regular lattice for any stride and dilation, gives the exact output (no phase split, no garbage columns)."""
    N, C = x.shape[:2]
    Co = w.shape[0]
    m = Co // C
    dtype = np.result_type(x, w)
    y = helper_process.empty((N, Co) + tuple(geo.out_size), dtype)
    xs = helper_process.shared(x.reshape((N * C,) + x.shape[2:]))
    wp = helper_process.shared(_dw_weights(w, N, C, dtype))
    n_planes, per_plane = N * C, math.prod(geo.out_size) * m
    run_chunks(n_planes, per_plane * y.itemsize, _dw_planes_last_chunk, xs, _dw_planes(y, C), wp,
               _dw_plane_bias(bias, N, C, m, dtype), geo, chunk_bytes=_DW_CHUNK * y.itemsize, blas=False,
               parallel=_dw_parallel(n_planes * per_plane))
    return y


def _dw_planes_last_chunk(a, b, xs, ys, wp, bp, geo):
    """Planes [a, b) of ``_cpu_depthwise_planes_last``."""
    n, m, nd, dtype = b - a, ys.shape[1], len(geo.k), ys.dtype
    out_size = tuple(geo.out_size)
    kernel, outer = "abcdefgh"[:nd], "stuvwxyz"[:nd]
    subscripts = f"{kernel}{outer}p,{kernel}p->{outer}p"
    src, dst = _interior(geo)
    row = math.prod(out_size[1:])
    padded = np.zeros(geo.padded() + (n,), dtype)
    padded[dst] = np.moveaxis(xs[a:b][(_ALL,) + src], 0, -1)
    item, grid = padded.itemsize, padded.strides[:nd]
    k_strides = tuple(g * d for g, d in zip(grid, geo.dilation))
    o_strides = tuple(g * st for g, st in zip(grid, geo.stride))
    rows = max(1, _DW_BLOCK // (row * n))
    out = np.empty(out_size + (n,), dtype)
    for j in range(m):
        wj = np.ascontiguousarray(wp[a:b, j].T).reshape(tuple(geo.k) + (n,))
        for r0 in range(0, out_size[0], rows):
            r1 = min(r0 + rows, out_size[0])
            view = as_strided(padded[r0 * geo.stride[0]:], tuple(geo.k) + (r1 - r0,) + out_size[1:] + (n,),
                              k_strides + o_strides + (item,))
            o = out[r0:r1]
            np.einsum(subscripts, view, wj, out=o)
            if bp is not None:
                o += bp[a:b, j]
        ys[a:b, j] = np.moveaxis(out, -1, 0)


def _cpu_depthwise_channels_last(x, w, geo, bias=None):
    """``_cpu_depthwise`` of a channels-last input (one weight per channel): the samples are already planes last,
    so the zero-padded copy is a plain block copy, every block of output rows is one einsum over a strided view,
    and the output is channels last too."""
    N, C = x.shape[:2]
    nd = len(geo.k)
    dtype = np.result_type(x, w)
    out_size, P = tuple(geo.out_size), geo.padded()
    xl = _to_last(x)
    src, dst = _interior(geo)
    padded = helper_process.zeros((N,) + P + (C,), dtype)
    padded[(_ALL,) + dst] = xl[(_ALL,) + src]
    yl = helper_process.empty((N,) + out_size + (C,), dtype)
    wk = np.ascontiguousarray(w.reshape(C, -1).T.astype(dtype, copy=False)).reshape(tuple(geo.k) + (C,))
    item, grid = padded.itemsize, padded.strides[1:nd + 1]
    k_strides = tuple(g * d for g, d in zip(grid, geo.dilation))
    o_strides = tuple(g * st for g, st in zip(grid, geo.stride))
    # Unstrided along the last of 2+ dims, (last position, channel) is one contiguous run: einsum's inner loop spans
    # it (weights tiled along it) instead of just the channels, which is short for early, narrow layers.
    merge = nd > 1 and geo.stride[-1] == 1
    inner = out_size[-1] * C if merge else C
    view_shape = tuple(geo.k) + out_size[:-1] + ((inner,) if merge else (out_size[-1], C))
    view_strides = k_strides + (o_strides[:-1] + (item,) if merge else o_strides + (item,))
    if merge:
        wk = np.tile(wk, (1,) * nd + (out_size[-1],))
        bias = None if bias is None else np.tile(bias.astype(dtype), out_size[-1])
    kernel, outer = "abcdefgh"[:nd], "stuvwxyz"[:len(view_shape) - nd - 1]
    subscripts = f"{kernel}{outer}p,{kernel}p->{outer}p"
    yv = yl.reshape((N,) + out_size[:-1] + (inner,)) if merge else yl
    row = math.prod(out_size[1:]) * C
    run_chunks(out_size[0], N * row * item, _dw_channels_last_rows, padded, yv, helper_process.shared(wk),
               None if bias is None else helper_process.shared(bias), geo.stride[0], view_shape, view_strides,
               subscripts, chunk_bytes=N * _DW_BLOCK * item, blas=False, parallel=_dw_parallel(N * out_size[0] * row))
    return _from_last(yl)


def _dw_channels_last_rows(r0, r1, padded, yv, wk, bias, stride, view_shape, view_strides, subscripts):
    """Output rows [r0, r1) of ``_cpu_depthwise_channels_last``, every sample: one einsum over a strided view."""
    nd = wk.ndim - 1
    for n in range(padded.shape[0]):
        view = as_strided(padded[n, r0 * stride:], view_shape[:nd] + (r1 - r0,) + view_shape[nd + 1:], view_strides)
        o = yv[n, r0:r1]
        np.einsum(subscripts, view, wk, out=o)
        if bias is not None:
            o += bias


def _cpu_depthwise(x, w, geo, bias=None):
    """y = conv(x, w) (+ bias) with groups == C (w: (C*m, 1, *k)): channels last or small planes on planes-last
    views, else per-tap multiply-adds on planes-first polyphase grids."""
    if w.shape[0] == x.shape[1] and channels_last(x):
        return _cpu_depthwise_channels_last(x, w, geo, bias)
    if math.prod(geo.out_size) < _DW_LAST:
        return _cpu_depthwise_planes_last(x, w, geo, bias)
    N, C = x.shape[:2]
    Co, K = w.shape[0], math.prod(geo.k)
    m = Co // C
    dtype = np.result_type(x, w)
    lay = _phases(geo)
    y = helper_process.empty((N, Co) + tuple(geo.out_size), dtype)
    xs = helper_process.shared(x.reshape((N * C,) + x.shape[2:]))
    _dw_run(lay, N * C, m, y.itemsize, _dw_chunk, xs, _dw_planes(y, C),
            helper_process.shared(_dw_weights(w, N, C, dtype)), _dw_plane_bias(bias, N, C, m, dtype), geo)
    return y


def _dw_chunk(a, b, xs, ys, wp, bp, geo):
    """Planes [a, b) of ``_cpu_depthwise`` on polyphase grids: per tap, a multiply-add per block of output rows."""
    lay, n, (m, K), dtype = _phases(geo), b - a, wp.shape[1:], ys.dtype
    buf = lay.split(xs[a:b], dtype)
    out = lay.out_array(n, dtype)
    blocks = lay.blocks(n)
    tmp = lay.block(np.empty_like(out), *blocks[0])
    for j in range(m):
        wt = lay.weights(wp[a:b, j])
        b_j = None if bp is None else bp[a:b, j, None]
        for r0, r1 in blocks:
            o, tm = lay.block(out, r0, r1), lay.block(tmp, 0, r1 - r0)
            np.multiply(lay.tap_view(buf, n, 0, r0, r1), wt[0], out=o)
            for t in range(1, K):
                np.multiply(lay.tap_view(buf, n, t, r0, r1), wt[t], out=tm)
                o += tm
            if b_j is not None:
                o += b_j
        ys[a:b, j] = lay.out_planes(out)[lay.valid]


def _cpu_depthwise_input_grad(gy, w, geo, C):
    """x-gradient of ``_cpu_depthwise`` (its adjoint) for C input channels. Unstrided with one weight per channel,
    it is itself a depthwise convolution (of gy, by the reversed kernel), which the forward engine runs; otherwise
    every tap scatter-adds weight x gradient into the phase grids, which are then interleaved back into the input."""
    if w.shape[0] == C and all(s == 1 for s in geo.stride):
        return _cpu_depthwise(gy, _flipped(w, C), _adjoint_geometry(geo))
    N, Co = gy.shape[:2]
    K = math.prod(geo.k)
    m = Co // C
    dtype = np.result_type(gy, w)
    lay = _phases(geo)
    gx = helper_process.empty((N, C) + tuple(geo.in_size), dtype)
    _dw_run(lay, N * C, m, gx.itemsize, _dw_input_grad_chunk, helper_process.shared(_dw_planes(gy, C)),
            gx.reshape((N * C,) + tuple(geo.in_size)), helper_process.shared(_dw_weights(w, N, C, dtype)), geo)
    return gx


def _dw_input_grad_chunk(a, b, gys, gxs, wp, geo):
    """Planes [a, b) of ``_cpu_depthwise_input_grad``: per tap, weight x gradient added into the phase grids."""
    lay, n, (m, K), dtype = _phases(geo), b - a, wp.shape[1:], gxs.dtype
    buf = lay.grids(n, dtype)
    blocks = lay.blocks(n)
    tmp = lay.block(lay.out_array(n, dtype), *blocks[0])
    for j in range(m):
        g = lay.grad_grid(gys[a:b, j], dtype)
        wt = lay.weights(wp[a:b, j])
        for r0, r1 in blocks:
            gb, tm = lay.block(g, r0, r1), lay.block(tmp, 0, r1 - r0)
            for t in range(K):
                np.multiply(gb, wt[t], out=tm)
                v = lay.tap_view(buf, n, t, r0, r1)
                v += tm
    lay.merge(buf, gxs[a:b])


def _cpu_depthwise_weight_grad(x, gy, geo, w_shape):
    """w-gradient of ``_cpu_depthwise``: per tap, a dot product of each plane's gradient with its shifted input
    run, summed over the samples. Extra grid columns pair zero gradients with input values: exact unless an input
    is inf or nan (then that chunk is redone on exact windows)."""
    N, C = x.shape[:2]
    Co, K = w_shape[0], math.prod(geo.k)
    m = Co // C
    dtype = np.result_type(x, gy)
    if N == 0:
        return np.zeros(w_shape, dtype)
    lay = _phases(geo)
    parts = _dw_run(lay, N * C, m, gy.itemsize, _dw_weight_grad_chunk,
                    helper_process.shared(x.reshape((N * C,) + x.shape[2:])), helper_process.shared(_dw_planes(gy, C)),
                    np.dtype(dtype), geo)
    return np.concatenate(parts).reshape(N, Co, K).sum(0).reshape(w_shape)


def _dw_weight_grad_chunk(a, b, xs, gys, dtype, geo):
    """Planes [a, b) of ``_cpu_depthwise_weight_grad``: (planes, m, K)."""
    lay, n, m, K = _phases(geo), b - a, gys.shape[1], math.prod(geo.k)
    sub = "mp,mp->p" if lay.last else "pm,pm->p"
    buf = lay.split(xs[a:b], dtype)
    part = np.empty((n, m, K), dtype)
    for j in range(m):
        g = lay.grad_grid(gys[a:b, j], dtype)
        for t in range(K):
            part[:, j, t] = np.einsum(sub, g, lay.tap_view(buf, n, t, 0, lay.Mo))
    if not np.isfinite(part).all():
        for t, tap in enumerate(itertools.product(*(range(k) for k in geo.k))):
            i, _ = lay.taps[t]
            win = lay.phase(buf, i, n)[(_ALL,) + tuple(
                slice((tt * d) // s, (tt * d) // s + o)
                for tt, d, s, o in zip(tap, geo.dilation, geo.stride, geo.out_size))]
            win = win.reshape(n, -1)
            for j in range(m):
                part[:, j, t] = np.einsum("pm,pm->p", gys[a:b, j].reshape(n, -1), win)
    return part


# ----------------------------------------------------------------------------------------------------------------
# Dispatch: the CPU engine for NumPy arrays without groups, the batched path otherwise.
# ----------------------------------------------------------------------------------------------------------------

def _flipped(w, groups):
    """The weight of the adjoint convolution: (Co, C/G, *k) -> (C, Co/G, *k), in- and out-channels swapped
    within each group and the kernel reversed."""
    Co, Cg = w.shape[:2]
    nd = w.ndim - 2
    wt = w.reshape((groups, Co // groups, Cg) + w.shape[2:]).swapaxes(1, 2)
    wt = wt[(_ALL, _ALL, _ALL) + (slice(None, None, -1),) * nd]
    return wt.reshape((groups * Cg, Co // groups) + w.shape[2:])


def _adjoint_geometry(geo):
    """For stride 1: the geometry of the convolution (of the output gradient, by the flipped weight) that
    gives the input gradient."""
    ext = [d * (k - 1) for d, k in zip(geo.dilation, geo.k)]
    lo = [e - a for e, a in zip(ext, geo.lo)]
    hi = [i + a - o for i, a, o in zip(geo.in_size, geo.lo, geo.out_size)]
    return _Geometry(geo.k, geo.stride, geo.dilation, lo, hi, geo.out_size, geo.in_size)


def _depthwise(groups, w_shape):
    return groups > 1 and w_shape[1] == 1


def _conv(x, w, geo, groups, bias=None):
    """conv(x, w) (+ bias: the CPU engines add it to each chunk of output while it is in cache)."""
    if array_module(x) is np:
        if groups == 1:
            return _cpu_conv(x, w, geo, bias)
        if _depthwise(groups, w.shape):
            return _cpu_depthwise(x, w, geo, bias)
    y = _batched_conv(x, w, geo, groups)
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2))
    return y


def _conv_input_grad(gy, w, geo, groups):
    if array_module(gy) is np:
        if groups == 1:
            return _cpu_conv_input_grad(gy, w, geo)
        if _depthwise(groups, w.shape):
            return _cpu_depthwise_input_grad(gy, w, geo, groups)
    return _batched_conv_input_grad(gy, w, geo, groups)


def _conv_weight_grad(x, gy, geo, groups, w_shape):
    if array_module(x) is np:
        if groups == 1:
            return _cpu_conv_weight_grad(x, gy, geo, w_shape)
        if _depthwise(groups, w_shape):
            return _cpu_depthwise_weight_grad(x, gy, geo, w_shape)
    return _batched_conv_weight_grad(x, gy, geo, groups, w_shape)


def _bias_grad(gy):
    return gy.sum(axis=(0,) + tuple(range(2, gy.ndim)))


class ConvNd(Function):
    """y = conv(x, w) + b. With ``transposed`` the roles swap: y = conv_input_grad(x, w) + b, the adjoint."""
    amp = "low"

    def __init__(self, geo, groups, transposed, unbatched):
        self.geo, self.groups, self.transposed, self.unbatched = geo, groups, transposed, unbatched

    def forward(self, x, w, b=None):
        if self.unbatched:
            x = x[None]
        self.x, self.w = x, w
        self.retain_inputs(0, 1)
        if self.transposed:
            y = _conv_input_grad(x, w, self.geo, self.groups)
            if b is not None:
                y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
        else:
            y = _conv(x, w, self.geo, self.groups, b)
        return y[0] if self.unbatched else y

    def backward(self, gy):
        need = self.needs_input_grad
        if self.unbatched:
            gy = gy[None]
        geo, groups = self.geo, self.groups
        gx = gw = gb = None
        if self.transposed:
            if need[0]:
                gx = _conv(gy, self.w, geo, groups)
            if need[1]:
                gw = _conv_weight_grad(gy, self.x, geo, groups, self.w.shape)
        else:
            if need[0]:
                gx = _conv_input_grad(gy, self.w, geo, groups)
            if need[1]:
                gw = _conv_weight_grad(self.x, gy, geo, groups, self.w.shape)
        if len(need) > 2 and need[2]:
            gb = _bias_grad(gy)
        if gx is not None and self.unbatched:
            gx = gx[0]
        return gx, gw, gb


# ----------------------------------------------------------------------------------------------------------------
# Argument checking and the public functions.
# ----------------------------------------------------------------------------------------------------------------

def _check_common(op, nd, input, weight, bias, transposed):
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got input of "
                           f"size {tuple(input.shape)}")
    if weight.ndim != nd + 2:
        layout = "(in_channels, out_channels/groups, *kernel)" if transposed else \
            "(out_channels, in_channels/groups, *kernel)"
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight {layout}, got weight of size {tuple(weight.shape)}")
    dt = input._data.dtype
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.dtype != dt:
            raise RuntimeError(f"{op}: expected input and {name} to have the same dtype, but got input "
                               f"{dt.name} and {name} {t._data.dtype.name}")
    if dt.kind not in "fiu":
        raise RuntimeError(f"{op}: unsupported input dtype {dt.name}")


def _check_positive(op, name, values, allow_zero=False):
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise RuntimeError(f"{op}: {'negative' if allow_zero else 'non-positive'} {name} is not supported, "
                           f"got {name}={values}")


def _check_bias(op, bias, channels, weight):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{op}: expected bias of shape ({channels},) for weight of size {tuple(weight.shape)}, "
                           f"got bias of size {tuple(bias.shape)}")


def _convnd(op, nd, input, weight, bias, stride, padding, dilation, groups, padding_hi=None):
    """``padding_hi`` (zoo-internal): zeros after each spatial dim when they differ from ``padding`` before it
    (TensorFlow's "SAME" padding of strided convolutions), without padding the input in a separate copy."""
    _check_common(op, nd, input, weight, bias, False)
    args = (op, nd, tuple(input.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape), stride,
            padding, dilation, groups, padding_hi)
    try:
        geo, groups, unbatched = _conv_geometry(*args)  # a model calls each layer with the same arguments
    except TypeError:  # unhashable arguments (lists)
        geo, groups, unbatched = _conv_geometry.__wrapped__(*args)
    fn = ConvNd(geo, groups, False, unbatched)
    return fn.apply(input, weight) if bias is None else fn.apply(input, weight, bias)


@functools.lru_cache(maxsize=512)
def _conv_geometry(op, nd, in_shape, w_shape, b_shape, stride, padding, dilation, groups, padding_hi):
    """The checked arguments of a convolution as (geometry, groups, unbatched); errors name the problem."""
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    groups = int(groups)
    _check_positive(op, "stride", stride)
    _check_positive(op, "dilation", dilation)
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    Co, Cg = w_shape[:2]
    k = tuple(w_shape[2:])
    if Co == 0 or Co % groups:
        raise RuntimeError(f"{op}: expected weight's out_channels (dim 0) to be a positive multiple of "
                           f"groups={groups}, got weight of size {w_shape}")
    unbatched = len(in_shape) == nd + 1
    C = in_shape[0 if unbatched else 1]
    if C != Cg * groups:
        raise RuntimeError(f"{op}: expected input with {Cg * groups} channels (weight {w_shape}, "
                           f"groups={groups}), got {C}")
    if b_shape is not None and b_shape != (Co,):
        raise RuntimeError(f"{op}: expected bias of shape ({Co},) for weight of size {w_shape}, got bias of size "
                           f"{b_shape}")
    in_size = tuple(in_shape[-nd:])
    ext = [d * (kk - 1) for d, kk in zip(dilation, k)]
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions "
                                   f"(stride={stride})")
            lo = tuple(e // 2 for e in ext)
            hi = tuple(e - e // 2 for e in ext)
        else:
            raise RuntimeError(f"{op}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
    else:
        lo = hi = ntuple(padding, nd, "padding", op)
        _check_positive(op, "padding", lo, allow_zero=True)
        if padding_hi is not None:
            hi = ntuple(padding_hi, nd, "padding", op)
            _check_positive(op, "padding", hi, allow_zero=True)
    padded = tuple(s + a + b for s, a, b in zip(in_size, lo, hi))
    if any(e + 1 > p for e, p in zip(ext, padded)):
        raise RuntimeError(f"{op}: kernel size (dilated) {tuple(e + 1 for e in ext)} can't be greater than the "
                           f"padded input size {padded} (input {in_shape}, padding {lo})")
    out = tuple((p - e - 1) // s + 1 for p, e, s in zip(padded, ext, stride))
    return _Geometry(k, stride, dilation, lo, hi, in_size, out), groups, unbatched


def _conv_transposend(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check_common(op, nd, input, weight, bias, True)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, not a string ({padding!r})")
    stride = ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    output_padding = ntuple(output_padding, nd, "output_padding", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    groups = int(groups)
    _check_positive(op, "stride", stride)
    _check_positive(op, "dilation", dilation)
    _check_positive(op, "padding", padding, allow_zero=True)
    _check_positive(op, "output_padding", output_padding, allow_zero=True)
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    Cin, Og = weight.shape[:2]
    k = tuple(weight.shape[2:])
    if Cin == 0 or Cin % groups:
        raise RuntimeError(f"{op}: expected weight's in_channels (dim 0) to be a positive multiple of "
                           f"groups={groups}, got weight of size {tuple(weight.shape)}")
    unbatched = input.ndim == nd + 1
    C = input.shape[0 if unbatched else 1]
    if C != Cin:
        raise RuntimeError(f"{op}: expected input with {Cin} channels (weight {tuple(weight.shape)}, "
                           f"groups={groups}), got {C}")
    _check_bias(op, bias, Og * groups, weight)
    in_size = tuple(input.shape[-nd:])
    out = tuple((i - 1) * s - 2 * p + d * (kk - 1) + o + 1
                for i, s, p, d, kk, o in zip(in_size, stride, padding, dilation, k, output_padding))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{op}: given input size {in_size}, the calculated output size {out} is too small")
    # The geometry of the convolution this is the adjoint of: its input is our output.
    geo = _Geometry(k, stride, dilation, padding, padding, out, in_size)
    fn = ConvNd(geo, groups, True, unbatched)
    return fn.apply(input, weight) if bias is None else fn.apply(input, weight, bias)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of (N, C, L) or (C, L) ``input`` with (Co, C/groups, k) ``weight``."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation of (N, C, H, W) or (C, H, W) ``input`` with (Co, C/groups, kH, kW) ``weight``."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d cross-correlation of (N, C, D, H, W) or (C, D, H, W) ``input``."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv1d ("deconvolution"); ``weight`` is (C_in, C_out/groups, k)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv2d ("deconvolution"); ``weight`` is (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of conv3d; ``weight`` is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


# ----------------------------------------------------------------------------------------------------------------
# unfold / fold: im2col and col2im as ops of their own.
# ----------------------------------------------------------------------------------------------------------------

class Unfold(Function):
    def __init__(self, geo, unbatched):
        self.geo, self.unbatched = geo, unbatched

    def forward(self, x):
        if self.unbatched:
            x = x[None]
        self.channels = x.shape[1]
        cols = im2col(x, self.geo)
        return cols[0] if self.unbatched else cols

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        gx = col2im(g, self.channels, self.geo)
        return gx[0] if self.unbatched else gx


class Fold(Function):
    def __init__(self, geo, channels, unbatched):
        self.geo, self.channels, self.unbatched = geo, channels, unbatched

    def forward(self, cols):
        if self.unbatched:
            cols = cols[None]
        y = col2im(cols, self.channels, self.geo)
        return y[0] if self.unbatched else y

    def backward(self, g):
        if self.unbatched:
            g = g[None]
        gc = im2col(g, self.geo)
        return gc[0] if self.unbatched else gc


def _block_geometry(op, size, kernel_size, dilation, padding, stride):
    k = ntuple(kernel_size, 2, "kernel_size", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    padding = ntuple(padding, 2, "padding", op)
    stride = ntuple(stride, 2, "stride", op)
    _check_positive(op, "kernel_size", k)
    _check_positive(op, "dilation", dilation)
    _check_positive(op, "stride", stride)
    _check_positive(op, "padding", padding, allow_zero=True)
    blocks = tuple((s + 2 * p - d * (kk - 1) - 1) // st + 1
                   for s, p, d, kk, st in zip(size, padding, dilation, k, stride))
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"{op}: given spatial size {tuple(size)}, kernel_size={k}, dilation={dilation}, "
                           f"padding={padding}, the calculated number of sliding blocks {blocks} must be at least "
                           f"one in each dimension")
    return _Geometry(k, stride, dilation, padding, padding, tuple(size), blocks)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L); (C, H, W) -> (C*kH*kW, L)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3-D (unbatched) or 4-D (batched) input, got input of size "
                           f"{tuple(input.shape)}")
    geo = _block_geometry("unfold", input.shape[-2:], kernel_size, dilation, padding, stride)
    return Unfold(geo, input.ndim == 3).apply(input)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image (col2im, the adjoint of unfold):
    (N, C*kH*kW, L) -> (N, C, *output_size)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input, got input of size "
                           f"{tuple(input.shape)}")
    output_size = ntuple(output_size, 2, "output_size", "fold")
    geo = _block_geometry("fold", output_size, kernel_size, dilation, padding, stride)
    K = math.prod(geo.k)
    CK, L = input.shape[-2:]
    if CK % K:
        raise RuntimeError(f"fold: expected size of input's dimension {input.ndim - 2} to be divisible by the "
                           f"product of kernel_size {geo.k}, but got {CK}")
    if L != math.prod(geo.out_size):
        raise RuntimeError(f"fold: given output_size={output_size}, kernel_size={geo.k}, dilation={geo.dilation}, "
                           f"padding={geo.lo}, stride={geo.stride}, expected input's last dimension to be the "
                           f"number of sliding blocks {' * '.join(map(str, geo.out_size))} = "
                           f"{math.prod(geo.out_size)}, but got {L}")
    return Fold(geo, CK // K, input.ndim == 2).apply(input)
