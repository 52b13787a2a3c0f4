"""Activations of zoo.nn.functional and erf/erfc: accuracy of the error function, float64 gradchecks, oracle
comparisons with PyTorch (forward and backward), in-place forms, softmax's edge cases and bad input."""
import math
import warnings

import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, to_numpy, torch_or_skip

import zoo
import zoo.nn.functional as F


def t(a, device="cpu", requires_grad=False):
    return zoo.tensor(a, device=device, requires_grad=requires_grad)


# ------------------------------------------------------------------------------------------------------------
# erf / erfc
# ------------------------------------------------------------------------------------------------------------

GRID = np.concatenate([np.linspace(-40, 40, 40001), np.linspace(-1.2, 1.2, 24001), np.geomspace(1e-300, 2, 2000),
                       -np.geomspace(1e-300, 2, 2000), [0.0, 1.0, -1.0, 1 - 1e-16, 1 + 2e-16, 26.5, -27.0]])


def test_erf_matches_math_erf_float64(device):
    got = to_numpy(F.erf(t(GRID, device)))
    ref = np.array([math.erf(v) for v in GRID])
    assert got.dtype == np.float64
    assert np.abs(got - ref).max() <= 1e-15
    small = np.abs(GRID) < 1e-3  # relative accuracy near 0 (no 1 - erfc cancellation)
    assert (np.abs(got[small] - ref[small]) <= 4e-16 * np.abs(ref[small])).all()


def test_erfc_matches_math_erfc_relative(device):
    got = to_numpy(F.erfc(t(GRID, device)))
    ref = np.array([math.erfc(v) for v in GRID])
    ok = ref > 1e-300
    assert np.abs(got - ref).max() <= 1e-15
    assert (np.abs(got[ok] - ref[ok]) <= 5e-15 * ref[ok]).all()
    assert (got[GRID > 27.3] == 0).all()


def test_erf_float32_and_special_values(device):
    x32 = GRID.astype(np.float32)
    got = F.erf(t(x32, device))
    assert got.dtype == zoo.float32
    ref = np.array([math.erf(float(v)) for v in x32])
    assert np.abs(to_numpy(got) - ref).max() <= 3e-7
    gotc = to_numpy(F.erfc(t(x32, device)))
    refc = np.array([math.erfc(float(v)) for v in x32])
    ok = refc > 1e-30
    assert (np.abs(gotc[ok] - refc[ok]) <= 2e-6 * refc[ok]).all()
    special = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    e = to_numpy(F.erf(t(special, device)))
    np.testing.assert_array_equal(e[[0, 1, 3, 4]], [1.0, -1.0, 0.0, -0.0])
    assert np.isnan(e[2]) and np.signbit(e[4])
    c = to_numpy(F.erfc(t(special, device)))
    np.testing.assert_array_equal(c[[0, 1, 3]], [0.0, 2.0, 1.0])
    assert np.isnan(c[2])


def test_erf_integer_and_half_inputs():
    out = F.erf(zoo.tensor([0, 1, -2]))
    assert out.dtype == zoo.float32
    np.testing.assert_allclose(to_numpy(out), [0.0, math.erf(1), math.erf(-2)], rtol=1e-6)
    half = F.erfc(zoo.tensor(np.array([0.5, 3.0], np.float16)))
    assert half.dtype == zoo.float16
    np.testing.assert_allclose(to_numpy(half).astype(np.float64), [math.erfc(0.5), math.erfc(3.0)],
                               rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize("fn", ["erf", "erfc"])
def test_erf_grad(fn, device):
    f = getattr(F, fn)
    check_grad(f, arr(3, 4, low=-3, high=3), device=device)
    check_grad(lambda x: f(x.T), arr(3, 4, low=-3, high=3), device=device)
    check_grad(f, np.array(0.7), device=device)
    check_grad(f, np.zeros((0, 2)), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("fn", ["erf", "erfc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_erf_vs_torch(fn, dtype, device):
    torch = torch_or_skip()
    x = arr(5, 7, low=-6, high=6).astype(dtype)
    tol = dict(atol=1e-14, rtol=1e-13) if dtype == np.float64 else dict(atol=1e-6, rtol=1e-5)
    compare_with_torch(getattr(F, fn), getattr(torch, fn), x, device=device, **tol)


# ------------------------------------------------------------------------------------------------------------
# pointwise activations: gradcheck and oracle
# ------------------------------------------------------------------------------------------------------------

# name → (zoo call, torch call); inputs are uniform on [-4, 4]
ACTIVATIONS = {
    "relu": (lambda x: F.relu(x), "relu", {}),
    "relu6": (lambda x: F.relu6(x * 2), None, {}),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 2.0), "hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), "leaky_relu", {"negative_slope": 0.2}),
    "elu": (lambda x: F.elu(x, 0.7), "elu", {"alpha": 0.7}),
    "selu": (lambda x: F.selu(x), "selu", {}),
    "celu": (lambda x: F.celu(x, 1.5), "celu", {"alpha": 1.5}),
    "silu": (lambda x: F.silu(x), "silu", {}),
    "mish": (lambda x: F.mish(x), "mish", {}),
    "softplus": (lambda x: F.softplus(x, 2.0, 3.0), "softplus", {"beta": 2.0, "threshold": 3.0}),
    "sigmoid": (lambda x: F.sigmoid(x), "sigmoid", {}),
    "tanh": (lambda x: F.tanh(x), "tanh", {}),
    "gelu": (lambda x: F.gelu(x), "gelu", {}),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "gelu", {"approximate": "tanh"}),
    "hardswish": (lambda x: F.hardswish(x), "hardswish", {}),
    "hardsigmoid": (lambda x: F.hardsigmoid(x), "hardsigmoid", {}),
    "logsigmoid": (lambda x: F.logsigmoid(x), "logsigmoid", {}),
    "softsign": (lambda x: F.softsign(x), "softsign", {}),
    "tanhshrink": (lambda x: F.tanhshrink(x), "tanhshrink", {}),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), "threshold", {"threshold": 0.3, "value": -2.0}),
    "hardshrink": (lambda x: F.hardshrink(x, 1.0), "hardshrink", {"lambd": 1.0}),
    "softshrink": (lambda x: F.softshrink(x, 1.0), "softshrink", {"lambd": 1.0}),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3), "rrelu", {"lower": 0.1, "upper": 0.3}),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_grad(name, device):
    f = ACTIVATIONS[name][0]
    check_grad(f, arr(3, 5, low=-4, high=4), device=device)
    check_grad(lambda x: f(x.T), arr(4, 3, low=-4, high=4, seed=2), device=device)  # non-contiguous
    check_grad(f, np.array(-0.8), device=device)
    check_grad(f, np.zeros((2, 0)), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_vs_torch(name, dtype, device):
    torch = torch_or_skip()
    f, tname, kw = ACTIVATIONS[name]
    tf = (lambda x: torch.nn.functional.relu6(x * 2)) if tname is None else \
        (lambda x: getattr(torch.nn.functional, tname)(x, **kw))
    x = arr(4, 6, low=-4, high=4).astype(dtype)
    x[0, :3] = [30.0, -30.0, 0.5]  # tails
    tol = dict(atol=1e-12, rtol=1e-10) if dtype == np.float64 else dict(atol=2e-6, rtol=2e-5)
    if name == "hardsigmoid" and dtype == np.float64:
        tol = dict(atol=1e-12, rtol=1e-7)  # PyTorch's backward uses the float constant 1.0f / 6.0f
    compare_with_torch(f, tf, x, device=device, **tol)


def test_float32_stays_float32():
    x = zoo.tensor(arr(3, 4, dtype=np.float32), requires_grad=True)
    for name in sorted(ACTIVATIONS):
        y = ACTIVATIONS[name][0](x)
        assert y.dtype == zoo.float32, name
        (g,) = zoo.autograd.grad([y], [x], [zoo.ones_like(y)])
        assert g.dtype == zoo.float32, name


def test_logsigmoid_is_stable():
    x = zoo.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=zoo.float64)
    np.testing.assert_allclose(to_numpy(F.logsigmoid(x)), [-1000.0, -50.0, -math.log(2), -math.exp(-50), 0.0],
                               rtol=1e-12)


def test_gelu_left_tail_accurate():
    # x·Φ(x) for very negative x: tiny but nonzero, computed through erfc rather than 1 + erf
    x = zoo.tensor([-10.0, -20.0], dtype=zoo.float64)
    ref = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in (-10.0, -20.0)]
    np.testing.assert_allclose(to_numpy(F.gelu(x)), ref, rtol=1e-13)


# ------------------------------------------------------------------------------------------------------------
# in-place forms
# ------------------------------------------------------------------------------------------------------------

INPLACE = {
    "relu": ((), {}), "relu6": ((), {}), "hardtanh": ((-0.5, 0.5), {}), "leaky_relu": ((0.3,), {}),
    "elu": ((0.5,), {}), "celu": ((2.0,), {}), "selu": ((), {}), "silu": ((), {}), "mish": ((), {}),
    "hardswish": ((), {}), "hardsigmoid": ((), {}), "threshold": ((0.1, 5.0), {}),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_flag_matches_out_of_place(name):
    torch = torch_or_skip()
    args, kw = INPLACE[name]
    a = arr(3, 4, low=-3, high=3)
    x = zoo.tensor(a, requires_grad=True)
    y = x * 1.0  # a non-leaf: in-place on it is allowed
    out = getattr(F, name)(y, *args, inplace=True, **kw)
    assert out is y and y._version > 0
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx * 1.0, *args, inplace=True, **kw)
    np.testing.assert_allclose(to_numpy(out), to_numpy(ty), atol=1e-12)
    w = arr(3, 4, seed=5)
    out.backward(zoo.tensor(w))
    ty.backward(torch.tensor(w))
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(tx.grad), atol=1e-12)
    # without autograd the input's own memory is written
    plain = zoo.tensor(a)
    assert getattr(F, name)(plain, *args, inplace=True, **kw) is plain
    np.testing.assert_allclose(to_numpy(plain), to_numpy(ty), atol=1e-12)


def test_inplace_functional_underscore_forms():
    a = arr(2, 3, low=-2, high=2)
    for name in ["relu_", "elu_", "leaky_relu_", "hardtanh_", "celu_", "selu_", "threshold_", "rrelu_"]:
        x = zoo.tensor(a)
        args = (0.0, 1.0) if name == "threshold_" else ()
        assert getattr(F, name)(x, *args) is x, name
        np.testing.assert_allclose(to_numpy(x), to_numpy(getattr(F, name[:-1])(zoo.tensor(a), *args)), atol=1e-15)


@pytest.mark.parametrize("name,args,expected", [
    ("relu_", (), [0, 0, 0.5, 7, np.nan]),
    ("hardtanh_", (0.0, 6.0), [0, 0, 0.5, 6, np.nan]),
    ("hardtanh_", (2.0, 1.0), [1, 1, 1, 1, 1]),  # min > max gives max, as PyTorch
])
def test_clamp_inplace_without_autograd_writes_its_own_memory(name, args, expected, device):
    base = zoo.tensor(np.array([[-2, -0.0, 0.5, 7, np.nan]] * 2, np.float32), device=device)
    row = base[1]  # a view: the write goes through to the base
    memory, version = row._data, row._version
    with zoo.no_grad():
        assert getattr(F, name)(row, *args) is row
    assert row._data is memory and row._version > version and row.dtype == zoo.float32
    np.testing.assert_array_equal(to_numpy(base)[1], np.array(expected, np.float32))
    np.testing.assert_array_equal(to_numpy(base)[0], np.array([-2, -0.0, 0.5, 7, np.nan], np.float32))


def test_relu_inplace_under_autograd_is_still_checked_by_versions():
    x = zoo.tensor(arr(3, 4, low=-2, high=2), requires_grad=True)
    y = x * 1.0
    z = y * y  # keeps y for its backward
    F.relu_(y)  # overwrites y: z's backward must refuse to run on the changed values
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = zoo.tensor(arr(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(x, inplace=True)


# ------------------------------------------------------------------------------------------------------------
# prelu, glu, rrelu (training)
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,wshape", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((2, 3, 2, 2), (3,)), ((5,), (1,)),
                                          ((), ())])
def test_prelu_grad(shape, wshape, device):
    check_grad(F.prelu, arr(*shape, low=-2, high=2), arr(*wshape, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,wshape", [((2, 3, 4), (3,)), ((4, 3), (1,)), ((2, 3, 2, 2), (3,)), ((6,), (1,))])
def test_prelu_vs_torch(shape, wshape, device):
    torch = torch_or_skip()
    compare_with_torch(F.prelu, torch.nn.functional.prelu, arr(*shape, low=-2, high=2), arr(*wshape, seed=1),
                       device=device, atol=1e-12)


def test_prelu_bad_weight():
    with pytest.raises(RuntimeError, match="parameter numbers = 4 and channel size = 3"):
        F.prelu(zoo.randn(2, 3, 5), zoo.randn(4))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(zoo.randn(2, 3), zoo.randn(3, 1))


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_glu_grad(dim, device):
    check_grad(lambda x: F.glu(x, dim), arr(4, 2, 6, low=-2, high=2), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_vs_torch(dim, device):
    torch = torch_or_skip()
    compare_with_torch(lambda x: F.glu(x, dim), lambda x: torch.nn.functional.glu(x, dim), arr(4, 2, 6),
                       device=device, atol=1e-12)


def test_glu_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(zoo.randn(2, 3), 1)
    with pytest.raises(IndexError):
        F.glu(zoo.randn(2, 4), 2)


def test_rrelu_training_slopes_and_grad():
    zoo.manual_seed(3)
    x = zoo.tensor(-np.abs(arr(200, seed=4)) - 0.1, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    ratio = to_numpy(y) / to_numpy(x.detach())
    assert (ratio >= 0.1).all() and (ratio <= 0.3).all() and ratio.std() > 0.02
    y.backward(zoo.ones_like(y))
    np.testing.assert_allclose(to_numpy(x.grad), ratio, rtol=1e-12)
    pos = zoo.tensor(np.abs(arr(5)) + 0.1)
    np.testing.assert_array_equal(to_numpy(F.rrelu(pos, training=True)), to_numpy(pos))


def test_activation_bad_input():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(zoo.randn(3), approximate="fast")
    with pytest.raises(RuntimeError, match="gelu: expected a floating point tensor"):
        F.gelu(zoo.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="softshrink"):
        F.softshrink(zoo.randn(3), -1.0)


# ------------------------------------------------------------------------------------------------------------
# softmax, log_softmax, softmin
# ------------------------------------------------------------------------------------------------------------

SOFTMAXES = ["softmax", "log_softmax", "softmin"]


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_softmax_grad_each_dim(name, dim, device):
    f = getattr(F, name)
    check_grad(lambda x: f(x, dim), arr(2, 3, 4, low=-3, high=3), device=device)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_grad_edge_shapes(name, device):
    f = getattr(F, name)
    check_grad(lambda x: f(x.T, 0), arr(3, 4), device=device)  # non-contiguous
    check_grad(lambda x: f(x, 0), np.array(1.5), device=device)  # 0-d
    check_grad(lambda x: f(x, -1), np.zeros((3, 0)), device=device)  # empty along dim
    check_grad(lambda x: f(x, 1), np.zeros((0, 4)), device=device)  # empty elsewhere
    check_grad(lambda x: f(x, 0), arr(1, 1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_vs_torch(name, dim, dtype, device):
    torch = torch_or_skip()
    tol = dict(atol=1e-12, rtol=1e-10) if dtype == np.float64 else dict(atol=2e-6, rtol=2e-5)
    x = arr(3, 4, 5, low=-5, high=5).astype(dtype)
    compare_with_torch(lambda a: getattr(F, name)(a, dim), lambda a: getattr(torch.nn.functional, name)(a, dim),
                       x, device=device, **tol)


@pytest.mark.oracle
@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_dtype_argument_vs_torch(name):
    torch = torch_or_skip()
    x = arr(3, 4, dtype=np.float32)
    compare_with_torch(lambda a: getattr(F, name)(a, 1, dtype=zoo.float64),
                       lambda a: getattr(torch.nn.functional, name)(a, 1, dtype=torch.float64), x, atol=1e-6)
    z = zoo.tensor(x, requires_grad=True)
    y = getattr(F, name)(z, -1, dtype=zoo.float64)
    assert y.dtype == zoo.float64
    y.backward(zoo.ones_like(y))
    assert z.grad.dtype == zoo.float32
    # torch.softmax(input, dim, dtype) puts the dtype third: accepted too
    assert getattr(F, name)(zoo.tensor(x), 1, zoo.float64).dtype == zoo.float64


def test_softmax_numerically_stable():
    x = zoo.tensor([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, -1e4]], dtype=zoo.float32)
    y = to_numpy(F.softmax(x, 1))
    assert np.isfinite(y).all()
    e = np.exp([-2.0, -1.0, 0.0])
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(y[1], [0, 1, 0], atol=1e-7)
    ly = to_numpy(F.log_softmax(x, 1))
    assert np.isfinite(ly).all()
    np.testing.assert_allclose(ly[1], [-1e4, 0, -1e4], rtol=1e-6)


def test_softmax_zero_dim_and_empty_values():
    assert F.softmax(zoo.tensor(3.0), 0).item() == 1.0
    assert F.log_softmax(zoo.tensor(3.0), -1).item() == 0.0
    assert F.softmax(zoo.zeros(3, 0), 1).shape == (3, 0)


def test_softmax_implicit_dim_warns_and_uses_legacy_dim():
    x = zoo.tensor(arr(2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(to_numpy(y), to_numpy(F.softmax(x, 0)))  # 3-D: dim 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(to_numpy(F.log_softmax(zoo.tensor(arr(2, 3)))),
                                   to_numpy(F.log_softmax(zoo.tensor(arr(2, 3)), 1)))


def test_softmax_bad_input():
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(zoo.randn(2, 3), 2)
    with pytest.raises(RuntimeError, match="softmax: expected a floating point"):
        F.softmax(zoo.tensor([1, 2, 3]), 0)
    assert F.softmax(zoo.tensor([1, 2, 3]), 0, dtype=zoo.float64).dtype == zoo.float64
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.log_softmax(np.ones(3), 0)


# ------------------------------------------------------------------------------------------------------------
# gumbel_softmax
# ------------------------------------------------------------------------------------------------------------


def test_gumbel_softmax_soft_and_hard():
    logits = zoo.tensor(arr(4, 5), requires_grad=True)
    zoo.manual_seed(7)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_numpy(soft).sum(1), 1.0, rtol=1e-12)
    zoo.manual_seed(7)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = to_numpy(hard)
    np.testing.assert_array_equal(h.sum(1), 1.0)
    np.testing.assert_array_equal(h.argmax(1), to_numpy(soft).argmax(1))  # same noise under the same seed
    w = zoo.tensor(arr(4, 5, seed=3))
    (g_soft,) = zoo.autograd.grad([soft], [logits], [w])
    (g_hard,) = zoo.autograd.grad([hard], [logits], [w])
    np.testing.assert_allclose(to_numpy(g_hard), to_numpy(g_soft), rtol=1e-12)  # straight-through


def test_gumbel_softmax_grad_with_fixed_noise():
    def f(x):
        zoo.manual_seed(11)
        return F.gumbel_softmax(x, tau=0.7, dim=0)
    check_grad(f, arr(3, 4))
