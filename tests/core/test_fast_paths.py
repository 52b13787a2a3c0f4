"""Fast paths that must keep exact semantics: float32 GELU's tanh-form Φ, and the engine summing slice
gradients into the input's gradient in place."""
import math

import numpy as np
import pytest

import zoo
import zoo.nn.functional as F
from zoo.core.nn.functional.activation import _gelu_fast32


def test_gelu_float32_cdf_accuracy_dense_grid():
    for lo, hi in [(-9, 9), (-1e4, 1e4), (-3e38, 3e38)]:
        x = np.linspace(lo, hi, 100001).astype(np.float32)
        ref = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x])
        out, cdf = np.empty_like(x), np.empty_like(x)
        with np.errstate(over="ignore"):
            _gelu_fast32(np, x, out, cdf)
        assert np.abs(cdf - ref).max() <= 1.1e-7
        assert not np.isnan(out).any()
    special = np.array([np.inf, -np.inf, np.nan], np.float32)
    out, cdf = np.empty_like(special), np.empty_like(special)
    with np.errstate(over="ignore", invalid="ignore"):
        _gelu_fast32(np, special, out, cdf)
    assert cdf[0] == 1 and cdf[1] == 0 and np.isnan(cdf[2])


@pytest.mark.parametrize("shape", [(), (7,), (300, 700)])
def test_gelu_float32_matches_float64(shape):
    x64 = np.asarray(np.random.randn(*shape) * 3)
    g64 = np.asarray(np.random.randn(*shape))
    grads = []
    for dt in (np.float32, np.float64):
        x = zoo.tensor(x64.astype(dt), requires_grad=True)
        y = F.gelu(x)
        assert y.dtype == x.dtype and y.shape == x.shape
        y.backward(zoo.tensor(g64.astype(dt)))
        grads.append((y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64)))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=2e-6, atol=5e-7)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=2e-6, atol=5e-7)


def _slice_graph(T, x):
    a, b, c = x.chunk(3, dim=-1)
    y = (a * 1 + b * 2 + c * 3).sum() + x[1:3].sum() * 4 + (x * x).sum() + x.select(2, 4).sum() * 5
    return y + x.narrow(1, 2, 3).sum() + sum(p.sum() * (i + 7) for i, p in enumerate(x.split([2, 7], dim=2)))


def test_slice_gradients_summed_in_place_match_reference():
    xn = np.random.randn(4, 6, 9)
    x = zoo.tensor(xn, requires_grad=True)
    _slice_graph(zoo, x).backward()
    ref = 2 * xn + 5 * (np.arange(9) == 4) + np.where(np.arange(9) < 2, 7, 8)
    ref = ref + np.repeat([1, 2, 3], 3)
    ref = ref + 4 * ((np.arange(4) >= 1) & (np.arange(4) < 3))[:, None, None]
    ref = ref + ((np.arange(6) >= 2) & (np.arange(6) < 5))[None, :, None]
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12)
    g0 = x.grad.numpy().copy()
    _slice_graph(zoo, x).backward()  # accumulates into the existing .grad
    np.testing.assert_allclose(x.grad.numpy(), 2 * g0, rtol=1e-12)


def test_slice_gradients_non_leaf_retain_graph_and_autograd_grad():
    xn = np.random.randn(4, 6, 9)
    x = zoo.tensor(xn, requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = _slice_graph(zoo, h)
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    np.testing.assert_allclose(h.grad.numpy(), g1)
    np.testing.assert_allclose(seen[0], g1)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)
    (gx,) = zoo.autograd.grad(_slice_graph(zoo, x), [x])
    np.testing.assert_allclose(gx.numpy(), g1)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_gelu_every_float_dtype_and_rank_matches_float64(dtype, shape):
    """Including 0-d float16 (computed in float32 through in-place steps) and inputs whose x·φ(x) underflows."""
    x64 = np.resize(np.array([0.7, -1.3, 15.0, -15.0, 3.0, -40.0]), shape)
    ref = zoo.tensor(x64, requires_grad=True)
    F.gelu(ref).sum().backward()
    x = zoo.tensor(x64.astype(dtype), requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    assert y.dtype == x.dtype and y.shape == shape and x.grad.shape == shape
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == np.float16 else dict(rtol=2e-6, atol=5e-7)
    np.testing.assert_allclose(y.detach().numpy().astype(np.float64), F.gelu(zoo.tensor(x64)).numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), ref.grad.numpy(), **tol)
