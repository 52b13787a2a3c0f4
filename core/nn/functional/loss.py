"""Loss functions with PyTorch's signatures, defaults and reduction modes ('none', 'mean', 'sum').

Each loss is one fused ``Function``: it computes the elementwise loss, reduces it, and its backward writes the
closed-form gradient directly (no chain of small ops). ``cross_entropy`` fuses a stable log-softmax with the
NLL, weights, ``ignore_index`` and label smoothing; its gradient is ``softmax * s - q`` (``q`` the weighted,
smoothed target distribution of a sample and ``s`` its sum).

The legacy ``size_average`` / ``reduce`` flags are mapped to a reduction string exactly as PyTorch maps them.
"""
import math
import warnings

import numpy as np

from ...amp import autocast_float32
from ...autograd.function import Function
from ...autograd.grad_mode import _mode
from ...device import array_module
from ...ops import pointwise as P
from ...ops import reduction as R
from ...ops import shape as S
from ...ops._util import result_dtype, unbroadcast, wrap_dim
from ...tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
           "pairwise_distance", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "poisson_nll_loss", "cosine_embedding_loss", "triplet_margin_loss", "multilabel_soft_margin_loss",
           "gaussian_nll_loss"]


# ----------------------------------------------------------------------------------------------------------------
# Argument checks shared by the losses
# ----------------------------------------------------------------------------------------------------------------

def _reduction(name, reduction, size_average=None, reduce=None):
    """The reduction string; the legacy ``size_average``/``reduce`` flags win when given (as in PyTorch)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; "
                         f"expected 'none', 'mean' or 'sum'")
    return reduction


def _shape(t):
    return tuple(t._data.shape)


def _tensor(name, what, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: argument '{what}' must be a Tensor, not {type(t).__name__}")
    return t


def _float_input(name, t, what="input"):
    _tensor(name, what, t)
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point {what}, got {t.dtype.name}")
    return t


def _same_shape(name, input, target):
    if input._data.shape != target._data.shape:
        raise ValueError(f"{name}: expected target of the same shape as input {_shape(input)}, got target of "
                         f"shape {_shape(target)}")


def _broadcast(name, *tensors):
    try:
        return np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        shapes = " and ".join(str(_shape(t)) for t in tensors)
        raise RuntimeError(f"{name}: shapes {shapes} cannot be broadcast together") from None


def _broadcasts_to(t, input):
    try:
        return np.broadcast_shapes(t._data.shape, input._data.shape) == input._data.shape
    except ValueError:
        return False


def _no_weight_grad(name, what, w):
    """PyTorch does not differentiate these losses with respect to their class weights: neither do we."""
    if w is not None and w._requires_grad and _mode.grad_enabled:
        raise RuntimeError(f"{name}: the derivative for '{what}' is not implemented; this input cannot have "
                           f"requires_grad=True (as in PyTorch)")


def _reduce(xp, l, reduction):
    """Reduce the elementwise loss array ``l``; the mean of nothing is NaN, like PyTorch."""
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    return l.sum() / l.size if l.size else xp.full((), math.nan, l.dtype)


def _fit(g, shape, dtype):
    """A full-shape gradient reduced to an input's shape (broadcasting) and dtype."""
    if g is None:
        return None
    if isinstance(g, np.generic):  # NumPy gives scalars for 0-d results
        g = np.asarray(g)
    g = unbroadcast(g, shape)
    return g if g.dtype == dtype else g.astype(dtype)


# ----------------------------------------------------------------------------------------------------------------
# Elementwise losses: loss(input, target[, weight]) = reduce(weight * f(input, target))
# ----------------------------------------------------------------------------------------------------------------


class _Elementwise(Function):
    """Base of the elementwise losses. Subclasses write ``f(xp, x, y)`` (keeping what ``df`` needs on
    ``self``) and ``df(xp, g, need_x, need_y)`` giving ``g * df/dx`` and ``g * df/dy`` (full shape).

    The optional third input is a weight multiplying the loss elementwise (differentiable). With
    ``weighted_mean`` the 'mean' reduction divides by the sum of the weights instead of the element count
    (PyTorch's weighted mse_loss / l1_loss)."""
    weighted_mean = False
    count = None  # what 'mean' divides by, when not the number of elements

    def __init__(self, reduction, dtype):
        self.reduction, self.dtype = reduction, dtype

    def forward(self, x, y, w=None):
        dt = self.dtype
        self.meta = [(x.shape, x.dtype), (y.shape, y.dtype)]
        x, y = x.astype(dt, copy=False), y.astype(dt, copy=False)
        xp = array_module(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            l = self.f(xp, x, y)
        self.w = None
        if w is not None:
            self.meta.append((w.shape, w.dtype))
            self.w = w = w.astype(dt, copy=False)
            self.raw = l
            l = l * w
        if self.reduction == "mean" and self.weighted_mean and w is not None:
            self.wsum = w.sum()
            self.out = l.sum() / self.wsum
            return self.out
        self.n = l.size if self.count is None else self.count
        if self.reduction == "mean" and self.count is not None:
            return l.sum() / self.count
        return _reduce(xp, l, self.reduction)

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        weighted_mean = self.reduction == "mean" and self.weighted_mean and self.w is not None
        if weighted_mean:
            g = g / self.wsum
        elif self.reduction == "mean" and self.n:
            g = g / self.n
        grads = []
        if self.w is not None:
            if need[2]:  # d/dw of sum(w l) (/ sum(w) for the weighted mean)
                gw = _fit(xp.broadcast_to(g * self.raw, self.raw.shape), *self.meta[2])
                grads.append((gw - g * self.out).astype(gw.dtype, copy=False) if weighted_mean else gw)
            else:
                grads.append(None)
            g = g * self.w
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gx, gy = self.df(xp, g, need[0], need[1])
        return (_fit(gx, *self.meta[0]) if need[0] else None, _fit(gy, *self.meta[1]) if need[1] else None,
                *grads)


class MseLoss(_Elementwise):
    weighted_mean = True

    def f(self, xp, x, y):
        self.d = d = x - y
        return d * d

    def df(self, xp, g, need_x, need_y):
        gx = self.d * (g * 2)
        return gx, (-gx if need_y else None)


class L1Loss(_Elementwise):
    weighted_mean = True

    def f(self, xp, x, y):
        self.d = d = x - y
        return xp.abs(d)

    def df(self, xp, g, need_x, need_y):
        gx = xp.sign(self.d) * g
        return gx, (-gx if need_y else None)


class SmoothL1Loss(_Elementwise):
    """0.5 d²/beta inside |d| < beta, |d| - beta/2 outside."""

    def __init__(self, reduction, dtype, beta):
        super().__init__(reduction, dtype)
        self.beta = beta

    def f(self, xp, x, y):
        self.d = d = x - y
        a = xp.abs(d)
        if self.beta == 0:
            return a
        return xp.where(a < self.beta, (0.5 / self.beta) * d * d, a - 0.5 * self.beta)

    def df(self, xp, g, need_x, need_y):
        d, beta = self.d, self.beta
        slope = xp.sign(d) if beta == 0 else xp.clip(d * (1.0 / beta), -1, 1)
        gx = slope * g
        return gx, (-gx if need_y else None)


class HuberLoss(_Elementwise):
    """0.5 d² inside |d| < delta, delta (|d| - delta/2) outside."""

    def __init__(self, reduction, dtype, delta):
        super().__init__(reduction, dtype)
        self.delta = delta

    def f(self, xp, x, y):
        self.d = d = x - y
        a = xp.abs(d)
        return xp.where(a < self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta))

    def df(self, xp, g, need_x, need_y):
        gx = xp.clip(self.d, -self.delta, self.delta) * g
        return gx, (-gx if need_y else None)


class BinaryCrossEntropy(_Elementwise):
    """-(y log x + (1 - y) log(1 - x)) with each log clamped at -100, as PyTorch does."""

    def f(self, xp, x, y):
        self.x, self.y = x, y
        self.retain_inputs(0, 1)
        lx = xp.maximum(xp.log(x), -100)
        l1x = xp.maximum(xp.log1p(-x), -100)
        return -(l1x + y * (lx - l1x))

    def df(self, xp, g, need_x, need_y):
        x, y = self.x, self.y
        gx = g * (x - y) / xp.maximum(x * (1 - x), 1e-12) if need_x else None
        # PyTorch's target gradient uses the unclamped logs (±inf at input 0 or 1)
        gy = g * (xp.log1p(-x) - xp.log(x)) if need_y else None
        return gx, gy


class BinaryCrossEntropyWithLogits(_Elementwise):
    """(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x), computed without overflow."""

    def __init__(self, reduction, dtype, pos_weight):
        super().__init__(reduction, dtype)
        self.pos_weight = pos_weight

    def f(self, xp, x, y):
        self.x, self.y = x, y
        self.retain_inputs(0, 1)
        self.sp = sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # softplus(-x)
        pw = self.pos_weight
        if pw is None:
            self.lw = None
            return (1 - y) * x + sp
        self.lw = lw = (pw.astype(x.dtype, copy=False) - 1) * y + 1
        return (1 - y) * x + lw * sp

    def df(self, xp, g, need_x, need_y):
        x, y, lw = self.x, self.y, self.lw
        gx = gy = None
        if need_x:
            e = xp.exp(-xp.abs(x))  # sigmoid(-x) = where(x >= 0, e, 1) / (1 + e)
            sig_neg = xp.where(x >= 0, e, 1) / (1 + e)
            gx = g * ((1 - y) - sig_neg if lw is None else (1 - y) - lw * sig_neg)
        if need_y:
            gy = g * (-x if lw is None else (self.pos_weight.astype(x.dtype, copy=False) - 1) * self.sp - x)
        return gx, gy


class KlDiv(_Elementwise):
    """target (log target - input), elementwise; with log_target the target is given as a log. 'batchmean' is
    the sum divided by the batch size."""

    def __init__(self, reduction, dtype, log_target, batch):
        super().__init__("mean" if reduction == "batchmean" else reduction, dtype)
        self.log_target, self.count = log_target, batch

    def f(self, xp, x, y):
        self.x, self.y = x, y
        self.retain_inputs(0, 1)
        if self.log_target:
            self.ey = ey = xp.exp(y)
            return ey * (y - x)
        # xlogy(y, y): 0 where y == 0
        return y * xp.log(xp.where(y == 0, 1, y)) - y * x

    def df(self, xp, g, need_x, need_y):
        x, y = self.x, self.y
        if self.log_target:
            gx = -g * self.ey if need_x else None
            gy = g * self.ey * (y - x + 1) if need_y else None
            return gx, gy
        gx = -g * y if need_x else None
        # PyTorch's xlogy gradient: NaN where the target is 0
        gy = g * (xp.log(y) + y / y - x) if need_y else None
        return gx, gy


def _elementwise(name, op, input, target, weight=None):
    _float_input(name, input)
    _tensor(name, "target", target)
    if weight is None:
        return op.apply(input, target)
    return op.apply(input, target, _tensor(name, "weight", weight))


def _loose_target(name, input, target):
    """mse/l1/huber/smooth_l1 broadcast a target of another shape (PyTorch warns; so do we)."""
    _float_input(name, input)
    _tensor(name, "target", target)
    if input._data.shape != target._data.shape:
        shape = _broadcast(name, input, target)
        warnings.warn(f"{name}: using a target size {_shape(target)} that is different to the input size "
                      f"{_shape(input)}; they are broadcast to {shape}, which is likely not intended",
                      stacklevel=3)
    return result_dtype(input, target)


def _check_weight_shape(name, input, weight):
    if weight is not None and _tensor(name, "weight", weight)._data.shape != input._data.shape:
        raise ValueError(f"{name}: weights and input must have the same size, got weight {_shape(weight)} "
                         f"and input {_shape(input)}")


@autocast_float32
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error; with ``weight`` the mean is sum(w (x - y)²) / sum(w)."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    dt = _loose_target("mse_loss", input, target)
    _check_weight_shape("mse_loss", input, weight)
    return _elementwise("mse_loss", MseLoss(reduction, dt), input, target, weight)


@autocast_float32
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error; with ``weight`` the mean is sum(w |x - y|) / sum(w)."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    dt = _loose_target("l1_loss", input, target)
    _check_weight_shape("l1_loss", input, weight)
    return _elementwise("l1_loss", L1Loss(reduction, dt), input, target, weight)


@autocast_float32
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    dt = _loose_target("smooth_l1_loss", input, target)
    return _elementwise("smooth_l1_loss", SmoothL1Loss(reduction, dt, float(beta)), input, target)


@autocast_float32
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss; with ``weight`` the mean is the plain mean of the weighted losses (as in PyTorch)."""
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    dt = _loose_target("huber_loss", input, target)
    _check_weight_shape("huber_loss", input, weight)
    return _elementwise("huber_loss", HuberLoss(reduction, dt, float(delta)), input, target, weight)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """BCE on probabilities; ``weight`` broadcasts to the input (not differentiable, as in PyTorch)."""
    name = "binary_cross_entropy"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _same_shape(name, input, _tensor(name, "target", target))
    if weight is not None:
        _no_weight_grad(name, "weight", _tensor(name, "weight", weight))
        if not _broadcasts_to(weight, input):
            raise RuntimeError(f"{name}: weight of shape {_shape(weight)} does not broadcast to the input "
                               f"shape {_shape(input)}")
    x = input._data
    if bool(((x < 0) | (x > 1)).any()):  # PyTorch validates eagerly too
        raise RuntimeError(f"{name}: all elements of input should be between 0 and 1")
    return _elementwise(name, BinaryCrossEntropy(reduction, result_dtype(input, target)), input, target,
                        weight)


@autocast_float32
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + BCE fused and stable for large |logits|; ``pos_weight`` weighs the positive term."""
    name = "binary_cross_entropy_with_logits"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _same_shape(name, input, _tensor(name, "target", target))
    for what, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            _no_weight_grad(name, what, _tensor(name, what, w))
            if not _broadcasts_to(w, input):
                raise RuntimeError(f"{name}: {what} of shape {_shape(w)} does not broadcast to the input "
                                   f"shape {_shape(input)}")
    pw = None if pos_weight is None else pos_weight._data
    if pw is not None and type(pw) is not type(input._data):
        raise RuntimeError(f"{name}: expected all tensors to be on the same device, got input on "
                           f"{input.device} and pos_weight on {pos_weight.device}")
    op = BinaryCrossEntropyWithLogits(reduction, result_dtype(input, target), pw)
    return _elementwise(name, op, input, target, weight)


@autocast_float32
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) elementwise; 'mean' is the elementwise mean, 'batchmean' divides the sum by
    the batch size (the mathematical KL divergence)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction("kl_div", reduction, size_average, reduce)
    elif reduction != "batchmean":
        reduction = _reduction("kl_div", reduction)
    _float_input("kl_div", input)
    _tensor("kl_div", "target", target)
    _broadcast("kl_div", input, target)
    if reduction == "batchmean" and input._data.ndim == 0:
        reduction = "sum"
    batch = input._data.shape[0] if reduction == "batchmean" else None
    return KlDiv(reduction, result_dtype(input, target), bool(log_target), batch).apply(input, target)


# ----------------------------------------------------------------------------------------------------------------
# Class-index losses: cross_entropy and nll_loss
# ----------------------------------------------------------------------------------------------------------------


class _ClassLoss(Function):
    """Shared bookkeeping of cross_entropy / nll_loss. Inputs are viewed as (N, C, D): D flattens the extra
    dims d1, d2 … (1 for (N, C) inputs); class-index targets as (N, D)."""

    def __init__(self, reduction, ignore_index, weight, smoothing=0.0):
        self.reduction, self.ignore_index, self.weight, self.smoothing = reduction, ignore_index, weight, smoothing

    def view(self, x):
        """``x`` as a contiguous (N, C, D) array, with the output shape of 'none'."""
        xp = array_module(x)
        self.x_shape, self.x_dtype = x.shape, x.dtype
        if x.ndim == 1:
            n, c, d, self.out_shape = 1, x.shape[0], 1, ()
        else:
            n, c = x.shape[:2]
            d = x.size // (n * c) if n * c else math.prod(x.shape[2:])
            self.out_shape = (n,) + x.shape[2:]
        return xp.ascontiguousarray(x).reshape(n, c, d)

    def pick(self, xp, t, n, c, d):
        """Flat indices of each sample's target class in an (N, C, D) array, the valid-target mask, and the
        per-sample class weights (zero for ignored targets)."""
        t = t.reshape(n, d)
        valid = t != self.ignore_index
        tc = xp.where(valid, t, 0)
        idx = (xp.arange(n).reshape(n, 1) * c + tc) * d + xp.arange(d)
        w = self.weight
        wt = w[tc] * valid if w is not None else valid.astype(self.dt)
        return idx, valid, wt

    def reduce(self, xp, per_sample, denom):
        """'mean' divides by ``denom``: the summed weights of the valid targets (or their count)."""
        self.denom = denom
        if self.reduction == "none":
            return per_sample.reshape(self.out_shape)
        total = per_sample.sum()
        if self.reduction == "sum":
            return total
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / denom

    def upstream(self, g, n, d):
        """The per-sample upstream gradient, shaped (N, 1, D) to broadcast along classes."""
        if self.reduction == "none":
            return g.reshape(n, 1, d)
        if self.reduction == "mean":
            d = self.denom
            if isinstance(d, int):
                return g / d if d else g
            # nothing counted (every target ignored): the loss is NaN but, as in PyTorch, the gradient is 0
            xp = array_module(g)
            return xp.where(d != 0, g, 0) / xp.where(d != 0, d, 1)
        return g


class CrossEntropy(_ClassLoss):
    """log_softmax + NLL fused. Per sample, with the (weighted, smoothed) target distribution q over classes:
    loss = -sum_c q_c log p_c and dloss/dx = p * sum_c q_c - q. ``dtype`` is the computation's dtype (the
    input's, promoted with a probability target's).

    With z = x - max(x) and lse = log sum exp z, log p = z - lse: the forward needs z only where it is summed
    or picked, so it exponentiates z in place and keeps exp(z) and 1 / sum exp(z) for the backward (p is one
    multiplication away)."""

    def __init__(self, reduction, ignore_index, weight, smoothing, dtype):
        super().__init__(reduction, ignore_index, weight, smoothing)
        self.dtype = dtype

    def forward(self, x, t):
        x3 = self.view(x).astype(self.dtype, copy=False)
        n, c, d = x3.shape
        self.n, self.c, self.d = n, c, d
        xp = array_module(x3)
        self.dt = x3.dtype
        m = x3.max(axis=1, keepdims=True)
        z = x3 - m
        if t.dtype.kind == "f":
            return self.forward_probs(xp, x3, m, z, t)
        eps, w = self.smoothing, self.weight
        self.idx, self.valid, self.wt = idx, valid, wt = self.pick(xp, t, n, c, d)
        picked = z.reshape(-1)[idx]
        if eps:
            zsum = (z.sum(axis=1) if w is None else (z * w.reshape(1, c, 1)).sum(axis=1))
        lse = self.softmax_parts(xp, z).reshape(n, d)
        loss = (lse - picked) * wt
        if eps:  # the smoothing term: -sum_c w_c log p_c = W lse - sum_c w_c z_c
            loss *= 1 - eps
            loss += (lse * (c if w is None else w.sum()) - zsum) * valid * (eps / c)
        return self.reduce(xp, loss, wt.sum())

    def softmax_parts(self, xp, z):
        """Exponentiate ``z`` in place; keep exp(z) and 1 / sum exp(z); return lse (N, 1, D)."""
        self.e = e = xp.exp(z, out=z)
        total = e.sum(axis=1, keepdims=True)
        self.inv_total = 1 / total
        return xp.log(total)

    def forward_probs(self, xp, x3, m, z, t):
        """Class-probability targets of the input's shape: q = (t (1 - eps) + eps / C) * weight."""
        n, c, d = self.n, self.c, self.d
        self.t_dtype = t.dtype
        t = xp.ascontiguousarray(t, dtype=self.dt).reshape(n, c, d)
        eps, w = self.smoothing, self.weight
        q = t * (1 - eps) + eps / c if eps else t
        if w is not None:
            q = q * w.reshape(1, c, 1)
        self.q = q
        self.retain_inputs(0, 1)
        qz = (q * z).sum(axis=1)
        self.qsum = qs = q.sum(axis=1, keepdims=True)
        lse = self.softmax_parts(xp, z)
        self.x3, self.shift = x3, m + lse  # log p = x - shift, for the target's gradient
        self.idx = None
        if self.reduction == "mean" and n * d == 0:
            return xp.full((), math.nan, self.dt)
        return self.reduce(xp, (lse * qs).reshape(n, d) - qz, n * d)

    def backward(self, g):
        xp = array_module(g)
        n, c, d = self.n, self.c, self.d
        gs = self.upstream(g, n, d)
        if self.idx is None:
            return self.backward_probs(xp, gs)
        eps, w = self.smoothing, self.weight
        a = self.wt.reshape(n, 1, d) * gs  # the target class's coefficient
        if eps:
            b = self.valid.reshape(n, 1, d) * (gs * (eps / c))  # the uniform (smoothing) coefficient
            a = a * (1 - eps)
            gx = self.e * ((a + b * (c if w is None else w.sum())) * self.inv_total)
            gx -= b if w is None else b * w.reshape(1, c, 1)
        else:
            gx = self.e * (a * self.inv_total)
        gx.reshape(-1)[self.idx] -= a.reshape(n, d)
        return gx.reshape(self.x_shape), None

    def backward_probs(self, xp, gs):
        gx = gt = None
        q = self.q
        if self.needs_input_grad[0]:
            gx = self.e * (self.qsum * gs * self.inv_total)
            gx -= q * gs
            gx = gx.reshape(self.x_shape).astype(self.x_dtype, copy=False)
        if self.needs_input_grad[1]:
            gt = (self.x3 - self.shift) * (-(1 - self.smoothing) * gs)
            if self.weight is not None:
                gt *= self.weight.reshape(1, self.c, 1)
            gt = gt.reshape(self.x_shape).astype(self.t_dtype, copy=False)
        return gx, gt


class NllLoss(_ClassLoss):
    """-weight[t] * input[t] per sample; input holds log-probabilities."""

    def forward(self, x, t):
        x3 = self.view(x)
        n, c, d = x3.shape
        self.n, self.c, self.d = n, c, d
        xp = array_module(x3)
        self.dt = x3.dtype
        self.idx, self.valid, self.wt = idx, _, wt = self.pick(xp, t, n, c, d)
        return self.reduce(xp, -x3.reshape(-1)[idx] * wt, wt.sum())

    def backward(self, g):
        xp = array_module(g)
        n, c, d = self.n, self.c, self.d
        gs = self.upstream(g, n, d)
        gx = xp.zeros((n, c, d), self.dt)
        gx.reshape(-1)[self.idx] = (self.wt.reshape(n, 1, d) * -gs).reshape(n, d)
        return gx.reshape(self.x_shape), None


def _class_targets(name, input, target, ignore_index):
    """Validate class-index targets like PyTorch (shape, dtype, range); returns the int64 target array."""
    x, t = input._data, target._data
    if t.dtype.kind not in "iu" or t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"{name}: expected target of dtype int64 (class indices), got {target.dtype.name} target "
                           f"of shape {_shape(target)} for input {_shape(input)} of dtype {input.dtype.name}")
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{name}: expected target of shape {expected} for input {_shape(input)}, "
                         f"got {_shape(target)}")
    if t.dtype != np.int64:
        t = t.astype(np.int64)
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bool(bad.any()):  # PyTorch checks the range eagerly too
            first = int(t[bad].reshape(-1)[0])
            raise IndexError(f"{name}: Target {first} is out of bounds (the input has {c} classes)")
    return t


def _class_weight(name, input, weight, dtype):
    if weight is None:
        return None
    _tensor(name, "weight", weight)
    _no_weight_grad(name, "weight", weight)
    x = input._data
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if weight._data.ndim != 1 or weight._data.shape[0] != c:
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {c} classes or no classes but "
                           f"got weight tensor of shape {_shape(weight)}")
    if type(weight._data) is not type(x):
        raise RuntimeError(f"{name}: expected all tensors to be on the same device, got input on {input.device} "
                           f"and weight on {weight.device}")
    return weight._data.astype(dtype, copy=False)


def _class_input(name, input):
    _float_input(name, input)
    x = input._data
    if x.ndim == 0 or (x.shape[0] if x.ndim == 1 else x.shape[1]) == 0:
        raise ValueError(f"{name}: expected an input of shape (C,), (N, C) or (N, C, d1, ...) with C > 0 classes, "
                         f"got shape {_shape(input)}")


@autocast_float32
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C,), (N, C) or (N, C, d1, ...) and class indices (int64, shape
    (), (N,) or (N, d1, ...)) or class probabilities (float, the input's shape)."""
    name = "cross_entropy"
    reduction = _reduction(name, reduction, size_average, reduce)
    _class_input(name, input)
    _tensor(name, "target", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{name}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x, t = input._data, target._data
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise ValueError(f"{name}: expected int64 class indices of shape "
                             f"{() if x.ndim == 1 else (x.shape[0],) + x.shape[2:]} or floating point class "
                             f"probabilities of shape {x.shape} for input {_shape(input)}, got a "
                             f"{target.dtype.name} target of shape {_shape(target)}")
        if ignore_index >= 0:  # PyTorch refuses a class index to ignore and ignores a negative one
            raise RuntimeError(f"{name}: ignore_index is not supported for floating point target")
        dt = result_dtype(input, target)
        op = CrossEntropy(reduction, -100, _class_weight(name, input, weight, dt), float(label_smoothing), dt)
        return op.apply(input, target)
    t = _class_targets(name, input, target, ignore_index)
    op = CrossEntropy(reduction, ignore_index, _class_weight(name, input, weight, x.dtype), float(label_smoothing),
                      x.dtype)
    return op.apply(input, t)


@autocast_float32
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices given log-probabilities ``input``."""
    name = "nll_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _class_input(name, input)
    t = _class_targets(name, input, _tensor(name, "target", target), ignore_index)
    return NllLoss(reduction, ignore_index, _class_weight(name, input, weight, input._data.dtype)).apply(input, t)


# ----------------------------------------------------------------------------------------------------------------
# Similarities and distances
# ----------------------------------------------------------------------------------------------------------------


class CosineSimilarity(Function):
    """sum(x1 x2) / (max(|x1|, eps) max(|x2|, eps)) along ``dim`` (PyTorch's formula: each norm clamped).

    As in PyTorch the clamp does not enter the gradient: d|x|/dx = x / |x| (0 where |x| = 0)."""

    def __init__(self, dim, eps, dtype):
        self.dim, self.eps, self.dtype = dim, eps, dtype

    def forward(self, a, b):
        xp = array_module(a)
        self.meta = [(a.shape, a.dtype), (b.shape, b.dtype)]
        a, b = xp.broadcast_arrays(a.astype(self.dtype, copy=False), b.astype(self.dtype, copy=False))
        ax = self.dim
        na = xp.sqrt((a * a).sum(axis=ax, keepdims=True))
        nb = xp.sqrt((b * b).sum(axis=ax, keepdims=True))
        ca, cb = xp.maximum(na, self.eps), xp.maximum(nb, self.eps)
        out = (a * b).sum(axis=ax, keepdims=True) / (ca * cb)
        self.a, self.b, self.na, self.nb, self.ca, self.cb, self.cos = a, b, na, nb, ca, cb, out
        self.retain_inputs(0, 1)
        return out.squeeze(ax)

    def backward(self, g):
        xp = array_module(g)
        g = xp.expand_dims(g, self.dim)
        need = self.needs_input_grad
        gc = g * self.cos
        grads = []
        for i, (x, other, n, c, c_other) in enumerate(((self.a, self.b, self.na, self.ca, self.cb),
                                                         (self.b, self.a, self.nb, self.cb, self.ca))):
            if not need[i]:
                grads.append(None)
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                dn = xp.where(n > 0, x / (n * c), 0)  # d(x / c)/dx through the unclamped norm
            gx = g * other / (c * c_other) - gc * dn
            grads.append(_fit(gx, *self.meta[i]))
        return tuple(grads)


@autocast_float32
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine similarity along ``dim`` of the broadcast inputs."""
    name = "cosine_similarity"
    _tensor(name, "x1", x1)
    _tensor(name, "x2", x2)
    shape = _broadcast(name, x1, x2)
    if x1._data.dtype.kind != "f" and x2._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected floating point inputs, got {x1.dtype.name} and {x2.dtype.name}")
    return CosineSimilarity(wrap_dim(dim, len(shape)), float(eps), result_dtype(x1, x2)).apply(x1, x2)


class PNorm(Function):
    """|x|_p along the last axis (p > 0, or inf); the gradient is 0 where the norm is 0 (as in PyTorch)."""

    def __init__(self, p, keepdim):
        self.p, self.keepdim = p, keepdim

    def forward(self, x):
        xp = array_module(x)
        p = self.p
        self.x = x
        self.retain_inputs(0)
        a = xp.abs(x)
        if p == math.inf:
            n = a.max(axis=-1, keepdims=True) if x.shape[-1] else xp.zeros(x.shape[:-1] + (1,), x.dtype)
        elif p == 1:
            n = a.sum(axis=-1, keepdims=True)
        elif p == 2:
            n = xp.sqrt((x * x).sum(axis=-1, keepdims=True))
        else:
            n = (a ** p).sum(axis=-1, keepdims=True) ** (1.0 / p)
        self.n = n
        return n if self.keepdim else n.squeeze(-1)

    def backward(self, g):
        xp = array_module(g)
        if not self.keepdim:
            g = xp.expand_dims(g, -1)
        x, n, p = self.x, self.n, self.p
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == math.inf:
                hit = xp.abs(x) == n
                gx = xp.sign(x) * hit / hit.sum(axis=-1, keepdims=True)
            elif p == 1:
                gx = xp.sign(x)
            elif p == 2:
                gx = x / n
            else:
                gx = xp.sign(x) * xp.abs(x) ** (p - 1) / n ** (p - 1)
            return xp.where(n > 0, gx * g, 0).astype(x.dtype, copy=False)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """|x1 - x2 + eps|_p along the last dimension."""
    name = "pairwise_distance"
    _float_input(name, x1, "x1")
    _tensor(name, "x2", x2)
    _broadcast(name, x1, x2)
    if not p > 0:
        raise NotImplementedError(f"{name}: p = {p} is not supported by zoo (p must be > 0 or inf)")
    d = P.add(P.sub(x1, x2), eps)
    if d._data.ndim == 0:
        raise RuntimeError(f"{name}: expected inputs with at least one dimension")
    return PNorm(float(p), keepdim).apply(d)


# ----------------------------------------------------------------------------------------------------------------
# Further losses, composed from the pointwise ops and a reduction
# ----------------------------------------------------------------------------------------------------------------


def _finish(t, reduction):
    if reduction == "none":
        return t
    return R.mean(t) if reduction == "mean" else R.sum(t)


@autocast_float32
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin)."""
    name = "margin_ranking_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    for w, t in (("input1", input1), ("input2", input2), ("target", target)):
        _tensor(name, w, t)
    if not (input1._data.ndim == input2._data.ndim == target._data.ndim):
        raise RuntimeError(f"{name}: all input tensors should have the same number of dimensions, got "
                           f"{_shape(input1)}, {_shape(input2)} and {_shape(target)}")
    _broadcast(name, input1, input2, target)
    return _finish(P.relu(P.add(P.mul(P.neg(target), P.sub(input1, input2)), margin)), reduction)


@autocast_float32
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    name = "hinge_embedding_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _tensor(name, "target", target)
    _broadcast(name, input, target)
    zero = Tensor._make(array_module(input._data).zeros((), input._data.dtype))
    margin_part = P.where(P.ne(target, 1), P.relu(P.rsub(input, margin)), zero)
    self_part = P.where(P.ne(target, -1), input, zero)
    return _finish(P.add(margin_part, self_part), reduction)


@autocast_float32
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    name = "soft_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _tensor(name, "target", target)
    _broadcast(name, input, target)
    return _finish(P.softplus(P.neg(P.mul(target, input))), reduction)


@autocast_float32
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the class-mean of binary cross entropies on logits (optionally weighted per class)."""
    name = "multilabel_soft_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _tensor(name, "target", target)
    if input._data.ndim < 1:
        raise ValueError(f"{name}: expected an input of shape (C,) or (N, C), got a 0-d input")
    # -(y log σ(x) + (1 - y) log σ(-x)) = softplus(-x) + (1 - y) x
    loss = P.add(P.softplus(P.neg(input)), P.mul(P.rsub(target, 1), input))
    if weight is not None:
        loss = P.mul(loss, weight)
    per_sample = R.mean(loss, input._data.ndim - 1)
    return _finish(per_sample, reduction)


@autocast_float32
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood: exp(x) - y x (log_input) or x - y log(x + eps); ``full`` adds
    Stirling's approximation of log(y!) where y > 1."""
    name = "poisson_nll_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input)
    _tensor(name, "target", target)
    _broadcast(name, input, target)
    if log_input:
        loss = P.sub(P.exp(input), P.mul(target, input))
    else:
        loss = P.sub(input, P.mul(target, P.log(P.add(input, eps))))
    if full:  # Stirling's term where target > 1 (evaluated at 2 elsewhere, so its gradient stays finite)
        big = P.gt(target, 1)
        xp, dt = array_module(input._data), loss._data.dtype
        two, zero = Tensor._make(xp.full((), 2, dt)), Tensor._make(xp.zeros((), dt))
        y = P.where(big, target, two)
        st = P.add(P.sub(P.mul(y, P.log(y)), y), P.mul(P.log(P.mul(y, 2 * math.pi)), 0.5))
        loss = P.add(loss, P.where(big, st, zero))
    return _finish(loss, reduction)


@autocast_float32
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian NLL: 0.5 (log var + (input - target)² / var), var clamped at ``eps`` (the clamp does not
    stop the gradient, as in PyTorch)."""
    name = "gaussian_nll_loss"
    reduction = _reduction(name, reduction)
    _float_input(name, input)
    _tensor(name, "target", target)
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries")
        var = Tensor._make(array_module(input._data).full(input._data.shape, float(var), input._data.dtype))
    elif bool((var._data < 0).any()):
        raise ValueError(f"{name}: var has negative entry/entries")
    vs, xs = var._data.shape, input._data.shape
    if vs != xs:
        if vs == xs[:-1]:  # one variance per sample (homoscedastic)
            var = S.unsqueeze(var, -1)
        elif not (len(vs) == len(xs) and sum(v for x, v in zip(xs, vs) if x != v) == 1):
            raise ValueError(f"{name}: var of shape {vs} is of incorrect size for input of shape {xs}")
    var = _ClampNoGrad(eps).apply(var)
    d = P.sub(input, target)
    loss = P.mul(P.add(P.log(var), P.div(P.mul(d, d), var)), 0.5)
    if full:
        loss = P.add(loss, 0.5 * math.log(2 * math.pi))
    return _finish(loss, reduction)


class _ClampNoGrad(Function):
    """max(x, eps) whose gradient is the identity (PyTorch clamps gaussian_nll_loss's var under no_grad)."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x):
        return array_module(x).maximum(x, self.eps).astype(x.dtype, copy=False)

    def backward(self, g):
        return g


@autocast_float32
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    name = "cosine_embedding_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    _float_input(name, input1, "input1")
    _float_input(name, input2, "input2")
    _tensor(name, "target", target)
    if input1._data.shape != input2._data.shape or input1._data.ndim not in (1, 2):
        raise RuntimeError(f"{name}: expected input1 and input2 of the same shape (N, D) or (D,), got "
                           f"{_shape(input1)} and {_shape(input2)}")
    if target._data.shape != input1._data.shape[:-1]:
        raise RuntimeError(f"{name}: expected target of shape {input1._data.shape[:-1]} for inputs "
                           f"{_shape(input1)}, got {_shape(target)}")
    cos = _CosineEmbedding().apply(input1, input2)
    zero = Tensor._make(array_module(cos._data).zeros((), cos._data.dtype))
    pos = P.where(P.eq(target, 1), P.rsub(cos, 1), zero)
    neg = P.where(P.eq(target, -1), P.relu(P.sub(cos, margin)), zero)
    return _finish(P.add(pos, neg), reduction)


class _CosineEmbedding(Function):
    """sum(a b) / sqrt((|a|² + 1e-12)(|b|² + 1e-12)) along the last axis: cosine_embedding_loss's cosine."""

    def forward(self, a, b):
        xp = array_module(a)
        self.a, self.b = a, b
        self.retain_inputs(0, 1)
        self.ma = (a * a).sum(axis=-1, keepdims=True) + 1e-12
        self.mb = (b * b).sum(axis=-1, keepdims=True) + 1e-12
        self.inv = 1 / xp.sqrt(self.ma * self.mb)
        self.cos = (a * b).sum(axis=-1, keepdims=True) * self.inv
        return self.cos[..., 0]

    def backward(self, g):
        g = g[..., None]
        need = self.needs_input_grad
        ga = g * (self.b * self.inv - self.cos * self.a / self.ma) if need[0] else None
        gb = g * (self.a * self.inv - self.cos * self.b / self.mb) if need[1] else None
        return ga, gb


@autocast_float32
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with the pairwise p-norm distance; ``swap`` uses min(d(a, n),
    d(p, n))."""
    name = "triplet_margin_loss"
    reduction = _reduction(name, reduction, size_average, reduce)
    dims = {t._data.ndim for t in (_tensor(name, "anchor", anchor), _tensor(name, "positive", positive),
                                    _tensor(name, "negative", negative))}
    if len(dims) != 1 or dims.pop() not in (1, 2):
        raise RuntimeError(f"{name}: expected anchor, positive and negative with the same number of dimensions, "
                           f"1 or 2, got {_shape(anchor)}, {_shape(positive)} and {_shape(negative)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = P.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _finish(P.relu(P.add(P.sub(d_pos, d_neg), margin)), reduction)
