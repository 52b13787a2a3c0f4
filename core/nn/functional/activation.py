"""Activation functions (``zoo.nn.functional.relu``, ``gelu``, ``softmax`` …) and the error function.

Each activation is one fused ``Function``: forward and its closed-form derivative side by side, on NumPy or
CuPy arrays. The simple ones that also live in ``zoo.*`` (relu, sigmoid, tanh …) come from
``core/ops/pointwise.py``; here they get PyTorch's ``inplace=`` flag and ``F.<name>_`` in-place forms.
"""
import math
import warnings

import numpy as np

from ... import dtypes, parallel
from ...amp import autocast_float32
from ...autograd.function import Function
from ...autograd.grad_mode import _mode
from ...device import array_module
from ...ops import pointwise as _pw
from ...ops._util import float_result, unbroadcast, wrap_dim
from ...ops.blockwise import blockwise
from ...ops.inplace import inplace as _make_inplace
from ...ops.pointwise import sigmoid, softplus, tanh
from ...random import generator_for
from ...tensor import Tensor

__all__ = [
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
    "selu_", "celu", "celu_", "silu", "mish", "softplus", "sigmoid", "tanh", "hardswish", "hardsigmoid",
    "logsigmoid", "softsign", "tanhshrink", "threshold", "threshold_", "hardshrink", "softshrink", "rrelu",
    "rrelu_", "prelu", "glu", "gelu", "erf", "erfc", "softmax", "log_softmax", "softmin", "gumbel_softmax",
]


def _require_float(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point tensor, got dtype {input.dtype.name}")


# ----------------------------------------------------------------------------------------------------------------
# The error function. NumPy has no erf, so it is computed here: a polynomial in x² for |x| < 1, and for |x| >= 1
# erfc(x) = exp(-x²) · h(x) / x where h(x) = x·exp(x²)·erfc(x) is smooth on [1, ∞) (it tends to 1/√π) and is
# expanded in Chebyshev polynomials of t = (x - 5) / (x + 3), which maps [1, ∞) onto [-1, 1).
#
# Coefficients were computed for zoo with 50-digit arithmetic (mpmath): Chebyshev interpolation at 80 (h) and
# 40 (erf(x)/x as a function of s = x² on [0, 1], converted to powers of s) nodes, truncated where the terms
# drop below double (…64) or single (…32) precision. Max error on a dense grid: 2.2e-16 absolute for erf in
# float64, 1.5e-7 in float32.
# ----------------------------------------------------------------------------------------------------------------

_ERF_SMALL64 = (1.1283791670955126, -0.3761263890318375, 0.11283791670954882, -0.026866170645077334,
                0.005223977624823223, -0.0008548326981129666, 0.00012055331122299266, -1.4925595519506043e-05,
                1.6461004480962034e-06, -1.6350354461959655e-07, 1.4660051998394848e-08,
                -1.1373902296430911e-09, 5.958930743134941e-11)
_ERF_SMALL32 = (1.1283791670623609, -0.3761263847599132, 0.11283782622062184, -0.026865438310515116,
                0.005221053412537675, -0.0008484396550601893, 0.00011268253894199437, -9.673590811750782e-06)
_ERFC_CHEB = (0.5270327699645345, 0.058438373634075017, -0.028760006767845146, 0.00942338429719674,
              -0.0023281563723139085, 0.00043730093384926333, -5.8303544643230866e-05, 4.043114560930833e-06,
              2.70898072771642e-07, -9.965420547129235e-08, 5.899419235825997e-09, 1.3859802863792783e-09,
              -2.3156333271134693e-10, -1.5604196875242842e-11, 6.283638983525689e-12, 1.2178727055545494e-13,
              -1.6752992531325616e-13, 3.133338732321978e-16, 4.754423145110417e-15, -2.4579810618655913e-17,
              -1.4571109178923862e-16, -1.1939383999583008e-18, 4.74192559805803e-18)
_ERFC_TERMS32 = 11  # the first 11 Chebyshev terms reach float32 precision
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# For the exact split of x² (see _exp_minus_square): keep the top bits of the significand so that xh² is exact.
_HIGH_BITS = {np.dtype(np.float64): (np.uint64, np.uint64(0xFFFFFFFF00000000)),
              np.dtype(np.float32): (np.uint32, np.uint32(0xFFFFF000))}


def _horner(coefs, s):
    r = s * coefs[-1]
    r += coefs[-2]
    for c in coefs[-3::-1]:
        r *= s
        r += c
    return r


def _clenshaw(coefs, t):
    """sum_k coefs[k] T_k(t) by Clenshaw's recurrence."""
    t2 = t + t
    b1 = t2 * coefs[-1] + coefs[-2]
    b2 = t.dtype.type(coefs[-1])
    for c in coefs[-3:0:-1]:
        b = t2 * b1
        b -= b2
        b += c
        b1, b2 = b, b1
    b = t * b1
    b -= b2
    b += coefs[0]
    return b


def _exp_minus_square(xp, ax, exact):
    """exp(-ax²). With ``exact``, x² is split as xh² + (ax - xh)(ax + xh) with xh² exact, so the result keeps
    full relative precision for large ax (erfc's tail) instead of losing ax²·eps."""
    if not exact:
        return xp.exp(-(ax * ax))
    bits, mask = _HIGH_BITS[ax.dtype]
    xh = (ax.view(bits) & mask).view(ax.dtype)
    return xp.exp(-(xh * xh)) * xp.exp(-((ax - xh) * (ax + xh)))


def _erfc_tail(xp, ax, exact):
    """erfc(ax) for ax >= 1 (smaller ax are clamped to 1; ax beyond 30 gives 0, as erfc(30) < 1e-392)."""
    ax = xp.clip(ax, 1, 30)
    t = (ax - 5) / (ax + 3)
    h = _clenshaw(_ERFC_CHEB if ax.dtype == np.float64 else _ERFC_CHEB[:_ERFC_TERMS32], t)
    return _exp_minus_square(xp, ax, exact) * h / ax


def _erf_small(xp, x, ax):
    """erf(x) for |x| < 1 (larger |x| are clamped, so nothing overflows)."""
    s = xp.minimum(ax, 1)
    s *= s
    return x * _horner(_ERF_SMALL64 if x.dtype == np.float64 else _ERF_SMALL32, s)


def _float_input(x):
    """The array erf works on: floats (float16 computed in float32), ints in the default float dtype."""
    if x.dtype.kind != "f":
        return x.astype(float_result(x.dtype))
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _erf_array(xp, x):
    if x.ndim == 0:  # NumPy turns 0-d results into scalars: work on one element
        return _erf_array(xp, x.reshape(1)).reshape(())
    if xp is not np:
        from cupyx.scipy.special import erf as cupy_erf
        return cupy_erf(x)
    ax = xp.abs(x)
    big = xp.copysign(1 - _erfc_tail(xp, ax, False), x)
    return xp.where(ax < 1, _erf_small(xp, x, ax), big)


def _erfc_array(xp, x, exact=True):
    """erfc(x); ``exact=False`` skips the exact split of x² (relative error ~x²·eps far in the tail)."""
    if x.ndim == 0:
        return _erfc_array(xp, x.reshape(1), exact).reshape(())
    if xp is not np:
        from cupyx.scipy.special import erfc as cupy_erfc
        return cupy_erfc(x)
    ax = xp.abs(x)
    tail = _erfc_tail(xp, ax, exact)
    big = xp.where(x < 0, 2 - tail, tail)
    return xp.where(ax < 1, 1 - _erf_small(xp, x, ax), big)


class Erf(Function):
    """erf(x); d/dx = 2/√π · exp(-x²)."""
    sign = 1

    def forward(self, x):
        dtype = x.dtype if x.dtype.kind == "f" else float_result(x.dtype)
        x = _float_input(x)
        self.x = x
        self.retain_inputs(0)
        out = (_erf_array if self.sign > 0 else _erfc_array)(array_module(x), x)
        return out.astype(dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        x = self.x
        d = xp.exp(-(x * x))
        d *= self.sign * _TWO_OVER_SQRT_PI
        return (g * d).astype(g.dtype, copy=False)


class Erfc(Erf):
    """erfc(x) = 1 - erf(x), accurate in relative terms far into the tail; d/dx = -2/√π · exp(-x²)."""
    sign = -1


def erf(input):
    """The error function, elementwise (float64 to about 1 ulp; integer inputs give the default float dtype)."""
    return Erf().apply(input)


def erfc(input):
    """The complementary error function 1 - erf(x), elementwise."""
    return Erfc().apply(input)


# ----------------------------------------------------------------------------------------------------------------
# Pointwise activations: f and f' side by side. The input is kept for the derivative.
# ----------------------------------------------------------------------------------------------------------------


class _Activation(Function):
    def forward(self, x):
        self.x = x
        self.retain_inputs(0)
        return self.f(array_module(x), x).astype(x.dtype, copy=False)

    def backward(self, g):
        return (g * self.df(array_module(g), self.x)).astype(g.dtype, copy=False)


class Hardswish(_Activation):
    def f(self, xp, x):
        return x * xp.clip(x + 3, 0, 6) / 6

    def df(self, xp, x):
        return xp.where(x < -3, 0, xp.where(x <= 3, x / 3 + 0.5, 1))


class Hardsigmoid(_Activation):
    def f(self, xp, x):
        return xp.clip(x / 6 + 0.5, 0, 1)

    def df(self, xp, x):
        return ((x > -3) & (x < 3)) / x.dtype.type(6)


class Logsigmoid(_Activation):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow for any x."""

    def f(self, xp, x):
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def df(self, xp, x):  # sigmoid(-x)
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, e, 1) / (1 + e)


class Softsign(_Activation):
    def f(self, xp, x):
        return x / (1 + xp.abs(x))

    def df(self, xp, x):
        d = 1 + xp.abs(x)
        return 1 / (d * d)


class Tanhshrink(_Activation):
    def f(self, xp, x):
        return x - xp.tanh(x)

    def df(self, xp, x):
        t = xp.tanh(x)
        return t * t


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class ScaledElu(_Activation):
    """scale · (x for x > 0, alpha·(exp(k·x) - 1) otherwise): CELU has k = 1/alpha, SELU fixed alpha and scale."""

    def __init__(self, alpha, k, scale=1.0):
        self.alpha, self.k, self.scale = alpha, k, scale

    def f(self, xp, x):
        return self.scale * xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0) * self.k))

    def df(self, xp, x):
        return self.scale * xp.where(x > 0, 1, (self.alpha * self.k) * xp.exp(xp.minimum(x, 0) * self.k))


class Threshold(_Activation):
    def __init__(self, threshold, value):
        self.threshold, self.value = threshold, value

    def f(self, xp, x):
        return xp.where(x > self.threshold, x, self.value)

    def df(self, xp, x):
        return x > self.threshold


class Hardshrink(_Activation):
    def __init__(self, lambd):
        self.lambd = lambd

    def f(self, xp, x):
        return xp.where(xp.abs(x) > self.lambd, x, 0)

    def df(self, xp, x):
        return xp.abs(x) > self.lambd


class Softshrink(Hardshrink):
    def f(self, xp, x):
        lam = self.lambd
        return xp.where(x > lam, x - lam, xp.where(x < -lam, x + lam, 0))


class Gelu(Function):
    """x·Φ(x) (Φ the normal cdf, via erfc for accuracy in the left tail), or its tanh approximation. Exact float32
    keeps the derivative Φ + x·φ from forward (``grad``); the other paths keep x."""

    def __init__(self, approximate):
        self.approximate = approximate

    def forward(self, x):
        self.grad = None
        if x.dtype == np.float32 and self.approximate != "tanh":
            if not self.needs_input_grad[0]:
                return blockwise(_gelu_fast32, x, n_out=2, into=True)[0]
            # the derivative too, while each block is in cache: backward is then one multiply (and x is not kept)
            out, self.grad = blockwise(_gelu_and_grad_fast32, x, n_out=2, into=True)
            return out
        xp = array_module(x)
        self.x = x
        self.retain_inputs(0)
        if self.approximate == "tanh":
            self.t = xp.tanh(_GELU_K * (x + 0.044715 * x * x * x))
            return (0.5 * x * (1 + self.t)).astype(x.dtype, copy=False)
        if x.dtype == np.float64:
            cdf = _erfc_array(xp, xp.multiply(x, -_SQRT1_2), exact=False)
            cdf *= 0.5
            self.cdf = cdf
            return x * cdf
        out, cdf = blockwise(_gelu_and_cdf32, x, n_out=2, dtypes=[x.dtype, x.dtype])
        self.cdf = cdf
        return out

    def backward(self, g):
        if self.grad is not None:
            return array_module(g).multiply(g, self.grad, out=parallel.empty_like(g))
        xp = array_module(g)
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_K * (1 + 3 * 0.044715 * x * x))
        elif x.dtype == np.float64:
            d = self.cdf + x * xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
        else:
            return blockwise(_gelu_grad32, g, x, self.cdf)
        return (g * d).astype(g.dtype, copy=False)


# erfc(z) ≈ t·exp(-z² + P(t)), t = 1/(1 + z/2): a Chebyshev fit with fractional error below 1.2e-7 for all
# z >= 0 (Numerical Recipes' erfcc). Ten coefficients, one exp: float32 accuracy at a quarter of the cost of
# the float64-grade erfc above, which matters because GELU sits in every transformer MLP.
_ERFCC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
          -0.82215223, 0.17087277)


def _gelu_and_cdf32(xp, x):
    """gelu(x) and Φ(x) for other float dtypes (float16), computed in float32. Flattened: arithmetic on 0-d
    arrays gives NumPy scalars, which the in-place steps cannot write into."""
    flat = x.reshape(-1)
    cdf = _normal_cdf32(xp, flat.astype(np.float32)).astype(x.dtype, copy=False)
    return (flat * cdf).reshape(x.shape), cdf.reshape(x.shape)


def _gelu_grad32(xp, g, x, cdf):
    """g · (Φ(x) + x·φ(x)) (flattened, as in _gelu_and_cdf32)."""
    flat = x.reshape(-1)
    d = _x_phi32(xp, flat, flat * flat)
    d += cdf.reshape(-1)
    d *= g.reshape(-1)
    return d.reshape(g.shape)


# Φ(x) = (1 + tanh(x·R(x²))) / 2 with R a degree-6 polynomial fitted (weighted, Lawson-iterated least
# squares) to atanh(erf(x/√2))/x on [0, 5.6]. Beyond 5.6, x·R(x²) stays above 8.9 and grows (to inf, tanh
# gives ±1 there; no NaN for any finite or infinite x), so no clamp is needed. Evaluated in float32 the max abs
# error on Φ is 1.0e-7 (2e-7 on erf) on dense grids over [-9, 9], [-1e4, 1e4] and the whole float32 range:
# float32 accuracy in absolute terms (as PyTorch's x·(1 + erf(x/√2))/2), in ~18 passes instead of ~30, and
# roundoff in R is damped by tanh' → 0 in the tails.
_PHI_R = (0.7978849415464743, 0.03633308413210913, -3.25944174289228e-05, -5.5306458267700604e-05,
          3.96479844687769e-06, -1.3226807918147006e-07, 1.7563148988814506e-09)


def _gelu_fast32(xp, x, out, cdf, s=None):
    """gelu(x) into ``out`` and Φ(x) into ``cdf`` for float32 ``x`` (see _PHI_R); ``s``: x² if already at hand."""
    s = xp.multiply(x, x) if s is None else s
    xp.multiply(s, np.float32(_PHI_R[6]), out=out)
    for c in _PHI_R[5:0:-1]:
        out += np.float32(c)
        out *= s
    out += np.float32(_PHI_R[0])
    out *= x
    xp.tanh(out, out=out)
    xp.multiply(out, np.float32(0.5), out=cdf)
    cdf += np.float32(0.5)
    xp.multiply(x, cdf, out=out)


def _gelu_and_grad_fast32(xp, x, out, grad):
    """gelu(x) into ``out`` and its derivative Φ(x) + x·φ(x) into ``grad``, for float32 ``x``."""
    s = xp.multiply(x, x, out=xp.empty_like(x))  # an array even for 0-d x (written in place below)
    _gelu_fast32(xp, x, out, grad, s)
    grad += _x_phi32(xp, x, s)


def _x_phi32(xp, x, s):
    """x·φ(x) in place of ``s`` = x² (float32), with exp(-x²/2) as exp2(-x²·log2(e)/2): NumPy's float32 exp2
    takes about half the time of its exp. The exponent is clamped at -126 so the result stays a normal float32:
    exp2's underflow path is a hundred times slower, and x·φ(x) is below 1e-36 there anyway."""
    s *= np.float32(-0.5 * math.log2(math.e))
    xp.maximum(s, np.float32(-126.0), out=s)
    xp.exp2(s, out=s)
    s *= x
    s *= np.float32(_INV_SQRT_2PI)
    return s


def _normal_cdf32(xp, x):
    """Φ(x) for float32 ``x`` to float32 accuracy, computed in place on a few work arrays."""
    z = xp.abs(x)
    z *= _SQRT1_2
    t = z * 0.5
    t += 1
    xp.reciprocal(t, out=t)
    p = t * _ERFCC[9]
    for c in _ERFCC[8:0:-1]:
        p += c
        p *= t
    p += _ERFCC[0]
    z *= z
    p -= z
    xp.exp(p, out=p)
    p *= t
    p *= 0.5  # Φ(-|x|) = erfc(|x|/√2) / 2
    p -= 0.5
    xp.copysign(p, x, out=p)  # Φ(x) - 0.5 = sign(x)·(0.5 - Φ(-|x|))
    p += 0.5
    return p


_GELU_K = math.sqrt(2.0 / math.pi)
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def gelu(input, approximate="none"):
    """Gaussian error linear unit: x·Φ(x) exactly (``approximate='none'``) or with PyTorch's tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got '{approximate}'")
    _require_float(input, "gelu")
    return Gelu(approximate).apply(input)


def hardswish(input, inplace=False):
    """x · relu6(x + 3) / 6."""
    _require_float(input, "hardswish")
    return _hardswish_(input) if inplace else _hardswish(input)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    _require_float(input, "hardsigmoid")
    return _hardsigmoid_(input) if inplace else _hardsigmoid(input)


def logsigmoid(input):
    """log(sigmoid(x)), numerically stable for large |x|."""
    _require_float(input, "logsigmoid")
    return Logsigmoid().apply(input)


def softsign(input):
    """x / (1 + |x|)."""
    _require_float(input, "softsign")
    return Softsign().apply(input)


def tanhshrink(input):
    """x - tanh(x)."""
    _require_float(input, "tanhshrink")
    return Tanhshrink().apply(input)


def _celu(input, alpha=1.0):
    _require_float(input, "celu")
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (ZeroDivisionError)")
    return ScaledElu(alpha, 1.0 / alpha).apply(input)


def _selu(input):
    _require_float(input, "selu")
    return ScaledElu(_SELU_ALPHA, 1.0, _SELU_SCALE).apply(input)


def _threshold(input, threshold, value):
    _require_float(input, "threshold")
    return Threshold(threshold, value).apply(input)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    _require_float(input, "hardshrink")
    return Hardshrink(lambd).apply(input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    _require_float(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink(lambd).apply(input)


class Rrelu(Function):
    """Leaky ReLU with a random slope per element, drawn uniformly from [lower, upper] (training mode)."""

    def forward(self, x, slope):
        xp = array_module(x)
        self.scale = xp.where(x >= 0, 1, slope).astype(x.dtype, copy=False)
        return x * self.scale

    def backward(self, g):
        return g * self.scale, None


def _rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    _require_float(input, "rrelu")
    if not training:
        return _pw.leaky_relu(input, (lower + upper) / 2)
    rng = generator_for(input.device).rng
    x = input._data
    u = rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
    return Rrelu().apply(input, (lower + (upper - lower) * u).astype(x.dtype, copy=False))


# The functions with PyTorch's inplace= flag, and their F.<name>_ forms. In-place versions compute out of place
# and write back through core/ops/inplace.py, which keeps autograd correct.
def _inplace_form(name, fn, snapshot=True):
    method = _make_inplace(fn, snapshot=snapshot)
    method.__name__ = name + "_"
    return method


class Hardtanh(Function):
    """x clipped to [lo, hi] in one pass; the gradient passes strictly inside (lo, hi), as PyTorch's hardtanh
    (and relu6): read off the output, so nothing is kept when no gradient is wanted."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = array_module(x)
        t = x.dtype.type
        lo, hi = t(self.lo), t(self.hi)
        if lo > hi:
            y = xp.full_like(x, hi)
        elif xp is np:
            y = np.clip(x, lo, hi)  # one pass (NumPy's SIMD clip); NaN stays NaN
        else:
            y = xp.clip(x, lo, hi).astype(x.dtype, copy=False)
        if self.needs_input_grad[0]:
            self.y = y
            self.retain_output()
        return y

    def backward(self, g):
        y = self.y
        t = y.dtype.type
        mask = y > t(self.lo)
        mask &= y < t(self.hi)
        return g * mask


def _hardtanh(input, min_val=-1.0, max_val=1.0):
    if not isinstance(input, Tensor) or input._data.dtype.kind != "f":
        return _pw.hardtanh(input, min_val, max_val)
    return Hardtanh(min_val, max_val).apply(input)


def _leaky_relu(input, negative_slope=0.01):
    return _pw.leaky_relu(input, negative_slope)


def _elu(input, alpha=1.0):
    return _pw.elu(input, alpha)


def _hardswish(input):
    return Hardswish().apply(input)


def _hardsigmoid(input):
    return Hardsigmoid().apply(input)


def _clamp_inplace_form(name, fn, bounds):
    """``fn``'s in-place form; without autograd recording, a float tensor is clamped in its own memory in one pass
    (the general form computes a new array and copies it back), which inference with ReLU(inplace=True) and
    ReLU6 layers relies on."""
    general = _inplace_form(name, fn, snapshot=False)  # both ops' backward reads only their output

    def method(input, *args):
        d = input._data if isinstance(input, Tensor) else None
        if d is None or _mode.grad_enabled or d.dtype.kind != "f" or not getattr(d.flags, "writeable", True):
            return general(input, *args)
        lo, hi = bounds(*args)
        t = d.dtype.type
        if hi is None:
            array_module(d).maximum(d, t(lo), out=d)
        elif lo > hi:
            d.fill(t(hi))
        else:
            array_module(d).clip(d, t(lo), t(hi), out=d)
        input._vc[0] += 1
        return input
    method.__name__ = name + "_"
    method.__doc__ = general.__doc__
    return method


relu_ = _clamp_inplace_form("relu", _pw.relu, lambda: (0, None))
hardtanh_ = _clamp_inplace_form("hardtanh", _hardtanh, lambda lo=-1.0, hi=1.0: (lo, hi))
leaky_relu_ = _inplace_form("leaky_relu", _leaky_relu)
elu_ = _inplace_form("elu", _elu)
celu_ = _inplace_form("celu", _celu)
selu_ = _inplace_form("selu", _selu)
threshold_ = _inplace_form("threshold", _threshold)
rrelu_ = _inplace_form("rrelu", _rrelu)
_silu_ = _inplace_form("silu", _pw.silu)
_mish_ = _inplace_form("mish", _pw.mish)
_hardswish_ = _inplace_form("hardswish", _hardswish)
_hardsigmoid_ = _inplace_form("hardsigmoid", _hardsigmoid)


def relu(input, inplace=False):
    """max(x, 0)."""
    return relu_(input) if inplace else _pw.relu(input)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]."""
    return hardtanh_(input, min_val, max_val) if inplace else _hardtanh(input, min_val, max_val)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope·x otherwise."""
    return leaky_relu_(input, negative_slope) if inplace else _pw.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha·(exp(x) - 1) otherwise."""
    return elu_(input, alpha) if inplace else _pw.elu(input, alpha)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha·(exp(x/alpha) - 1))."""
    return celu_(input, alpha) if inplace else _celu(input, alpha)


def selu(input, inplace=False):
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017)."""
    return selu_(input) if inplace else _selu(input)


def silu(input, inplace=False):
    """x · sigmoid(x)."""
    return _silu_(input) if inplace else _pw.silu(input)


def mish(input, inplace=False):
    """x · tanh(softplus(x))."""
    return _mish_(input) if inplace else _pw.mish(input)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return threshold_(input, threshold, value) if inplace else _threshold(input, threshold, value)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: random slopes in [lower, upper] when training, their mean otherwise."""
    return rrelu_(input, lower, upper, training) if inplace else _rrelu(input, lower, upper, training)


# ----------------------------------------------------------------------------------------------------------------
# Activations with a learned weight or a split dimension
# ----------------------------------------------------------------------------------------------------------------


class Prelu(Function):
    """x for x > 0, w·x otherwise, with w broadcast along the channel dimension (dim 1)."""

    def __init__(self, w_shape):
        self.w_shape = w_shape

    def forward(self, x, w):
        xp = array_module(x)
        self.x, self.w = x, w
        self.retain_inputs(0, 1)
        self.wb = w.reshape(self.w_shape)
        self.pos = x > 0
        return xp.where(self.pos, x, x * self.wb).astype(x.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        gx = xp.where(self.pos, g, g * self.wb).astype(g.dtype, copy=False) if need[0] else None
        gw = None
        if need[1]:
            gw = unbroadcast(xp.where(self.pos, 0, g * self.x), self.w_shape).reshape(self.w.shape)
            gw = gw.astype(self.w.dtype, copy=False)
        return gx, gw


def prelu(input, weight):
    """Parametric ReLU: ``weight`` is a scalar or has one value per channel (input dim 1)."""
    _require_float(input, "prelu")
    ndim, wn = input._data.ndim, weight._data.size
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if wn != 1:
        channels = input._data.shape[1] if ndim > 1 else 1
        if channels != wn:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {wn} and channel size = {channels} (input shape {tuple(input.shape)}).")
    if ndim == 0 and wn != 1:
        raise RuntimeError("prelu: Not allow zero-dim input tensor.")
    w_shape = (1, wn) + (1,) * (ndim - 2) if ndim >= 2 and wn != 1 else (1,) * ndim
    return Prelu(w_shape).apply(input, weight)


class Glu(Function):
    """a · sigmoid(b) where a, b are the two halves of x along ``axis``."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = array_module(x)
        a, b = xp.split(x, 2, axis=self.axis)
        s = _pw._sigmoid(xp, b)
        self.a, self.s = a, s  # a is a view of x
        self.retain_inputs(0)
        return a * s

    def backward(self, g):
        xp = array_module(g)
        s = self.s
        ga = g * s
        gb = ga * self.a * (1 - s)
        return xp.concatenate([ga, gb], axis=self.axis)


def glu(input, dim=-1):
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    _require_float(input, "glu")
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[axis]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {axis} is size {n}")
    return Glu(axis).apply(input)


# ----------------------------------------------------------------------------------------------------------------
# softmax family: max-subtracted, with the cheap closed-form backward on the saved output.
# ----------------------------------------------------------------------------------------------------------------


class Softmax(Function):
    """softmax (or log_softmax with ``log``) of ``sign``·x along ``axis``, computed in ``dtype``.

    backward: softmax y·(g - Σ g·y); log_softmax g - exp(y)·Σ g; softmin (sign -1) negates the result."""

    def __init__(self, axis, log=False, sign=1, dtype=None):
        self.axis, self.log, self.sign, self.dtype = axis, log, sign, dtype

    def forward(self, x):
        xp = array_module(x)
        self.in_dtype, shape = x.dtype, x.shape
        if self.dtype is not None and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if self.sign < 0:
            x = -x
        if x.ndim == 0:
            x = x.reshape(1)
        axis = self.axis
        if x.size == 0:
            y = x.copy()
        elif self.log:
            z = x - x.max(axis=axis, keepdims=True)
            y = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        else:
            y = x - x.max(axis=axis, keepdims=True)
            xp.exp(y, out=y)
            y /= y.sum(axis=axis, keepdims=True)
        self.y = y
        self.retain_output()
        return y.reshape(shape)

    def backward(self, g):
        xp = array_module(g)
        y, axis = self.y, self.axis
        shape = g.shape
        g = g.reshape(y.shape)
        if self.log:
            gx = g - xp.exp(y) * g.sum(axis=axis, keepdims=True)
        else:
            gx = g * y
            gx -= y * gx.sum(axis=axis, keepdims=True)
        if self.sign < 0:
            gx = -gx
        return gx.reshape(shape).astype(self.in_dtype, copy=False)


def _softmax_args(name, input, dim, stacklevel, dtype):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if not isinstance(stacklevel, int):  # torch.softmax(input, dim, dtype): the third argument is the dtype
        dtype = stacklevel
    ndim = input._data.ndim
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    axis = wrap_dim(dim, ndim)
    np_dtype = None if dtype is None else dtypes.as_dtype(dtype).numpy
    if (np_dtype or input._data.dtype).kind != "f":
        raise RuntimeError(f"{name}: expected a floating point tensor (or a floating point dtype=), got "
                           f"dtype {(input.dtype if np_dtype is None else dtypes.as_dtype(dtype)).name}")
    return axis, np_dtype


@autocast_float32
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / Σ exp(x) along ``dim``, computed stably (the max is subtracted first)."""
    axis, dt = _softmax_args("softmax", input, dim, _stacklevel, dtype)
    return Softmax(axis, dtype=dt).apply(input)


@autocast_float32
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - log Σ exp(x) along ``dim``, computed stably."""
    axis, dt = _softmax_args("log_softmax", input, dim, _stacklevel, dtype)
    return Softmax(axis, log=True, dtype=dt).apply(input)


@autocast_float32
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    axis, dt = _softmax_args("softmin", input, dim, _stacklevel, dtype)
    return Softmax(axis, sign=-1, dtype=dt).apply(input)


class GumbelSoftmax(Function):
    """softmax((x + gumbels) / tau), or its one-hot argmax (``hard``) with the softmax's gradient."""

    def __init__(self, axis, tau, hard):
        self.axis, self.tau, self.hard = axis, tau, hard

    def forward(self, x, gumbels):
        xp = array_module(x)
        z = (x + gumbels) / self.tau
        z -= z.max(axis=self.axis, keepdims=True)
        y = xp.exp(z, out=z)
        y /= y.sum(axis=self.axis, keepdims=True)
        self.y = y
        if not self.hard:
            return y
        n = y.shape[self.axis]
        positions = xp.arange(n).reshape((n,) + (1,) * (y.ndim - 1 - self.axis))
        return (positions == xp.expand_dims(y.argmax(axis=self.axis), self.axis)).astype(y.dtype)

    def backward(self, g):
        y = self.y
        gx = g * y
        gx -= y * gx.sum(axis=self.axis, keepdims=True)
        gx /= self.tau
        return gx, None


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution (straight-through one-hot when ``hard``)."""
    _require_float(logits, "gumbel_softmax")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    x = logits._data
    if x.ndim == 0:
        raise RuntimeError("gumbel_softmax: expected a tensor with at least one dimension")
    axis = wrap_dim(dim, x.ndim)
    rng = generator_for(logits.device).rng
    e = rng.standard_exponential(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
    gumbels = -array_module(x).log(e).astype(x.dtype, copy=False)
    return GumbelSoftmax(axis, tau, hard).apply(logits, gumbels)
