"""Elementwise ops: arithmetic with broadcasting and PyTorch promotion, math functions, activations,
comparisons and logic. Each op's forward and backward sit side by side."""
import math

import numpy as np

from .. import parallel
from ..autograd.function import Function, same_gpu
from ..device import array_module
from ..tensor import Tensor
from ._util import float_result, result_dtype, unbroadcast
from .blockwise import blockwise

# ----------------------------------------------------------------------------------------------------------------
# Binary arithmetic. Inputs are cast to the promoted dtype in forward; gradients go back in each input's dtype.
# ----------------------------------------------------------------------------------------------------------------


class _Binary(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def cast(self, a, b):
        dt = self.dtype
        if hasattr(a, "dtype"):
            self.a_shape, self.a_dtype = a.shape, a.dtype
            if a.dtype is not dt:
                a = a.astype(dt)
        elif dt.kind in "iu":
            a = _wrapped(a, dt)
        if hasattr(b, "dtype"):
            self.b_shape, self.b_dtype = b.shape, b.dtype
            if b.dtype is not dt:
                b = b.astype(dt)
        elif dt.kind in "iu":
            b = _wrapped(b, dt)
        return a, b


    def grads(self, ga, gb):
        """Reduce the two full-shape gradients to the inputs' shapes and dtypes."""
        need = self.needs_input_grad
        if need[0]:
            ga = unbroadcast(ga, self.a_shape)
            if ga.dtype is not self.a_dtype:
                ga = ga.astype(self.a_dtype)
        if need[1]:
            gb = unbroadcast(gb, self.b_shape)
            if gb.dtype is not self.b_dtype:
                gb = gb.astype(self.b_dtype)
        return (ga if need[0] else None), (gb if need[1] else None)


def _wrapped(s, dt):
    """A Python int outside integer dtype ``dt``'s range wraps around, as in PyTorch (uint8 tensor - 2)."""
    info = np.iinfo(dt)
    return s if info.min <= s <= info.max else np.asarray(s).astype(dt)


class Add(_Binary):
    def forward(self, a, b):
        a, b = self.cast(a, b)
        return parallel.add(a, b)

    def backward(self, g):
        return self.grads(g, g)


class Sub(_Binary):
    def forward(self, a, b):
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        a, b = self.cast(a, b)
        return a - b

    def backward(self, g):
        return self.grads(g, -g if self.needs_input_grad[1] else None)


class Mul(_Binary):
    def forward(self, a, b):
        a, b = self.cast(a, b)
        need = self.needs_input_grad  # each gradient reads the other operand only
        self.a, self.b = (a if need[1] else None), (b if need[0] else None)
        self.retain_inputs(*((0,) if need[1] else ()) + ((1,) if need[0] else ()))
        return a * b

    def backward(self, g):
        need = self.needs_input_grad
        return self.grads(g * self.b if need[0] else None, g * self.a if need[1] else None)


class Div(_Binary):
    def forward(self, a, b):
        a, b = self.cast(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is inf or nan, as in PyTorch
            out = a / b
        need = self.needs_input_grad
        self.a, self.b = a, b
        if hasattr(b, "dtype") and need[1]:
            self.out = out
            self.retain_output()
        if hasattr(a, "dtype"):
            self.a = None
            if hasattr(b, "dtype"):
                self.retain_inputs(1)
        elif need[1]:  # number / tensor: the gradient reads only the output, -a / b² = -out² / a
            self.b = None
        return out

    def backward(self, g):
        need = self.needs_input_grad
        ga = g / self.b if need[0] else None
        gb = None
        if need[1]:
            if self.b is not None:
                gb = -g * self.out / self.b
            else:
                gb = -g * self.out * self.out / self.a if self.a != 0 else g * 0
        return self.grads(ga, gb)


def _is_bool(x):
    return x.dtype.kind == "b" if hasattr(x, "dtype") else isinstance(x, (bool, np.bool_))


def _no_bool(dt, name):
    if dt.kind == "b":
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


class Pow(_Binary):
    def forward(self, a, b):
        if self.dtype.kind == "b":  # PyTorch: a bool tensor to a Python bool power stays bool; tensor powers raise
            if hasattr(b, "dtype"):
                _no_bool(self.dtype, "pow")
            return a.copy() if b else array_module(a).ones_like(a)
        if self.dtype.kind in "iu" and bool((b < 0).any() if hasattr(b, "dtype") else b < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        a, b = self.cast(a, b)
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a ** b
        self.out = out
        self.retain_inputs(0, 1)
        self.retain_output()
        return out

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** negative is inf, as in PyTorch
            return self._backward(g)

    def _backward(self, g):
        need = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if need[0]:
            if hasattr(b, "dtype"):
                xp = array_module(g)
                ga = g * xp.where(b == 0, 0, b * a ** (b - 1))
            else:
                ga = g * 0 if b == 0 else g * (b * a ** (b - 1))
        if need[1]:
            xp = array_module(g)
            loga = xp.log(xp.where(a > 0, a, 1)) if hasattr(a, "dtype") else math.log(a) if a > 0 else 0.0
            gb = g * self.out * loga
            if hasattr(a, "dtype"):
                gb = xp.where((a == 0) & (b >= 0), 0, gb)
        return self.grads(ga, gb)


class Remainder(_Binary):
    def forward(self, a, b):
        _no_bool(self.dtype, "remainder")
        a, b = self.cast(a, b)
        _no_integer_zero(self.dtype, b)
        self.a, self.b = a, b
        self.retain_inputs(0, 1)
        xp = array_module(a if hasattr(a, "dtype") else b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.remainder(a, b)

    def backward(self, g):
        need = self.needs_input_grad
        xp = array_module(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = -g * xp.floor_divide(self.a, self.b) if need[1] else None
        return self.grads(g if need[0] else None, gb)


def _binary(cls, a, b):
    return cls(result_dtype(a, b)).apply(a, b)


def _check_operand(x, op):
    if not isinstance(x, (Tensor, int, float, bool, np.number, np.bool_)):
        if isinstance(x, np.ndarray):
            return Tensor._make(x)
        raise TypeError(f"{op}: unsupported operand type {type(x).__name__}; expected a Tensor or a number")
    return x


def add(input, other, *, alpha=1, out=None):
    _no_out(out, "add")
    other = _check_operand(other, "add")
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, input, other)


def sub(input, other, *, alpha=1, out=None):
    _no_out(out, "sub")
    other = _check_operand(other, "sub")
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, input, other)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha) if alpha == 1 else sub(other, mul(input, alpha))


def mul(input, other, *, out=None):
    _no_out(out, "mul")
    return _binary(Mul, input, _check_operand(other, "mul"))


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    _no_out(out, "div")
    other = _check_operand(other, "div")
    if rounding_mode is None:
        dt = float_result(result_dtype(input, other))
        return Div(dt).apply(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return _no_grad_binary(input, other, lambda a, b: _trunc_div(a, b))
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = true_divide = div


def _trunc_div(a, b):
    xp = array_module(a if hasattr(a, "dtype") else b)
    if (a.dtype if hasattr(a, "dtype") else np.dtype(type(b))).kind in "iu":
        q = xp.floor_divide(a, b)
        return q + ((q < 0) & (xp.remainder(a, b) != 0))
    return xp.trunc(a / b)


class FloorDivide(_Binary):
    """Floor division (``//``): its gradient is zero almost everywhere (zeros, as in PyTorch)."""

    def forward(self, a, b):
        _no_bool(self.dtype, "floor_divide")
        a, b = self.cast(a, b)
        _no_integer_zero(self.dtype, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return array_module(a if hasattr(a, "dtype") else b).floor_divide(a, b)

    def backward(self, g):
        need = self.needs_input_grad
        z = array_module(g).zeros_like(g)
        return self.grads(z if need[0] else None, z if need[1] else None)


def _no_integer_zero(dt, b):
    if dt.kind in "iu" and (bool((b == 0).any()) if hasattr(b, "dtype") else b == 0):
        raise RuntimeError("ZeroDivisionError: integer division by zero")


def floor_divide(input, other):
    """Floor division (``//``)."""
    return _binary(FloorDivide, input, _check_operand(other, "floor_divide"))


def remainder(input, other):
    other = _check_operand(other, "remainder")
    return _binary(Remainder, input, other)



def fmod(input, other):
    """C-style remainder (sign of the dividend)."""
    other = _check_operand(other, "fmod")
    return sub(input, mul(div(input, other, rounding_mode="trunc"), other))


def pow(input, exponent):
    exponent = _check_operand(exponent, "pow")
    if not isinstance(input, Tensor):
        return _binary(Pow, input, exponent)
    dt = result_dtype(input, exponent)
    return Pow(dt).apply(input, exponent)


def _no_grad_binary(a, b, f):
    da = a._data if isinstance(a, Tensor) else a
    db = b._data if isinstance(b, Tensor) else b
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (type(da) is not type(db) or (
            type(da) is not np.ndarray and not same_gpu(da, db))):
        raise RuntimeError(f"expected all tensors to be on the same device, but found at least two devices, "
                           f"{a.device} and {b.device}")
    out = f(da, db)
    if isinstance(out, np.generic) or not hasattr(out, "shape"):
        out = np.asarray(out)
    return Tensor._make(out)


def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"{name}: the out= argument is not supported by zoo")


# ----------------------------------------------------------------------------------------------------------------
# Unary math. Integer inputs of float functions are computed in the default float dtype (as in PyTorch).
# ----------------------------------------------------------------------------------------------------------------


class _Unary(Function):
    """Elementwise f(x) with f'(x) from the input and/or the output (``reads``: "x", "y" or "xy"; backward keeps
    only those). ``quiet`` ops meet poles (log(0), 1/0): inf and nan as in PyTorch, no NumPy warnings."""
    float_only = True
    reads = "xy"
    quiet = False
    x = out = None

    def forward(self, x):
        if self.float_only and x.dtype.kind != "f":
            x = x.astype(float_result(x.dtype))
        if self.quiet:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = self.f(array_module(x), x)
        else:
            out = self.f(array_module(x), x)
        if self.needs_input_grad[0]:
            if "x" in self.reads:
                self.x = x
                self.retain_inputs(0)
            if "y" in self.reads:
                self.out = out
                self.retain_output()
        return out

    def backward(self, g):
        if self.quiet:
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * self.df(array_module(g), self.x, self.out)
        return g * self.df(array_module(g), self.x, self.out)


def _unary(name, f, df, float_only=True, doc=None, reads="xy", quiet=False):
    cls = type(name, (_Unary,), {"f": staticmethod(f), "df": staticmethod(df), "float_only": float_only,
                                 "reads": reads, "quiet": quiet})

    def op(input):
        return cls().apply(input)
    op.__name__ = name.lower()
    op.__doc__ = doc or f"Elementwise {name.lower()}."
    return cls, op


class Neg(Function):
    def forward(self, x):
        if x.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead.")
        return -x

    def backward(self, g):
        return -g


def neg(input):
    return Neg().apply(input)


negative = neg

_LN2 = math.log(2.0)
Exp, exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda xp, x, y: y, reads="y")
Log, log = _unary("Log", lambda xp, x: xp.log(x), lambda xp, x, y: 1 / x, reads="x", quiet=True)
Log1p, log1p = _unary("Log1p", lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (1 + x), reads="x", quiet=True)
Log2, log2 = _unary("Log2", lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * _LN2), reads="x", quiet=True)
Log10, log10 = _unary("Log10", lambda xp, x: xp.log10(x), lambda xp, x, y: 1 / (x * math.log(10.0)),
                      reads="x", quiet=True)
Expm1, expm1 = _unary("Expm1", lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1, reads="y")
Sqrt, sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, x, y: 0.5 / y, reads="y", quiet=True)
Rsqrt, rsqrt = _unary("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y, reads="y", quiet=True)
Sin, sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x), reads="x")
Cos, cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x), reads="x")
Tan, tan = _unary("Tan", lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y, reads="y")
Tanh, tanh = _unary("Tanh", lambda xp, x: xp.tanh(x), lambda xp, x, y: 1 - y * y, reads="y")
Atan, atan = _unary("Atan", lambda xp, x: xp.arctan(x), lambda xp, x, y: 1 / (1 + x * x), reads="x")
Asin, asin = _unary("Asin", lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1 / xp.sqrt(1 - x * x), reads="x", quiet=True)
Acos, acos = _unary("Acos", lambda xp, x: xp.arccos(x), lambda xp, x, y: -1 / xp.sqrt(1 - x * x), reads="x", quiet=True)
Sinh, sinh = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x), reads="x")
Cosh, cosh = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x), reads="x")
Reciprocal, reciprocal = _unary("Reciprocal", lambda xp, x: 1 / x, lambda xp, x, y: -y * y, reads="y", quiet=True)
Square, square = _unary("Square", lambda xp, x: x * x, lambda xp, x, y: 2 * x, float_only=False, reads="x")
Abs, abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda xp, x, y: xp.sign(x), float_only=False, reads="x")
Sigmoid, sigmoid = _unary("Sigmoid", lambda xp, x: _sigmoid(xp, x), lambda xp, x, y: y * (1 - y), reads="y")
Silu, silu = _unary("Silu", lambda xp, x: x * _sigmoid(xp, x),
                    lambda xp, x, y: _silu_grad(xp, x), reads="x")
Mish, mish = _unary("Mish", lambda xp, x: x * xp.tanh(_softplus(xp, x)), lambda xp, x, y: _mish_grad(xp, x), reads="x")

for _op in (Exp, Log, Log1p, Log2, Log10, Expm1, Rsqrt, Tan, Asin, Acos, Sinh, Cosh, Reciprocal):
    _op.amp = "float32"  # PyTorch's autocast runs these in float32 (float16 over/underflows)
absolute = abs
arctan, arcsin, arccos = atan, asin, acos


class Relu(Function):
    """max(x, 0). Backward reads only the output (y > 0 exactly where x > 0), so the input can be freed. With
    the helper process on, half of each pass runs there (``blockwise``)."""

    def forward(self, x):
        if type(x) is np.ndarray and parallel.is_enabled():
            out = blockwise(_relu, x, into=True)
        else:
            out = array_module(x).maximum(x, 0)
        self.out = out
        self.retain_output()
        return out

    def backward(self, g):
        if type(g) is np.ndarray and g.shape == self.out.shape and parallel.is_enabled():
            return blockwise(_relu_grad, g, self.out, into=True)
        return g * (self.out > 0)


def _relu(xp, x, out):
    xp.maximum(x, 0, out=out)


def _relu_grad(xp, g, y, out):
    xp.multiply(g, y > 0, out=out)


def relu(input):
    """Elementwise relu."""
    return Relu().apply(input)


def _sigmoid(xp, x):
    # exp of a non-positive number only: no overflow warnings for large |x|
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _softplus(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _silu_grad(xp, x):
    s = _sigmoid(xp, x)
    return s * (1 + x * (1 - s))


def _mish_grad(xp, x):
    t = xp.tanh(_softplus(xp, x))
    return t + x * _sigmoid(xp, x) * (1 - t * t)


def _zero_grad_unary(name, f):
    class Op(Function):
        def forward(self, x):
            self.shape, self.dtype = x.shape, x.dtype
            return f(array_module(x), x)

        def backward(self, g):
            return array_module(g).zeros(self.shape, self.dtype)
    Op.__name__ = name

    def op(input):
        return Op().apply(input)
    op.__name__ = name.lower()
    op.__doc__ = f"Elementwise {name.lower()} (zero gradient)."
    return op


sign = _zero_grad_unary("Sign", lambda xp, x: xp.sign(x) if x.dtype.kind != "b" else x.copy())
floor = _zero_grad_unary("Floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x.copy())
ceil = _zero_grad_unary("Ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x.copy())
round_ = _zero_grad_unary("Round", lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x.copy())
trunc = _zero_grad_unary("Trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x.copy())


def round(input, *, decimals=0):
    if decimals == 0:
        return round_(input)
    scale = 10.0 ** decimals
    return div(round_(mul(input, scale)), scale)


def frac(input):
    return sub(input, trunc(input))


# ----------------------------------------------------------------------------------------------------------------
# Activations with parameters
# ----------------------------------------------------------------------------------------------------------------


class LeakyRelu(Function):
    def __init__(self, negative_slope):
        self.slope = negative_slope

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, x * self.slope).astype(x.dtype, copy=False) if type(x) is np.ndarray else \
            array_module(x).where(self.mask, x, x * self.slope)

    def backward(self, g):
        return array_module(g).where(self.mask, g, g * self.slope)


def leaky_relu(input, negative_slope=0.01):
    return LeakyRelu(negative_slope).apply(input)


class Elu(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = array_module(x)
        self.x = x
        self.retain_inputs(0)
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        x = self.x
        return g * xp.where(x > 0, 1, self.alpha * xp.exp(xp.minimum(x, 0))).astype(g.dtype, copy=False)


def elu(input, alpha=1.0):
    return Elu(alpha).apply(input)


class Softplus(Function):
    amp = "float32"

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = array_module(x)
        self.x = x
        self.retain_inputs(0)
        bx = x * self.beta
        return xp.where(bx > self.threshold, x, _softplus(xp, bx) / self.beta).astype(x.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        bx = self.x * self.beta
        return g * xp.where(bx > self.threshold, 1, _sigmoid(xp, bx)).astype(g.dtype, copy=False)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus(beta, threshold).apply(input)


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    return clamp(input, min_val, max_val)


# ----------------------------------------------------------------------------------------------------------------
# Binary selections: maximum, minimum, where, clamp
# ----------------------------------------------------------------------------------------------------------------


class _Select(_Binary):
    """maximum/minimum: the gradient goes to the selected input; ties split it evenly (as PyTorch)."""

    def forward(self, a, b):
        a, b = self.cast(a, b)
        xp = array_module(a if hasattr(a, "dtype") else b)
        self.a, self.b = a, b
        self.retain_inputs(0, 1)
        return self.pick(xp, a, b)

    def backward(self, g):
        xp = array_module(g)
        a, b = self.a, self.b
        wa = xp.where(a == b, 0.5, self.wins(a, b)).astype(g.dtype, copy=False)
        return self.grads(g * wa, g * (1 - wa))


class Maximum(_Select):
    pick = staticmethod(lambda xp, a, b: xp.maximum(a, b))
    wins = staticmethod(lambda a, b: a > b)


class Minimum(_Select):
    pick = staticmethod(lambda xp, a, b: xp.minimum(a, b))
    wins = staticmethod(lambda a, b: a < b)


def maximum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError("maximum(): argument 'other' must be Tensor")
    return _binary(Maximum, input, other)


def minimum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError("minimum(): argument 'other' must be Tensor")
    return _binary(Minimum, input, other)


fmax, fmin = maximum, minimum


class Where(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, cond, a, b):
        xp = array_module(cond)
        self.cond = cond
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        self.dtypes = (getattr(a, "dtype", None), getattr(b, "dtype", None))
        return xp.where(cond, a, b).astype(self.dtype, copy=False)

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad
        zero = g.dtype.type(0)
        ga = unbroadcast(xp.where(self.cond, g, zero), self.shapes[0]).astype(self.dtypes[0]) if need[1] else None
        gb = unbroadcast(xp.where(self.cond, zero, g), self.shapes[1]).astype(self.dtypes[1]) if need[2] else None
        return None, ga, gb


def where(condition, input=None, other=None):
    """``where(cond, x, y)`` picks elementwise; ``where(cond)`` returns the indices of true elements."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be a Tensor")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype.name}")
    return Where(result_dtype(input, other) if isinstance(input, Tensor) or isinstance(other, Tensor)
                 else np.dtype(np.float32)).apply(condition, input, other)


class Clamp(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = array_module(x)
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            self.mask = (x >= lo) & (x <= hi)
            return xp.clip(x, lo, hi).astype(x.dtype, copy=False) if lo <= hi else xp.full_like(x, hi)
        if lo is not None:
            self.mask = x >= lo
            return xp.maximum(x, x.dtype.type(lo))
        self.mask = x <= hi
        return xp.minimum(x, x.dtype.type(hi))

    def backward(self, g):
        return g * self.mask


def clamp(input, min=None, max=None):
    """Clip to [min, max]; bounds may be numbers or tensors. The gradient passes where no bound is hit."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min if isinstance(min, Tensor) else _full_like(input, min))
        if max is not None:
            out = minimum(out, max if isinstance(max, Tensor) else _full_like(input, max))
        return out
    if input._data.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(float_result(input._data.dtype))
    return Clamp(min, max).apply(input)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def _full_like(t, v):
    return Tensor._make(array_module(t._data).full((), v, t._data.dtype))


# ----------------------------------------------------------------------------------------------------------------
# Comparisons and logic: boolean results, no gradient.
# ----------------------------------------------------------------------------------------------------------------


def _compare(name, f):
    def op(input, other):
        if not isinstance(other, (Tensor, int, float, bool, np.number, np.bool_)):
            return NotImplemented
        if type(other) is int and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
            other = _wrapped(other, input._data.dtype)  # PyTorch casts the number to the tensor's dtype
        return _no_grad_binary(input, other, f)
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison (boolean result, broadcasting)."
    return op


eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(name, f, bitwise=False):
    def op(input, other):
        if bitwise:
            for x in (input, other):
                d = x._data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype
                if d.kind == "f":
                    raise RuntimeError(f"\"{name}\" is not implemented for floating point tensors")
            dt = result_dtype(input, other)  # PyTorch's promotion (a 0-d tensor does not widen), not NumPy's
            return _no_grad_binary(input, other, lambda a, b: f(None, _as(a, dt), _as(b, dt)))
        return _no_grad_binary(input, other, lambda a, b: f(array_module(a if hasattr(a, 'dtype') else b), a, b))
    op.__name__ = name
    return op


def _as(x, dt):
    return x.astype(dt, copy=False) if hasattr(x, "dtype") else np.asarray(x).astype(dt)


logical_and = _logical("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))
bitwise_and = _logical("bitwise_and", lambda xp, a, b: a & b, bitwise=True)
bitwise_or = _logical("bitwise_or", lambda xp, a, b: a | b, bitwise=True)
bitwise_xor = _logical("bitwise_xor", lambda xp, a, b: a ^ b, bitwise=True)


def logical_not(input):
    return Tensor._make(array_module(input._data).logical_not(input._data))


def bitwise_not(input):
    d = input._data
    if d.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not\" is not implemented for floating point tensors")
    return Tensor._make(~d)


def isnan(input):
    return Tensor._make(array_module(input._data).isnan(input._data))


def isinf(input):
    return Tensor._make(array_module(input._data).isinf(input._data))


def isfinite(input):
    return Tensor._make(array_module(input._data).isfinite(input._data))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    xp = array_module(input._data)
    keep = xp.isfinite(input._data)
    out = Tensor._make(xp.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf))
    return where(Tensor._make(keep), input, out)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(array_module(input._data).allclose(input._data, other._data, rtol=rtol, atol=atol,
                                                   equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(array_module(input._data).isclose(input._data, other._data, rtol=rtol, atol=atol,
                                                          equal_nan=equal_nan))


def equal(input, other):
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


# ----------------------------------------------------------------------------------------------------------------
# Tensor methods and operators
# ----------------------------------------------------------------------------------------------------------------

def _reflected(op):
    def method(self, other):
        if isinstance(other, np.ndarray):  # ndarray (op) Tensor: NumPy defers here (__array_priority__)
            other = Tensor._make(other)
        elif not isinstance(other, (Tensor, int, float, bool, np.number, np.bool_)):
            return NotImplemented
        return op(other, self)
    return method


_SCALAR_TYPES = frozenset((int, float, bool))


def _binary_operator(cls):
    """``tensor (op) other`` straight to the op's node: operators are the hottest path of small models."""
    def method(self, other):
        if isinstance(other, Tensor) or type(other) in _SCALAR_TYPES:
            return cls(result_dtype(self, other)).apply(self, other)
        if isinstance(other, (np.number, np.bool_, np.ndarray)):
            other = _check_operand(other, cls.__name__)
            return cls(result_dtype(self, other)).apply(self, other)
        return NotImplemented
    return method


def _operator(op):
    def method(self, other):
        if not isinstance(other, (Tensor, int, float, bool, np.number, np.bool_, np.ndarray)):
            return NotImplemented
        return op(self, other)
    return method


def _inplace_methods():
    from .inplace import inplace
    names = dict(add=add, sub=sub, mul=mul, div=div, pow=pow, remainder=remainder, floor_divide=floor_divide,
                 fmod=fmod, neg=neg, exp=exp, log=log, log1p=log1p, log2=log2, sqrt=sqrt, rsqrt=rsqrt, sin=sin,
                 cos=cos, tanh=tanh, sigmoid=sigmoid, relu=relu, abs=abs, sign=sign, floor=floor, ceil=ceil,
                 round=round, trunc=trunc, clamp=clamp, clamp_min=clamp_min, clamp_max=clamp_max, clip=clip,
                 reciprocal=reciprocal, square=square, expm1=expm1, maximum=maximum, minimum=minimum,
                 logical_not=logical_not, logical_and=logical_and, logical_or=logical_or, silu=silu,
                 subtract=sub, multiply=mul, divide=div, true_divide=div, nan_to_num=nan_to_num, frac=frac,
                 leaky_relu=leaky_relu, elu=elu, mish=mish, hardtanh=hardtanh)
    methods = {k + "_": inplace(f) for k, f in names.items()}
    methods["__iadd__"] = methods["add_"]
    methods["__isub__"] = methods["sub_"]
    methods["__imul__"] = methods["mul_"]
    methods["__itruediv__"] = methods["div_"]
    methods["__ipow__"] = methods["pow_"]
    methods["__imod__"] = methods["remainder_"]
    methods["__ifloordiv__"] = methods["floor_divide_"]
    methods["__iand__"] = inplace(bitwise_and)
    methods["__ior__"] = inplace(bitwise_or)
    methods["__ixor__"] = inplace(bitwise_xor)
    return methods


def _bool_or_bitwise(logical, bitwise):
    def op(a, b):
        da = a._data.dtype if isinstance(a, Tensor) else np.asarray(a).dtype
        db = b._data.dtype if isinstance(b, Tensor) else np.asarray(b).dtype
        return logical(a, b) if da.kind == "b" and db.kind == "b" else bitwise(a, b)
    return op


_and = _bool_or_bitwise(logical_and, bitwise_and)
_or = _bool_or_bitwise(logical_or, bitwise_or)
_xor = _bool_or_bitwise(logical_xor, bitwise_xor)

TENSOR_METHODS = dict(
    __add__=_binary_operator(Add), __radd__=_reflected(add), __sub__=_binary_operator(Sub),
    __rsub__=_reflected(sub), __mul__=_binary_operator(Mul), __rmul__=_reflected(mul), __truediv__=_operator(div),
    __rtruediv__=_reflected(div),
    __floordiv__=_operator(floor_divide), __rfloordiv__=_reflected(floor_divide),
    __mod__=_operator(remainder), __rmod__=_reflected(remainder), __pow__=_operator(pow),
    __rpow__=_reflected(pow), __neg__=neg, __pos__=lambda self: self, __abs__=abs,
    __eq__=_operator(eq), __ne__=_operator(ne), __lt__=_operator(lt), __le__=_operator(le), __gt__=_operator(gt),
    __ge__=_operator(ge), __and__=_operator(_and), __rand__=_reflected(_and), __or__=_operator(_or),
    __ror__=_reflected(_or), __xor__=_operator(_xor), __rxor__=_reflected(_xor),
    __invert__=lambda self: logical_not(self) if self._data.dtype.kind == "b" else bitwise_not(self),
    add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=div,
    floor_divide=floor_divide, remainder=remainder, fmod=fmod, pow=pow, neg=neg, negative=neg,
    exp=exp, log=log, log1p=log1p, log2=log2, log10=log10, expm1=expm1, sqrt=sqrt, rsqrt=rsqrt, sin=sin,
    cos=cos, tan=tan, tanh=tanh, atan=atan, asin=asin, acos=acos, arctan=atan, arcsin=asin, arccos=acos,
    sinh=sinh, cosh=cosh, reciprocal=reciprocal, square=square, abs=abs, absolute=abs, sign=sign,
    sigmoid=sigmoid, relu=relu, floor=floor, ceil=ceil, round=round, trunc=trunc, frac=frac,
    clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max, maximum=maximum, minimum=minimum,
    eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, greater_equal=ge, less=lt, less_equal=le,
    not_equal=ne, logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor,
    logical_not=logical_not, bitwise_and=bitwise_and, bitwise_or=bitwise_or, bitwise_xor=bitwise_xor,
    bitwise_not=bitwise_not, isnan=isnan, isinf=isinf, isfinite=isfinite, nan_to_num=nan_to_num,
    allclose=allclose, isclose=isclose, equal=equal, where=lambda self, condition, other: where(condition, self,
                                                                                               other),
)
TENSOR_METHODS.update(_inplace_methods())

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "neg", "negative", "exp", "log", "log1p", "log2", "log10", "expm1", "sqrt",
    "rsqrt", "sin", "cos", "tan", "tanh", "atan", "asin", "acos", "arctan", "arcsin", "arccos", "sinh", "cosh",
    "reciprocal", "square", "abs", "absolute", "sign", "sigmoid", "relu", "silu", "mish", "softplus",
    "leaky_relu", "elu", "relu6", "hardtanh", "floor", "ceil", "round", "trunc", "frac", "clamp", "clip",
    "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin", "where", "eq", "ne", "lt", "le", "gt", "ge",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite",
    "nan_to_num", "allclose", "isclose", "equal",
]
