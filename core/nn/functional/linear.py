"""Linear maps, embedding lookups and dropout: linear, bilinear, embedding, dropout (and its channel-wise and
alpha forms)."""
import math
import warnings

import numpy as np

from ... import parallel
from ...autograd.function import Function
from ...device import array_module
from ...ops._util import unbroadcast
from ...ops.inplace import inplace as _make_inplace
from ...random import generator_for
from ...tensor import Tensor
from ..parameter import Parameter

__all__ = ["linear", "bilinear", "embedding", "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d",
           "dropout2d", "dropout3d"]


def _check_tensor(name, what, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be a Tensor, not {type(t).__name__}")


def _check_same_float(name, **tensors):
    dts = {k: t._data.dtype for k, t in tensors.items() if t is not None}
    for k, dt in dts.items():
        if dt.kind != "f":
            raise RuntimeError(f"{name}: expected floating point tensors, but {k} has dtype {dt}")
    if len(set(dts.values())) > 1:
        raise RuntimeError(f"{name}: expected all tensors to have the same dtype, but got "
                           + ", ".join(f"{k}={dt}" for k, dt in dts.items()))


# ----------------------------------------------------------------------------------------------------------------
# linear / bilinear
# ----------------------------------------------------------------------------------------------------------------


class Linear(Function):
    """y = x Wᵀ + b over the last dim of x (any leading dims), as one GEMM on x viewed as (M, in)."""
    amp = "low"

    def forward(self, x, w, b):
        self.x_shape, self.w_shape = x.shape, w.shape
        w2 = w if w.ndim == 2 else w.reshape(1, -1)
        x2 = parallel.shared(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]))  # kept for gw: shared once
        y = parallel.matmul(x2, w2.T)
        if b is not None:
            y += b
            self.b_shape = b.shape
        need = self.needs_input_grad  # gx reads only w, gw only x
        self.x2, self.w2 = (x2 if need[1] else None), (w2 if need[0] else None)
        self.retain_inputs(*((0,) if need[1] else ()) + ((1,) if need[0] else ()))
        return y.reshape(x.shape[:-1] + w.shape[:-1])

    def backward(self, g):
        need = self.needs_input_grad
        g2 = parallel.shared(g.reshape(math.prod(self.x_shape[:-1]), math.prod(self.w_shape[:-1])))
        gx = gw = None
        if need[0] and need[1]:  # with the helper on, one product here and the other there
            gx, gw = parallel.matmuls((g2, self.w2), (g2.T, self.x2))
            gx, gw = _shaped(gx, self.x_shape), _shaped(gw, self.w_shape)
        elif need[0]:
            gx = _shaped(parallel.matmul(g2, self.w2), self.x_shape)
        elif need[1]:
            gw = _shaped(parallel.matmul(g2.T, self.x2), self.w_shape)
        gb = unbroadcast(_sum_rows(g2), self.b_shape) if need[2] else None
        return gx, gw, gb


def _sum_rows(g2):
    """``g2.sum(axis=0)``; for float32/64 NumPy as ones @ g2 (BLAS, about twice as fast as the reduction)."""
    if type(g2) is np.ndarray and g2.dtype in (np.float32, np.float64) and g2.shape[0]:
        return np.ones(g2.shape[0], g2.dtype) @ g2
    return g2.sum(axis=0)


def _shaped(a, shape):
    """``a.reshape(shape)``, but ``a`` itself when it has that shape: a gradient that is not a view needs no
    private copy when it reaches a leaf's ``.grad``."""
    return a if a.shape == shape else a.reshape(shape)


def linear(input, weight, bias=None):
    """input @ weight.T + bias, with weight of shape (out_features, in_features) (or (in_features,))."""
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    x, w = input._data, weight._data
    if w.ndim not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D or 2-D (out_features, in_features), got shape "
                           f"{tuple(w.shape)}")
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(f"linear: input shape {tuple(x.shape)} and weight shape {tuple(w.shape)} do not match: "
                           f"the input's last dim must equal in_features = {w.shape[-1]}")
    if bias is not None:
        _check_tensor("linear", "bias", bias)
        out = w.shape[:-1]
        if bias._data.ndim > 1 or (bias._data.size != 1 and tuple(bias._data.shape) != out):
            raise RuntimeError(f"linear: bias shape {tuple(bias.shape)} does not match out_features "
                               f"(weight shape {tuple(w.shape)})")
    _check_same_float("linear", input=input, weight=weight, bias=bias)
    if isinstance(weight, Parameter) and parallel.is_enabled():
        # the helper process reads a large weight in place: it moves into shared memory once (optimizers update
        # parameters in place, so it stays there); small ones travel with each job
        weight._data = parallel.to_arena(weight._data)
    return Linear().apply(input, weight, bias)


class Bilinear(Function):
    """y_k = x1ᵀ W_k x2 + b_k: one GEMM x1 · W (W as (in1, out·in2)), then a batched product with x2."""
    amp = "low"

    def forward(self, x1, x2, w, b):
        xp = array_module(x1)
        out, in1, in2 = w.shape
        lead = x1.shape[:-1]
        m = math.prod(lead)
        x1, x2 = x1.reshape(m, in1), x2.reshape(m, in2)
        wr = w.transpose(1, 0, 2).reshape(in1, out * in2)
        t = (x1 @ wr).reshape(m, out, in2)  # t[m, k, j] = Σ_i x1[m, i] W[k, i, j]
        y = xp.matmul(t, x2[:, :, None])[:, :, 0]
        if b is not None:
            y += b
        self.x1, self.x2, self.wr, self.t, self.w_shape, self.lead = x1, x2, wr, t, w.shape, lead
        self.retain_inputs(0, 1, 2)
        return y.reshape(lead + (out,))

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        out, in1, in2 = self.w_shape
        m = self.x1.shape[0]
        g = g.reshape(m, out)
        g1 = g2 = gw = gb = None
        if need[0] or need[2]:
            outer = (g[:, :, None] * self.x2[:, None, :]).reshape(m, out * in2)  # g_k · x2_j
            if need[0]:
                g1 = (outer @ self.wr.T).reshape(self.lead + (in1,))
            if need[2]:
                gw = (self.x1.T @ outer).reshape(in1, out, in2).transpose(1, 0, 2)
        if need[1]:
            g2 = xp.matmul(g[:, None, :], self.t)[:, 0, :].reshape(self.lead + (in2,))
        if need[3]:
            gb = g.sum(axis=0)
        return g1, g2, gw, gb


def bilinear(input1, input2, weight, bias=None):
    """y = x1ᵀ A x2 + b for weight A of shape (out_features, in1_features, in2_features)."""
    for what, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", what, t)
    x1, x2, w = input1._data, input2._data, weight._data
    if w.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {tuple(w.shape)}")
    if x1.ndim == 0 or x1.shape[:-1] != x2.shape[:-1] or x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
        raise RuntimeError(f"bilinear: input1 shape {tuple(x1.shape)}, input2 shape {tuple(x2.shape)} and weight "
                           f"shape {tuple(w.shape)} do not match: expected (*, {w.shape[1]}) and (*, {w.shape[2]}) "
                           f"with the same leading dims")
    if bias is not None:
        _check_tensor("bilinear", "bias", bias)
        if tuple(bias._data.shape) != (w.shape[0],):
            raise RuntimeError(f"bilinear: bias shape {tuple(bias.shape)} does not match out_features {w.shape[0]}")
    _check_same_float("bilinear", input1=input1, input2=input2, weight=weight, bias=bias)
    return Bilinear().apply(input1, input2, weight, bias)


# ----------------------------------------------------------------------------------------------------------------
# embedding
# ----------------------------------------------------------------------------------------------------------------


_ONE_HOT_ELEMENTS = 1 << 20  # embedding backward by a one-hot GEMM up to this many (rows x indices) elements


class Embedding(Function):
    """weight[indices]; the gradient adds each output row's gradient into its weight row (duplicates add up)."""

    def __init__(self, padding_idx, scale_grad_by_freq):
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq

    def forward(self, w, idx):
        self.idx, self.w_shape = idx, w.shape
        self.retain_inputs(1)
        return array_module(w).take(w, idx, axis=0)

    def backward(self, g):
        xp = array_module(g)
        n, d = self.w_shape
        idx = self.idx.reshape(-1)
        g2 = g.reshape(-1, d)
        gw = None
        if xp is np and n * idx.size <= _ONE_HOT_ELEMENTS:
            # small vocabularies: one GEMM with the one-hot matrix, several times faster than np.add.at; an inf or
            # nan gradient would spread to every row (0 · inf), so such a result is redone with np.add.at
            one_hot = np.zeros((n, idx.size), g.dtype)
            one_hot[idx, np.arange(idx.size)] = 1
            with np.errstate(invalid="ignore", over="ignore"):
                gw = one_hot @ g2
            if not np.isfinite(gw).all():
                gw = None
        if xp is np and gw is None:
            gw = np.zeros((n, d), dtype=g.dtype)
            np.add.at(gw, idx, g2)
        elif gw is None:
            gw = xp.zeros((n, d), dtype=g.dtype)
            import cupyx
            cupyx.scatter_add(gw, idx, g2)
        if self.scale_grad_by_freq:
            counts = xp.bincount(idx, minlength=n)
            gw /= xp.maximum(counts, 1)[:, None].astype(g.dtype)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` (any shape)."""
    _check_tensor("embedding", "input", input)
    _check_tensor("embedding", "weight", weight)
    idx, w = input._data, weight._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices (int64 or int32) for argument 'input', got dtype "
                        f"{input.dtype.name}")
    if w.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(w.shape)}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported by zoo")
    n = w.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx={padding_idx} must be within num_embeddings={n}")
        padding_idx %= n
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())  # PyTorch checks the range eagerly too
        if lo < 0 or hi >= n:
            raise IndexError(f"embedding: index {lo if lo < 0 else hi} is out of range for num_embeddings={n} "
                             f"(weight shape {tuple(w.shape)})")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding(padding_idx, scale_grad_by_freq).apply(weight, input)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Rescale in place (outside autograd) the looked-up rows whose norm exceeds max_norm, as PyTorch does."""
    w = weight._data
    xp = array_module(w)
    rows = xp.unique(idx)
    sel = w[rows]
    if norm_type == np.inf:
        norms = xp.abs(sel).max(axis=1)
    else:
        norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1).astype(w.dtype, copy=False)
    w[rows] = sel * scale[:, None]
    weight._vc[0] += 1


# ----------------------------------------------------------------------------------------------------------------
# dropout: out = x·m (+ a) with a random mask m drawn from zoo's generator; gradient g·m
# ----------------------------------------------------------------------------------------------------------------


class Dropout(Function):
    def forward(self, x, mult, add):
        self.mult = mult
        y = x * mult
        if add is not None:
            y += add
        return y

    def backward(self, g):
        return g * self.mult, None, None


_SELU_NEG = 1.7580993408473766  # -SELU(-inf) = scale · alpha: where alpha dropout sends dropped values


def _apply_dropout(input, p, training, inplace, mask_shape, alpha, name):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(name, "input", input)
    x = input._data
    if not training or p == 0 or x.size == 0:
        return input
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got dtype {input.dtype.name}")
    xp = array_module(x)
    add = None
    if p == 1:
        mult = xp.zeros(mask_shape, dtype=x.dtype)
    else:
        rng = generator_for(input.device).rng
        keep = rng.random(mask_shape, dtype=np.float64 if x.dtype == np.float64 else np.float32) >= p
        if alpha:
            a = 1.0 / math.sqrt((_SELU_NEG ** 2 * p + 1) * (1 - p))
            mult = keep * x.dtype.type(a)
            add = (keep - x.dtype.type(1 - p)) * x.dtype.type(_SELU_NEG * a)
        else:
            mult = keep * x.dtype.type(1.0 / (1.0 - p))
    if inplace:
        return _make_inplace(lambda t: Dropout().apply(t, mult, add))(input)
    return Dropout().apply(input, mult, add)


def _feature_shape(x, batched=True):
    """Mask shape for channel-wise dropout: one value per (sample, channel), or per channel when unbatched."""
    if not batched:
        return (x.shape[0],) + (1,) * (x.ndim - 1)
    if x.ndim < 2:
        raise RuntimeError(f"feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{tuple(x.shape)}")
    return x.shape[:2] + (1,) * (x.ndim - 2)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    _check_tensor("dropout", "input", input)
    return _apply_dropout(input, p, training, inplace, input._data.shape, False, "dropout")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values go to SELU's negative limit, then an affine map keeps the mean
    and variance."""
    _check_tensor("alpha_dropout", "input", input)
    return _apply_dropout(input, p, training, inplace, input._data.shape, True, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1)."""
    _check_tensor("feature_alpha_dropout", "input", input)
    return _apply_dropout(input, p, training, inplace, _feature_shape(input._data), True, "feature_alpha_dropout")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input."""
    _check_tensor("dropout1d", "input", input)
    nd = input._data.ndim
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           f"exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           f"dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _apply_dropout(input, p, training, inplace, _feature_shape(input._data, nd == 3), False, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, H, W) input (a 3-D input is taken as (N, C, L), as in PyTorch)."""
    _check_tensor("dropout2d", "input", input)
    nd = input._data.ndim
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead.", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _apply_dropout(input, p, training, inplace, _feature_shape(input._data), False, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input."""
    _check_tensor("dropout3d", "input", input)
    nd = input._data.ndim
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
                      f"error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead.", stacklevel=2)
    return _apply_dropout(input, p, training, inplace, _feature_shape(input._data, nd != 4), False, "dropout3d")
