"""Pooling: gradchecks for every op and option, PyTorch oracles (values, indices, gradients), errors."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, swap_last, torch_functional as tF, to_numpy

import zoo
import zoo.nn.functional as F


def distinct(*shape, seed=0):
    """Values far apart, so finite differences never flip a max."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05).reshape(shape)


MAX2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3)),
         dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, stride=1, padding=1, ceil_mode=True),
         dict(kernel_size=(2, 3), stride=1)]
AVG2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
         dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         dict(kernel_size=(3, 2), padding=1, divisor_override=5)]


def one_d(kw):
    return {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items() if k != "divisor_override"}


# ----------------------------------------------------------------------------------------------------------------
# gradchecks
# ----------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", MAX2D)
def test_max_pool_grad(kw, device):
    check_grad(lambda x: F.max_pool2d(x, **kw), distinct(2, 2, 7, 6), device=device)
    check_grad(lambda x: F.max_pool1d(x, **one_d(kw)), distinct(2, 3, 7), device=device)


def test_max_pool_unbatched_noncontiguous_3d_grad(device):
    check_grad(lambda x: F.max_pool2d(x, 2, padding=1), distinct(2, 5, 4), device=device)
    check_grad(lambda x: F.max_pool1d(x, 3, stride=2), distinct(3, 8), device=device)
    check_grad(lambda x: F.max_pool2d(swap_last(x), 3, stride=1), distinct(1, 2, 5, 4), device=device)
    check_grad(lambda x: F.max_pool3d(x, 2, padding=1, stride=(1, 2, 2)), distinct(1, 2, 3, 4, 3), device=device)


@pytest.mark.parametrize("kw", AVG2D)
def test_avg_pool_grad(kw, device):
    check_grad(lambda x: F.avg_pool2d(x, **kw), arr(2, 2, 7, 6), device=device)
    if "divisor_override" not in kw:
        check_grad(lambda x: F.avg_pool1d(x, **one_d(kw)), arr(2, 3, 7), device=device)


def test_avg_pool_unbatched_noncontiguous_3d_grad(device):
    check_grad(lambda x: F.avg_pool2d(x, 2, padding=1), arr(2, 5, 4), device=device)
    check_grad(lambda x: F.avg_pool1d(x, 3, stride=2, ceil_mode=True), arr(3, 8), device=device)
    check_grad(lambda x: F.avg_pool2d(swap_last(x), 3, stride=1), arr(1, 2, 5, 4), device=device)
    check_grad(lambda x: F.avg_pool3d(x, 2, padding=1, count_include_pad=False), arr(1, 2, 3, 4, 3), device=device)


@pytest.mark.parametrize("out", [1, 2, (3, 4), (None, 2), (5, 3), (9, 7)])
def test_adaptive_pool_grad(out, device):
    check_grad(lambda x: F.adaptive_avg_pool2d(x, out), arr(2, 2, 5, 6), device=device)
    check_grad(lambda x: F.adaptive_max_pool2d(x, out), distinct(2, 2, 5, 6), device=device)


@pytest.mark.parametrize("out", [1, 3, 4, 9])
def test_adaptive_pool1d_grad(out, device):
    check_grad(lambda x: F.adaptive_avg_pool1d(x, out), arr(2, 3, 6), device=device)
    check_grad(lambda x: F.adaptive_max_pool1d(x, out), distinct(2, 3, 6), device=device)
    check_grad(lambda x: F.adaptive_avg_pool1d(x, out), arr(3, 6), device=device)  # unbatched
    check_grad(lambda x: F.adaptive_max_pool1d(x, out), distinct(3, 6), device=device)


def test_adaptive_pool3d_and_noncontiguous_grad(device):
    check_grad(lambda x: F.adaptive_avg_pool3d(x, (2, None, 3)), arr(1, 2, 3, 4, 5), device=device)
    check_grad(lambda x: F.adaptive_max_pool3d(x, (2, 1, 3)), distinct(1, 2, 3, 4, 5), device=device)
    check_grad(lambda x: F.adaptive_avg_pool2d(swap_last(x), (2, 3)), arr(1, 2, 5, 4), device=device)


def test_max_unpool_and_lp_pool_grad(device):
    x = distinct(2, 2, 6, 5)
    _, idx = F.max_pool2d(zoo.tensor(x, device=device), 2, return_indices=True)
    check_grad(lambda v: F.max_unpool2d(v, idx, 2, output_size=(6, 5)), arr(2, 2, 3, 2), device=device)
    _, idx1 = F.max_pool1d(zoo.tensor(x[0], device=device), 2, return_indices=True)
    check_grad(lambda v: F.max_unpool1d(v, idx1, 2, output_size=(5,)), arr(2, 6, 2), device=device)
    check_grad(lambda x: F.lp_pool2d(x, 2, (3, 2), stride=2), arr(2, 2, 6, 5, low=0.5, high=2), device=device)
    check_grad(lambda x: F.lp_pool1d(x, 3, 2), arr(2, 3, 6, low=0.5, high=2), device=device)


def test_pool_empty_batch(device):
    x = zoo.zeros(0, 3, 6, 6, requires_grad=True, device=device)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_max_pool2d(x, 3), F.adaptive_avg_pool2d(x, 4)):
        y.backward(zoo.zeros(*y.shape, device=device))
        assert y.shape[0] == 0 and tuple(x.grad.shape) == (0, 3, 6, 6)


# ----------------------------------------------------------------------------------------------------------------
# semantics: ties, NaN, -inf windows, float32, no-grad fast path
# ----------------------------------------------------------------------------------------------------------------

def test_max_pool_ties_go_to_first_max(device):
    x = zoo.tensor(np.ones((1, 1, 2, 2)), requires_grad=True, device=device)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    y.backward(zoo.ones(1, 1, 1, 1, device=device))
    assert idx.tolist() == [[[[0]]]]
    np.testing.assert_array_equal(to_numpy(x.grad), [[[[1, 0], [0, 0]]]])


def test_max_pool_nan_and_all_minus_inf_windows(device):
    x = np.array([[[-np.inf] * 4, [1.0, np.nan, 3.0, 2.0]]])
    y, idx = F.max_pool1d(zoo.tensor(x, device=device), 2, padding=1, return_indices=True)
    assert np.isnan(to_numpy(y)[0, 1, 1]) and np.all(np.isneginf(to_numpy(y)[0, 0]))
    assert idx.tolist() == [[[0, 1, 3], [0, 1, 3]]]  # -inf windows point at their first real element
    y_fast = F.max_pool1d(zoo.tensor(x, device=device), 2, padding=1)  # the running-max path (no indices)
    np.testing.assert_array_equal(to_numpy(y_fast), to_numpy(y))


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pool_float32_and_no_grad_path(op, device):
    x = zoo.tensor(arr(2, 3, 9, 8, dtype=np.float32), device=device, requires_grad=True)
    y = getattr(F, op)(x, 3, 2, 1)
    with zoo.no_grad():
        y_fast = getattr(F, op)(x, 3, 2, 1)
    assert y.dtype == y_fast.dtype == zoo.float32
    np.testing.assert_array_equal(y.detach().cpu().numpy(), y_fast.cpu().numpy())
    y.backward(zoo.ones(*y.shape, device=device))
    assert x.grad.dtype == zoo.float32


def test_max_pool_integer_input(device):
    x = np.arange(16).reshape(1, 1, 4, 4)[..., ::-1].copy()
    y, idx = F.max_pool2d(zoo.tensor(x, device=device), 2, return_indices=True)
    assert y.dtype == zoo.int64
    np.testing.assert_array_equal(to_numpy(y), [[[[7, 5], [15, 13]]]])
    np.testing.assert_array_equal(to_numpy(idx), [[[[4, 6], [12, 14]]]])


# ----------------------------------------------------------------------------------------------------------------
# oracles
# ----------------------------------------------------------------------------------------------------------------

@pytest.mark.oracle
@pytest.mark.parametrize("kw", MAX2D)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool_vs_torch(kw, dtype, device):
    x = arr(2, 3, 9, 8, dtype=dtype)
    x[0, 0, :3, :3] = 0.5  # ties
    compare_with_torch(lambda x: F.max_pool2d(x, return_indices=True, **kw),
                       lambda x: tF().max_pool2d(x, return_indices=True, **kw), x, atol=0, device=device)
    compare_with_torch(lambda x: F.max_pool1d(x, return_indices=True, **one_d(kw)),
                       lambda x: tF().max_pool1d(x, return_indices=True, **one_d(kw)), x[0, :, 0], atol=0,
                       device=device)
    compare_with_torch(lambda x: F.max_pool2d(x, **kw), lambda x: tF().max_pool2d(x, **kw), x[0], atol=0, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("kw", AVG2D)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool_vs_torch(kw, dtype, device):
    tol = dict(atol=1e-12) if dtype == np.float64 else dict(atol=1e-6, rtol=1e-5)
    x = arr(2, 3, 9, 8, dtype=dtype)
    compare_with_torch(lambda x: F.avg_pool2d(x, **kw), lambda x: tF().avg_pool2d(x, **kw), x, **tol, device=device)
    if "divisor_override" not in kw:
        compare_with_torch(lambda x: F.avg_pool1d(x, **one_d(kw)), lambda x: tF().avg_pool1d(x, **one_d(kw)),
                           x[0, :, 0], **tol, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("out", [1, 2, (3, 4), (None, 4), (5, 4), (10, 9), 7])
def test_adaptive_vs_torch(out, device):
    x = arr(2, 3, 7, 6)
    x[0, 0, :2, :2] = 0.5  # ties
    compare_with_torch(lambda x: F.adaptive_avg_pool2d(x, out), lambda x: tF().adaptive_avg_pool2d(x, out), x,
                       atol=1e-12, device=device)
    compare_with_torch(lambda x: F.adaptive_max_pool2d(x, out, True),
                       lambda x: tF().adaptive_max_pool2d(x, out, True), x, atol=0, device=device)
    if not isinstance(out, tuple):
        compare_with_torch(lambda x: F.adaptive_avg_pool1d(x, out), lambda x: tF().adaptive_avg_pool1d(x, out),
                           x[0], atol=1e-12, device=device)
        compare_with_torch(lambda x: F.adaptive_max_pool1d(x, out, True),
                           lambda x: tF().adaptive_max_pool1d(x, out, True), x[0], atol=0, device=device)


@pytest.mark.oracle
def test_pool3d_vs_torch(device):
    x = arr(2, 2, 5, 4, 6)
    compare_with_torch(lambda x: F.max_pool3d(x, 2, padding=1, return_indices=True),
                       lambda x: tF().max_pool3d(x, 2, padding=1, return_indices=True), x, atol=0, device=device)
    compare_with_torch(lambda x: F.avg_pool3d(x, 3, 2, 1, count_include_pad=False),
                       lambda x: tF().avg_pool3d(x, 3, 2, 1, count_include_pad=False), x, atol=1e-12, device=device)
    compare_with_torch(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)), lambda x: tF().adaptive_avg_pool3d(x, (2, 3, 4)),
                       x, atol=1e-12, device=device)
    compare_with_torch(lambda x: F.adaptive_max_pool3d(x, (2, 3, 4), True),
                       lambda x: tF().adaptive_max_pool3d(x, (2, 3, 4), True), x, atol=0, device=device)


@pytest.mark.oracle
def test_unpool_and_lp_vs_torch(device):
    torch = pytest.importorskip("torch")
    x = arr(2, 3, 7, 6)
    y, i = tF().max_pool2d(torch.tensor(x), 2, return_indices=True)
    compare_with_torch(lambda y, i: F.max_unpool2d(y, i, 2, output_size=(7, 6)),
                       lambda y, i: tF().max_unpool2d(y, i, 2, output_size=(7, 6)), to_numpy(y), to_numpy(i), atol=0,
                       device=device)
    y, i = tF().max_pool1d(torch.tensor(x[0]), 3, stride=2, return_indices=True)
    compare_with_torch(lambda y, i: F.max_unpool1d(y, i, 3, stride=2),
                       lambda y, i: tF().max_unpool1d(y, i, 3, stride=2), to_numpy(y), to_numpy(i), atol=0,
                       device=device)
    compare_with_torch(lambda x: F.lp_pool2d(x, 2, (3, 2), stride=2), lambda x: tF().lp_pool2d(x, 2, (3, 2), stride=2),
                       np.abs(x) + 0.1, atol=1e-12, device=device)
    compare_with_torch(lambda x: F.lp_pool1d(x, 3, 2), lambda x: tF().lp_pool1d(x, 3, 2), np.abs(x[0]) + 0.1,
                       atol=1e-12, device=device)


# ----------------------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------------------

def _t(*shape, dtype=np.float64):
    return zoo.tensor(np.zeros(shape, dtype))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(_t(1, 1, 5, 5), 3, padding=2)
    with pytest.raises(RuntimeError, match=r"max_pool2d: given input size \(2, 2\), the calculated output size "
                                           r"\(0, 0\) is too small"):
        F.max_pool2d(_t(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="max_pool2d: expected 3D .* or 4D .* input"):
        F.max_pool2d(_t(5, 5), 3)
    with pytest.raises(RuntimeError, match="max_pool1d: expected 2D .* or 3D"):
        F.max_pool1d(_t(5), 3)
    with pytest.raises(RuntimeError, match="stride must be greater than zero"):
        F.avg_pool2d(_t(1, 1, 5, 5), 2, stride=0)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
        F.max_pool2d(_t(1, 1, 5, 5), 0)
    with pytest.raises(NotImplementedError, match="avg_pool2d on int64"):
        F.avg_pool2d(_t(1, 1, 5, 5, dtype=np.int64), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(_t(1, 1, 5, 5), 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="adaptive_avg_pool2d: output_size must have 2 elements"):
        F.adaptive_avg_pool2d(_t(1, 2, 5, 5), (2, 2, 2))
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d: expected input with non-empty spatial"):
        F.adaptive_max_pool2d(_t(1, 2, 0, 5), 2)
    with pytest.raises(RuntimeError, match="found an invalid max index"):
        F.max_unpool2d(_t(1, 2, 2, 2), zoo.tensor(np.full((1, 2, 2, 2), 30)), 2)
    with pytest.raises(ValueError, match="max_unpool2d: invalid output_size"):
        F.max_unpool2d(_t(1, 2, 2, 2), zoo.tensor(np.zeros((1, 2, 2, 2), np.int64)), 2, output_size=(7, 7))
    with pytest.raises(TypeError, match="expected indices to be an integer Tensor"):
        F.max_unpool2d(_t(1, 2, 2, 2), _t(1, 2, 2, 2), 2)
