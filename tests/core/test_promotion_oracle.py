"""Differential tests against PyTorch for dtype promotion, integer/float division and remainder, sign,
comparisons and logic, in-place ops and creation ops: same dtype, same values, same errors."""
import operator
import warnings

import numpy as np
import pytest

import zoo
from helpers import to_numpy

pytestmark = pytest.mark.oracle

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
       "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_, "^": operator.xor,
       "<": operator.lt, "==": operator.eq, ">=": operator.ge, "bitwise_and": "bitwise_and",
       "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor", "where": "where"}
# other operands: dimensioned tensors, 0-d tensors and Python scalars
OTHERS = DTYPES + [("0d", d) for d in DTYPES] + [True, 3, -2, 2.5]


def _tensor(lib, dt, zero_d=False, device="cpu"):
    v = np.array(2) if zero_d else np.array([3, 1, 2])
    v = (v % 2).astype(bool) if dt == "bool" else v.astype(dt)
    return lib.tensor(v, dtype=getattr(lib, dt), device=device)


def _run(lib, op, da, other, device):
    x = _tensor(lib, da, device=device)
    if isinstance(other, tuple):
        y = _tensor(lib, other[1], zero_d=True, device=device)
    elif isinstance(other, str):
        y = _tensor(lib, other, device=device)
    else:
        y = other
    if op == "where":
        return lib.where(_tensor(lib, "bool", device=device), x, y)
    if op.startswith("bitwise"):
        return getattr(lib, op)(x, y)
    return OPS[op](x, y)


def _outcome(lib, op, da, other, device="cpu"):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy RuntimeWarning may leak (x / 0, 0 % 0 …)
            r = _run(lib, op, da, other, device)
        return str(r.dtype).split(".")[-1], np.asarray(r.tolist(), dtype=float)
    except (RuntimeError, NotImplementedError, TypeError) as e:
        return "error", type(e).__name__


@pytest.mark.parametrize("op", list(OPS))
def test_promotion_grid_vs_torch(op, device):
    torch = pytest.importorskip("torch")
    for da in DTYPES:
        for other in OTHERS:
            (zd, zv), (td, tv) = _outcome(zoo, op, da, other, device), _outcome(torch, op, da, other)
            where = f"{da} {op} {other!r}"
            assert zd == td, f"{where}: zoo {zd} {zv}, torch {td} {tv}"
            if zd == "error":
                assert zv in (tv, "RuntimeError") or tv == "RuntimeError", where
            else:
                np.testing.assert_allclose(zv, tv, rtol=1e-3, equal_nan=True, err_msg=where)


@pytest.mark.parametrize("dt", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("op", ["%", "//", "fmod", "remainder", "div_trunc", "div_floor"])
def test_division_and_remainder_signs_vs_torch(dt, op, device):
    torch = pytest.importorskip("torch")
    a = np.array([7, -7, 7, -7, 0, 5, -3], dtype=dt)
    b = np.array([3, 3, -3, -3, 2, -5, 2], dtype=dt)
    if dt.startswith("float"):
        a, b = a + np.array([0.5, -0.25, 0, 0.75, 0, 0, 0.5], dtype=dt), b * 1.5
    fns = {"%": operator.mod, "//": operator.floordiv, "fmod": lambda x, y: x.fmod(y),
           "remainder": lambda x, y: x.remainder(y), "div_trunc": lambda x, y: x.div(y, rounding_mode="trunc"),
           "div_floor": lambda x, y: x.div(y, rounding_mode="floor")}
    for rhs in (b, float(b[1]) if dt.startswith("float") else int(b[2])):
        z = fns[op](zoo.tensor(a, device=device),
                    zoo.tensor(rhs, device=device) if isinstance(rhs, np.ndarray) else rhs)
        t = fns[op](torch.tensor(a), torch.tensor(rhs) if isinstance(rhs, np.ndarray) else rhs)
        assert str(z.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(z), t.numpy(), rtol=1e-6)


def test_sign_comparisons_logic_vs_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([-2.0, -0.0, 0.0, 1.5, np.inf, -np.inf])
    b = np.array([-2.0, 0.0, 1.0, 1.0, np.inf, 0.0])
    for lib_fn in (lambda L, x, y: L.sign(x), lambda L, x, y: x.sign(), lambda L, x, y: L.sign(x > 0),
                   lambda L, x, y: x < y, lambda L, x, y: x <= y, lambda L, x, y: x > y, lambda L, x, y: x >= y,
                   lambda L, x, y: x == y, lambda L, x, y: x != y, lambda L, x, y: L.logical_and(x, y),
                   lambda L, x, y: L.logical_or(x, y), lambda L, x, y: L.logical_xor(x, y),
                   lambda L, x, y: L.logical_not(x), lambda L, x, y: ~(x > 0), lambda L, x, y: (x > 0) & (y > 0),
                   lambda L, x, y: (x > 0) | (y > 0), lambda L, x, y: (x > 0) ^ (y > 0),
                   lambda L, x, y: L.maximum(x, y), lambda L, x, y: L.minimum(x, y)):
        z = lib_fn(zoo, zoo.tensor(a, device=device), zoo.tensor(b, device=device))
        t = lib_fn(torch, torch.tensor(a), torch.tensor(b))
        assert str(z.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(to_numpy(z), t.numpy())


INPLACE = {
    "add_": lambda x, y: x.add_(y), "sub_": lambda x, y: x.sub_(y, alpha=2), "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y), "pow_": lambda x, y: x.abs_().pow_(y), "clamp_": lambda x, y: x.clamp_(-0.5, 0.5),
    "copy_": lambda x, y: x.copy_(y), "fill_": lambda x, y: x.fill_(2.5), "zero_": lambda x, y: x.zero_(),
    "masked_fill_": lambda x, y: x.masked_fill_(y > 0, -1.0), "exp_": lambda x, y: x.exp_(),
    "scatter_": lambda x, y: x.scatter_(1, _idx(x), y), "scatter_add_": lambda x, y: x.scatter_add_(1, _idx(x), y),
    "iadd int": lambda x, y: _iadd(x, 2), "setitem": lambda x, y: x.__setitem__((0, slice(1, 3)), y[1, :2]) or x,
}


def _idx(x):
    lib = zoo if isinstance(x, zoo.Tensor) else __import__("torch")
    return lib.tensor([[0, 2, 1], [1, 0, 2]], device=x.device)


def _iadd(x, v):
    x += v
    return x


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_ops_vs_torch(name, device):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).uniform(-1, 1, (2, 3))
    b = np.random.default_rng(1).uniform(0.5, 1.5, (2, 3))
    outs, grads = [], []
    for lib, dev in ((zoo, device), (torch, "cpu")):
        w = lib.tensor(a, requires_grad=True, device=dev)
        v = lib.tensor(b, requires_grad=True, device=dev)
        x = w * 1
        r = INPLACE[name](x, v)
        assert r is x
        (x * lib.tensor(b, device=dev)).sum().backward()
        outs.append(to_numpy(x))
        grads.append([np.zeros((2, 3)) if t.grad is None else to_numpy(t.grad) for t in (w, v)])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)
    for gz, gt in zip(*grads):
        np.testing.assert_allclose(gz, gt, rtol=1e-12, atol=1e-15)


def test_creation_ops_vs_torch(device):
    torch = pytest.importorskip("torch")
    cases = [("arange", (5,), {}), ("arange", (1, 7, 2), {}), ("arange", (0.0, 1.0, 0.1), {}),
             ("arange", (-1, 1, 0.25), {}), ("arange", (1.5, -1.0, -0.5), {}), ("arange", (0, 10, 3), {}),
             ("arange", (3,), {"dtype": "float64"}), ("arange", (0.0, 0.3, 0.1), {}),
             ("linspace", (0, 1, 5), {}), ("linspace", (-2.5, 2.5, 1), {}), ("linspace", (3, -3, 7), {}),
             ("linspace", (0, 10, 4), {"dtype": "int64"}), ("eye", (3,), {}), ("eye", (2, 4), {}),
             ("eye", (3,), {"dtype": "int32"}), ("full", ((2, 3), 1.5), {}), ("full", ((2,), 7), {}),
             ("full", ((2,), True), {}), ("full", ((1, 2), 2), {"dtype": "float64"})]
    for name, args, kw in cases:
        z = getattr(zoo, name)(*args, device=device, **{k: getattr(zoo, v) for k, v in kw.items()})
        t = getattr(torch, name)(*args, **{k: getattr(torch, v) for k, v in kw.items()})
        assert str(z.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (name, args)
        assert tuple(z.shape) == tuple(t.shape), (name, args)
        np.testing.assert_allclose(to_numpy(z), t.numpy(), rtol=1e-6, err_msg=str((name, args)))
