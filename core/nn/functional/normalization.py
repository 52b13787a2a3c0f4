"""Normalization functions: batch_norm, instance_norm, layer_norm, group_norm, rms_norm, normalize,
local_response_norm.

batch/instance/layer/group/rms norm share one fused ``Function`` (``Norm``): statistics over some axes, an
optional per-channel affine, and the closed-form backward

    x̂ = (x - μ)·r,  dx = r · (ĝ - mean(ĝ) - x̂ · mean(ĝ·x̂)),  ĝ = g·w,

with the means over the normalised axes (RMS norm has μ = 0 and no mean(ĝ) term; given statistics, as in batch
norm's eval mode, make it dx = r·ĝ).
"""
import math

import numpy as np

from ... import parallel
from ...autograd.function import Function
from ...device import array_module
from ...ops._util import unbroadcast, wrap_dim
from ...tensor import Tensor
from .conv import run_chunks

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "normalize",
           "local_response_norm"]

_BN_CHUNK_BYTES = 1 << 19  # input bytes per batch-norm chunk: its temporaries stay in cache
# Inputs smaller than this run their chunks on one thread: each chunk's NumPy calls are so short that two threads
# mostly pass the GIL back and forth (measured: (64, 32, 16, 16) 1.7 ms on one thread, 2.0 ms on two).
_BN_PARALLEL_BYTES = 4 << 20
_BN_HELPER_BYTES = 1 << 20  # the same for the helper process, whose hand-off takes no GIL (about 30 µs)
_LN_SPLIT_ELEMENTS = 1 << 15  # layer norms from this size share their rows with the helper process (when on)
_BN_ROW_PLANE = 4096  # planes smaller than this get per-channel coefficients expanded to rows (BatchNorm)


class Norm(Function):
    """y = (x - μ)·r·w + b with r = 1/sqrt(var + eps).

    μ and var are taken over ``axes`` of x viewed as ``stat_shape`` (None: x's own shape). w and b broadcast as
    ``param_shape``. ``center=False`` gives RMS
    norm (μ = 0, var = mean(x²)). After forward, ``mean`` and ``var`` hold the statistics (for running averages).
    x̂ is kept for backward (x itself is not needed).
    """

    def __init__(self, axes, eps, param_shape, stat_shape=None, center=True):
        self.axes, self.eps, self.param_shape = axes, eps, param_shape
        self.stat_shape, self.center = stat_shape, center
        self.split = False  # whether forward ran as _layer_norm_rows (backward then runs _layer_norm_grad_rows)

    def _splits(self, x, w, b):
        """Whether rows are shared with the helper process: while it is on, for a layer norm over the last dim of a
        large float32/64 NumPy array, with the weight and bias (if any) of that dim and dtype."""
        return (type(x) is np.ndarray and x.dtype in _BLAS_FLOATS and self.stat_shape is None and self.center
                and self.axes == (x.ndim - 1,) and self.param_shape == x.shape[-1:] and x.size >= _LN_SPLIT_ELEMENTS
                and all(p is None or p.dtype == x.dtype for p in (w, b)) and parallel.is_enabled())

    def _forward_split(self, x, w, b):
        self.split = True
        C = x.shape[-1]
        rows = x.size // C
        stats = parallel.empty((3, rows, 1), x.dtype)  # mean, var, r per row
        xhat, y = parallel.empty((rows, C), x.dtype), parallel.empty((rows, C), x.dtype)
        parallel.split(_layer_norm_rows, rows, *(parallel.shared(a) for a in (x.reshape(rows, C), w, b)), self.eps,
                       xhat, stats, y)
        kept = x.shape[:-1] + (1,)
        self.mean, self.var, self.r = (s.reshape(kept) for s in stats)
        self.xhat, self.w = xhat.reshape(x.shape), w
        self.b_shape = None if b is None else b.shape
        self.retain_inputs(1)
        return y.reshape(x.shape)

    def _backward_split(self, g):
        need = self.needs_input_grad
        C = g.shape[-1]
        rows = g.size // C
        gx = parallel.empty((rows, C), g.dtype) if need[0] else None
        parts = parallel.split(_layer_norm_grad_rows, rows, parallel.shared(g.reshape(rows, C)),
                               self.xhat.reshape(rows, C), self.r.reshape(rows, 1), parallel.shared(self.w), gx)
        gw = sum(p[0] for p in parts)
        gb = sum(p[1] for p in parts)
        return (None if gx is None else gx.reshape(g.shape), gw.astype(self.w.dtype, copy=False) if need[1] else None,
                gb.reshape(self.b_shape) if len(need) > 2 and need[2] else None)

    def forward(self, x, w, b):
        xp = array_module(x)
        if self._splits(x, w, b):
            return self._forward_split(x, w, b)
        xs = x if self.stat_shape is None else x.reshape(self.stat_shape)
        mean = _mean(xs, self.axes) if self.center else None
        xhat = xs - mean if self.center else xs.copy()
        self.var = _mean_of_product(xhat, xhat, self.axes)
        r = 1 / xp.sqrt(self.var + self.eps)
        xhat *= r
        self.mean, self.r, self.xhat, self.w = mean, r, xhat, w
        self.b_shape = None if b is None else b.shape
        self.retain_inputs(1)
        y = xhat.reshape(x.shape)
        if w is not None:
            y = xp.multiply(y, w.reshape(self.param_shape), out=parallel.empty_like(y, xp.result_type(y, w)))
        if b is not None:
            y = y + b.reshape(self.param_shape) if w is None else xp.add(y, b.reshape(self.param_shape), out=y)
        if y.base is xhat or y is xhat:
            self.retain_output()  # no affine: the output is x̂ itself
        return y

    def backward(self, g):
        if self.split and type(g) is np.ndarray and g.dtype == self.xhat.dtype:
            return self._backward_split(g)
        need = self.needs_input_grad
        xhat, w = self.xhat, self.w
        gw = gb = gx = None
        if need[1]:
            gw = _sum_of_product_to(g, xhat.reshape(g.shape), self.param_shape)
            gw = (gw if gw.shape == w.shape else gw.reshape(w.shape)).astype(w.dtype, copy=False)
        if need[2]:
            gb = _sum_of_product_to(g, None, self.param_shape)
            gb = gb if gb.shape == self.b_shape else gb.reshape(self.b_shape)
        if need[0]:
            # on one array of our own, in place: ĝ, then ĝ - mean(ĝ) - x̂·mean(ĝ·x̂), then times r
            xp = array_module(g)
            if w is not None:
                gh = xp.multiply(g, w.reshape(self.param_shape), out=parallel.empty_like(g, xp.result_type(g, w)))
            else:
                gh = g.copy()
            gh = gh.reshape(xhat.shape)
            axes = self.axes
            proj = _mean_of_product(gh, xhat, axes)
            if self.center:
                gh -= _mean(gh, axes)
            proj = xhat * proj
            gh -= proj
            gh *= self.r
            gx = gh.reshape(g.shape).astype(g.dtype, copy=False)
        return gx, gw, gb


def _layer_norm_rows(lo, hi, x2, w, b, eps, xhat, stats, y):
    """Rows [lo, hi) of a layer norm of x2 (rows, C), as Norm.forward: x̂, the rows' mean, var and 1/σ, and y."""
    x, xh = x2[lo:hi], xhat[lo:hi]
    mean, var, r = stats[0, lo:hi], stats[1, lo:hi], stats[2, lo:hi]
    mean[...] = _mean(x, (1,))
    np.subtract(x, mean, out=xh)
    var[...] = _mean_of_product(xh, xh, (1,))
    np.divide(1, np.sqrt(var + eps), out=r)
    xh *= r
    out = y[lo:hi]
    if w is None:
        out[...] = xh
    else:
        np.multiply(xh, w, out=out)
    if b is not None:
        out += b


def _layer_norm_grad_rows(lo, hi, g2, xhat, r, w, gx):
    """Rows [lo, hi) of Norm.backward after ``_layer_norm_rows``: the input gradient into ``gx`` (unless None);
    returns the rows' share of the weight and bias gradients, Σ g·x̂ and Σ g."""
    g, xh = g2[lo:hi], xhat[lo:hi]
    shares = np.einsum("ij,ij->j", g, xh), np.ones(hi - lo, g.dtype) @ g
    if gx is not None:
        gh = gx[lo:hi]
        if w is None:
            gh[...] = g
        else:
            np.multiply(g, w, out=gh)
        proj = _mean_of_product(gh, xh, (1,))
        gh -= _mean(gh, (1,))
        gh -= xh * proj
        gh *= r[lo:hi]
    return shares


class FrozenNorm(Function):
    """Normalization by given statistics (batch norm in evaluation mode): y = x·s + t with the per-channel
    s = r·w and t = b − μ·s, r = 1/sqrt(var + eps). Two passes over x; x is kept only when the weight's gradient
    needs x̂ = (x − μ)·r, and no gradient flows to the statistics."""

    def __init__(self, mean, r, param_shape):
        self.mean, self.r, self.param_shape = mean, r, param_shape

    def forward(self, x, w, b):
        scale = self.r if w is None else (self.r * w.reshape(self.param_shape)).astype(x.dtype, copy=False)
        shift = -self.mean * scale if b is None else b.reshape(self.param_shape) - self.mean * scale
        y = array_module(x).multiply(x, scale, out=parallel.empty_like(x, np.result_type(x, scale)))
        y += shift.astype(x.dtype, copy=False)
        self.scale, self.w_shape, self.b_shape = scale, None if w is None else w.shape, None if b is None else b.shape
        if self.needs_input_grad[1]:
            self.x = x
            self.retain_inputs(0)
        return y

    def backward(self, g):
        need = self.needs_input_grad
        gx = g * self.scale if need[0] else None
        gw = gb = None
        if need[1]:
            gw = _sum_of_product_to(g, (self.x - self.mean) * self.r, self.param_shape).reshape(self.w_shape)
        if need[2]:
            gb = _sum_of_product_to(g, None, self.param_shape).reshape(self.b_shape)
        return gx, gw, gb


# Reductions for Norm. Over trailing axes of a float32/64 NumPy array they go to BLAS (a matrix-vector product)
# or einsum: several times faster than NumPy's reductions along short rows (layer norm's 768 rows of 128).

def _rows(a, axes):
    """The number of elements in the trailing ``axes`` of ``a`` when the fast path applies, else 0."""
    if type(a) is not np.ndarray or a.dtype not in _BLAS_FLOATS or axes != tuple(range(a.ndim - len(axes), a.ndim)):
        return 0
    return a.size and a.size // math.prod(a.shape[:a.ndim - len(axes)])


def _kept(a, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(a.shape))


def _mean(a, axes):
    """``a.mean(axis=axes, keepdims=True)``."""
    n = _rows(a, axes)
    if n:
        return (a.reshape(-1, n) @ np.full(n, 1 / n, a.dtype)).reshape(_kept(a, axes))
    return a.mean(axis=axes, keepdims=True)


def _mean_of_product(a, b, axes):
    """``(a * b).mean(axis=axes, keepdims=True)``."""
    n = _rows(a, axes)
    if n and b.dtype == a.dtype:
        return (np.einsum("ij,ij->i", a.reshape(-1, n), b.reshape(-1, n)) / a.dtype.type(n)).reshape(_kept(a, axes))
    return (a * b).mean(axis=axes, keepdims=True)


def _sum_of_product_to(a, b, shape):
    """``unbroadcast(a * b, shape)`` (``a`` alone when ``b`` is None), ``shape`` being trailing dims of a."""
    n = math.prod(shape)
    if (type(a) is np.ndarray and a.dtype in _BLAS_FLOATS and a.ndim >= len(shape) and n
            and tuple(a.shape[a.ndim - len(shape):]) == tuple(shape)):
        a2 = a.reshape(-1, n)
        if b is None:
            out = np.ones(a2.shape[0], a.dtype) @ a2
        elif b.dtype == a.dtype:
            out = np.einsum("ij,ij->j", a2, b.reshape(-1, n))
        else:
            return unbroadcast(a * b, shape)
        return out if out.shape == tuple(shape) else out.reshape(shape)
    return unbroadcast(a if b is None else a * b, shape)


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class BatchNorm(Function):
    """Training-mode batch norm of an (N, C, *) input: statistics over every dim but 1, per-channel affine.

    The fast special case of ``Norm``. Forward folds normalisation and affine into one multiply-add,
    y = x·A + B with A = r·w, B = b − μ·A, and keeps x itself for backward (no x̂ array is written). With
    the per-channel sums S1 = Σg and S2 = Σg·x̂ (x̂ = (x − μ)·r), backward is also one multiply-add per operand,
    dx = g·A + x·X + K with X = −A·r·S2/n and K = −A·S1/n − μ·X; dw = S2, db = S1. On the CPU it works on
    chunks of samples in parallel, each chunk's temporaries in cache, and per-channel coefficients of small
    planes are expanded to whole rows (NumPy is several times slower on short broadcast runs). The variance is
    combined from per-chunk centred sums (Chan et al.), as exact as a two-pass variance."""

    def __init__(self, eps):
        self.eps = eps

    def _chunks(self, xp, n, sample_bytes, fn, *args):
        if xp is np:
            least = _BN_HELPER_BYTES if parallel.is_enabled() else _BN_PARALLEL_BYTES
            return run_chunks(n, sample_bytes, fn, *args, chunk_bytes=_BN_CHUNK_BYTES, blas=False,
                              parallel=n * sample_bytes >= least)
        return [fn(0, n, *args)]

    def _coef(self, xp, v):
        """A per-channel vector as an operand of the (n, ...) sample view (in the helper's arena when it is on)."""
        return parallel.shared(xp.repeat(v, self.size) if self.rows else v[:, None])

    def forward(self, x, w, b):
        xp = array_module(x)
        n, c = x.shape[:2]
        x = parallel.shared(x)
        x3 = x.reshape(n, c, -1)
        self.size = size = x3.shape[2]
        self.rows = size < _BN_ROW_PLANE
        xv = x.reshape(n, c * size) if self.rows else x3  # the sample view the elementwise passes run on
        sample_bytes = c * size * x.itemsize
        parts = self._chunks(xp, n, sample_bytes, _bn_stats, x3)
        count = n * size
        mean = sum(p[0] for p in parts) / count
        m2 = sum(p[1] + p[2] * xp.square(p[0] / p[2] - mean) for p in parts)
        self.mean, self.var = mean, m2 / count
        self.r = r = (1 / xp.sqrt(self.var + self.eps)).astype(x.dtype, copy=False)
        mean = mean.astype(x.dtype, copy=False)
        a = r if w is None else r * w
        shift = -mean * a if b is None else b - mean * a
        y = parallel.empty_like(xv)
        self._chunks(xp, n, sample_bytes, _bn_normalise, xv, self._coef(xp, a), self._coef(xp, shift), y)
        self.x3, self.xv, self.a, self.mean_c = x3, xv, a, mean
        self.retain_inputs(0)
        self.w_dtype = None if w is None else w.dtype
        self.b_shape = None if b is None else b.shape
        return y.reshape(x.shape)

    def backward(self, g):
        need = self.needs_input_grad
        xp = array_module(g)
        x3, xv, mean, r, a = self.x3, self.xv, self.mean_c, self.r, self.a
        n, c, size = x3.shape
        g = parallel.shared(g)
        sample_bytes = c * size * g.itemsize
        parts = self._chunks(xp, n, sample_bytes, _bn_sums, x3, g.reshape(x3.shape), parallel.shared(mean[:, None]))
        s1 = sum(p[0] for p in parts)
        s2 = sum(p[1] for p in parts) * r  # Σ g·x̂
        gx = gw = gb = None
        if need[1]:
            gw = s2.astype(self.w_dtype, copy=False)
        if len(need) > 2 and need[2]:
            gb = s1.reshape(self.b_shape)
        if need[0]:
            count = n * size
            x_coef = -a * r * s2 / count
            k_coef = -a * s1 / count - mean * x_coef
            gx = parallel.empty_like(xv, g.dtype)
            self._chunks(xp, n, sample_bytes, _bn_input_grad, g.reshape(xv.shape), xv, self._coef(xp, a),
                         self._coef(xp, x_coef), self._coef(xp, k_coef), gx)
            gx = gx.reshape(g.shape)
        return gx, gw, gb


# BatchNorm's passes over samples [lo, hi) (run_chunks kernels: on the helper process too) -----------------------

def _bn_stats(lo, hi, x3):
    """Per-channel sum and centred sum of squares of the chunk, and its element count per channel."""
    xp = array_module(x3)
    part, count = x3[lo:hi], (hi - lo) * x3.shape[2]
    s = xp.einsum("ncl->c", part)
    centred = part - (s / count)[:, None]
    return s, xp.einsum("ncl,ncl->c", centred, centred), count


def _bn_normalise(lo, hi, xv, a_v, shift_v, y):
    out = y[lo:hi]
    array_module(xv).multiply(xv[lo:hi], a_v, out=out)
    out += shift_v


def _bn_sums(lo, hi, x3, g3, mean_c):
    """Σg and Σg·(x − μ) per channel over the chunk."""
    xp = array_module(x3)
    centred = x3[lo:hi] - mean_c
    return xp.einsum("ncl->c", g3[lo:hi]), xp.einsum("ncl,ncl->c", g3[lo:hi], centred)


def _bn_input_grad(lo, hi, gv, xv, a_v, x_v, k_v, gx):
    out = gx[lo:hi]
    array_module(gv).multiply(gv[lo:hi], a_v, out=out)
    t = xv[lo:hi] * x_v
    out += t
    out += k_v


def _check_input(name, input, min_dim=0):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got dtype {input.dtype.name}")
    if input._data.ndim < min_dim:
        raise ValueError(f"{name}: expected an input with at least {min_dim} dimensions (N, C, *), got shape "
                         f"{tuple(input.shape)}")


def _check_param(name, what, t, shape):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor or None, got {type(t).__name__}")
    if tuple(t._data.shape) != shape:
        raise RuntimeError(f"{name}: expected {what} of shape {shape}, got shape {tuple(t.shape)}")


def _update_running(running, stat, momentum):
    """running ← (1 - momentum)·running + momentum·stat, in place, outside autograd."""
    r = running._data
    r *= 1 - momentum
    r += (momentum * stat).astype(r.dtype, copy=False)
    running._vc[0] += 1


def _channel_norm(name, input, running_mean, running_var, weight, bias, use_batch_stats, momentum, eps, axes):
    """batch_norm / instance_norm: per-channel (dim 1) affine; statistics over ``axes`` or the running ones."""
    x = input._data
    c = x.shape[1]
    for what, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_param(name, what, t, (c,))
    param_shape = (1, c) + (1,) * (x.ndim - 2)
    if not use_batch_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{name}: running_mean and running_var must be defined when the running statistics "
                               f"are used (evaluation mode)")
        xp = array_module(x)
        mean = running_mean._data.reshape(param_shape).astype(x.dtype, copy=False)
        r = 1 / xp.sqrt(running_var._data.reshape(param_shape).astype(x.dtype, copy=False) + eps)
        return FrozenNorm(mean, r, param_shape).apply(input, weight, bias)
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count <= 1:
        raise ValueError(f"{name}: expected more than 1 value per channel when training, got input size "
                         f"{list(x.shape)}")
    if momentum is None and (running_mean is not None or running_var is not None):
        raise TypeError(f"{name}: momentum=None (cumulative average) is handled by the normalization modules; "
                        f"pass a float to the functional form")
    op = BatchNorm(eps) if axes[0] == 0 else Norm(axes, eps, param_shape)
    out = op.apply(input, weight, bias)
    # the statistics have shape (1, C, 1…) for batch norm and (N, C, 1…) for instance norm (averaged over N)
    if running_mean is not None:
        _update_running(running_mean, op.mean.reshape(-1, c).mean(axis=0), momentum)
    if running_var is not None:
        unbiased = op.var * (count / (count - 1))
        _update_running(running_var, unbiased.reshape(-1, c).mean(axis=0), momentum)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Normalise each channel (dim 1) of an (N, C, *) input. ``training``: batch statistics (biased variance to
    normalise; the running averages, updated in place, get the unbiased one); else the running statistics."""
    _check_input("batch_norm", input, 2)
    axes = (0,) + tuple(range(2, input._data.ndim))
    return _channel_norm("batch_norm", input, running_mean, running_var, weight, bias, training, momentum, eps,
                         axes)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalise each (sample, channel) of an (N, C, *) input over its spatial dims; running averages (when
    given) get the batch mean of the per-instance statistics."""
    _check_input("instance_norm", input, 3)
    axes = tuple(range(2, input._data.ndim))
    return _channel_norm("instance_norm", input, running_mean, running_var, weight, bias, use_input_stats,
                         momentum, eps, axes)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing ``normalized_shape`` dims; weight and bias have that shape."""
    _check_input("layer_norm", input)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    shape = tuple(input._data.shape)
    k = len(ns)
    if k == 0 or shape[len(shape) - k:] != ns or len(shape) < k:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(shape)}")
    _check_param("layer_norm", "weight", weight, ns)
    _check_param("layer_norm", "bias", bias, ns)
    axes = tuple(range(len(shape) - k, len(shape)))
    op = Norm(axes, eps, ns)
    op.amp = "float32"  # as PyTorch's autocast: statistics of float16 activations in float32
    return op.apply(input, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x²) + eps) · weight over the trailing ``normalized_shape`` dims (eps None: the dtype's
    machine epsilon, as PyTorch)."""
    _check_input("rms_norm", input)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(s) for s in normalized_shape)
    shape = tuple(input._data.shape)
    k = len(ns)
    if k == 0 or shape[len(shape) - k:] != ns or len(shape) < k:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(shape)}")
    _check_param("rms_norm", "weight", weight, ns)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(len(shape) - k, len(shape)))
    return Norm(axes, eps, ns, center=False).apply(input, weight, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Split the C channels of an (N, C, *) input into ``num_groups`` groups and normalise each group of each
    sample; weight and bias are per channel."""
    _check_input("group_norm", input, 2)
    shape = tuple(input._data.shape)
    n, c = shape[0], shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but "
                           f"got input of shape {list(shape)} and num_groups={num_groups}")
    _check_param("group_norm", "weight", weight, (c,))
    _check_param("group_norm", "bias", bias, (c,))
    group_size = input._data.size // (n * num_groups) if n else 0
    param_shape = (1, c) + (1,) * (len(shape) - 2)
    op = Norm((2,), eps, param_shape, stat_shape=(n, num_groups, group_size))
    op.amp = "float32"
    return op.apply(input, weight, bias)


# ----------------------------------------------------------------------------------------------------------------
# normalize: x / max(‖x‖_p, eps) along a dim
# ----------------------------------------------------------------------------------------------------------------


class Normalize(Function):
    def __init__(self, axis, p, eps):
        self.axis, self.p, self.eps = axis, p, eps

    def forward(self, x):
        xp = array_module(x)
        p, axis = self.p, self.axis
        ax = xp.abs(x)
        if p == 2:
            n = xp.sqrt(xp.square(x).sum(axis=axis, keepdims=True))
        elif p == 1:
            n = ax.sum(axis=axis, keepdims=True)
        elif p == np.inf:
            n = ax.max(axis=axis, keepdims=True) if x.shape[axis] else ax.sum(axis=axis, keepdims=True)
        else:
            n = (ax ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        d = xp.maximum(n, self.eps).astype(x.dtype, copy=False)
        self.x, self.n, self.d = x, n, d
        self.retain_inputs(0)
        return x / d

    def backward(self, g):
        xp = array_module(g)
        x, n, d, p, axis = self.x, self.n, self.d, self.p, self.axis
        # ∂‖x‖/∂x: x/n (p=2), sign(x) (p=1), sign(x)·|x|^(p-1)/n^(p-1), or sign(x) shared by the ties (p=inf)
        if p == 2:
            dn = x / xp.where(n > 0, n, 1)
        elif p == 1:
            dn = xp.sign(x)
        elif p == np.inf:
            ties = xp.abs(x) == n
            dn = xp.sign(x) * ties / xp.maximum(ties.sum(axis=axis, keepdims=True), 1)
        else:
            dn = xp.sign(x) * (xp.abs(x) / xp.where(n > 0, n, 1)) ** (p - 1)
        s = (g * x).sum(axis=axis, keepdims=True) / (d * d)
        s *= n > self.eps  # clamp_min passes no gradient to the norm where it clamps
        return (g / d - s * dn).astype(g.dtype, copy=False)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(‖input‖_p, eps) along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported by zoo")
    _check_input("normalize", input)
    if not (p > 0):
        raise NotImplementedError(f"normalize: p={p} is not supported by zoo (p > 0 and inf are)")
    axis = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise IndexError(f"normalize: dim {dim} is out of range for a 0-d input")
    return Normalize(axis, float(p), eps).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# local_response_norm: x / (k + alpha/size · Σ_window x²)^beta over neighbouring channels
# ----------------------------------------------------------------------------------------------------------------


def _window_sum(a, before, after):
    """out[:, c] = Σ a[:, c'] for c - before <= c' <= c + after (zeros beyond the edges), along axis 1."""
    out = a.copy()
    c = a.shape[1]
    for off in range(-before, after + 1):
        if off == 0 or abs(off) >= c:
            continue
        lo, hi = max(0, -off), min(c, c - off)
        out[:, lo:hi] += a[:, lo + off:hi + off]
    return out


class LocalResponseNorm(Function):
    def __init__(self, size, alpha, beta, k):
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        xp = array_module(x)
        size = self.size
        base = _window_sum(xp.square(x), size // 2, (size - 1) // 2)
        base *= self.alpha / size
        base += self.k
        d = base ** self.beta
        self.x, self.base, self.d = x, base, d
        self.retain_inputs(0)
        return x / d

    def backward(self, g):
        x, base, d, size = self.x, self.base, self.d, self.size
        gd = g / d
        t = gd * x / base  # g_c · x_c / (D_c · B_c), summed back over the windows that contain each channel
        back = _window_sum(t, (size - 1) // 2, size // 2)
        return (gd - (2 * self.alpha * self.beta / size) * x * back).astype(g.dtype, copy=False)


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """Normalise each channel by the activity of its ``size`` neighbours (AlexNet's LRN)."""
    _check_input("local_response_norm", input)
    if input._data.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got "
                         f"{input._data.ndim} dimensions)")
    if input._data.size == 0:
        return input
    return LocalResponseNorm(int(size), alpha, beta, k).apply(input)
