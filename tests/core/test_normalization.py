"""Normalization functions of zoo.nn.functional: float64 gradchecks, oracle comparisons with PyTorch (forward,
backward and batch/instance norm's running statistics) and bad input."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, to_numpy, torch_or_skip

import zoo
import zoo.nn.functional as F

SHAPES = [(4, 3), (4, 3, 5), (2, 3, 2, 3)]


def const(a, device="cpu"):
    return zoo.tensor(a, device=device)


# ------------------------------------------------------------------------------------------------------------
# batch_norm
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_grad(shape, affine, device):
    c = shape[1]
    if affine:
        check_grad(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), arr(*shape, low=-2, high=2),
                   arr(c, seed=1, low=0.5, high=1.5), arr(c, seed=2), device=device)
    else:
        check_grad(lambda x: F.batch_norm(x, None, None, training=True), arr(*shape, low=-2, high=2),
                   device=device)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_grad(shape, affine, device):
    c = shape[1]
    rm, rv = const(arr(c, seed=3), device), const(arr(c, seed=4, low=0.5, high=2), device)
    if affine:
        check_grad(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), arr(*shape), arr(c, seed=1), arr(c, seed=2),
                   device=device)
    else:
        check_grad(lambda x: F.batch_norm(x, rm, rv), arr(*shape), device=device)


def test_batch_norm_grad_noncontiguous(device):
    check_grad(lambda x, w: F.batch_norm(x.transpose(0, 1), None, None, w, None, training=True),
               arr(3, 4, 2), arr(3, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_training_vs_torch(shape, affine, dtype, device):
    torch = torch_or_skip()
    c = shape[1]
    x = arr(*shape, low=-2, high=2).astype(dtype) * 3 + 1
    rm0, rv0 = arr(c, seed=3).astype(dtype), arr(c, seed=4, low=0.5, high=2).astype(dtype)
    z_rm, z_rv = const(rm0, device), const(rv0, device)
    t_rm, t_rv = torch.tensor(rm0), torch.tensor(rv0)
    params = (arr(c, seed=1).astype(dtype), arr(c, seed=2).astype(dtype)) if affine else ()
    tol = dict(atol=1e-10, rtol=1e-9) if dtype == np.float64 else dict(atol=1e-5, rtol=1e-4)
    compare_with_torch(lambda a, *p: F.batch_norm(a, z_rm, z_rv, *p, training=True, momentum=0.3),
                       lambda a, *p: torch.nn.functional.batch_norm(a, t_rm, t_rv, *p, training=True, momentum=0.3),
                       x, *params, device=device, **tol)
    np.testing.assert_allclose(to_numpy(z_rm), to_numpy(t_rm), **tol)
    np.testing.assert_allclose(to_numpy(z_rv), to_numpy(t_rv), **tol)  # unbiased variance
    assert z_rv.dtype == (zoo.float64 if dtype == np.float64 else zoo.float32)


@pytest.mark.oracle
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_vs_torch(shape, affine, device):
    torch = torch_or_skip()
    c = shape[1]
    rm, rv = arr(c, seed=3), arr(c, seed=4, low=0.5, high=2)
    params = (arr(c, seed=1), arr(c, seed=2)) if affine else ()
    compare_with_torch(lambda a, *p: F.batch_norm(a, const(rm, device), const(rv, device), *p, eps=1e-3),
                       lambda a, *p: torch.nn.functional.batch_norm(a, torch.tensor(rm), torch.tensor(rv), *p,
                                                                    eps=1e-3),
                       arr(*shape), *params, device=device, atol=1e-12)


def test_batch_norm_running_stats_not_recorded_and_versioned(device):
    rm, rv = zoo.zeros(3, dtype=zoo.float64, device=device), zoo.ones(3, dtype=zoo.float64, device=device)
    x = zoo.tensor(arr(5, 3), requires_grad=True, device=device)
    with zoo.no_grad():
        F.batch_norm(x, rm, rv, training=True)
    assert rm._version == 1 and not rm.requires_grad and rm.grad_fn is None
    a = arr(5, 3)
    np.testing.assert_allclose(to_numpy(rm), 0.1 * a.mean(0), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(rv), 0.9 + 0.1 * a.var(0, ddof=1), rtol=1e-12)


def test_batch_norm_errors():
    x = zoo.randn(1, 3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(x, None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(zoo.randn(1, 3, 1, 1), zoo.zeros(3), zoo.ones(3), training=True)
    F.batch_norm(x, zoo.zeros(3), zoo.ones(3))  # eval with one sample is fine
    with pytest.raises(RuntimeError, match="running_mean and running_var must be defined"):
        F.batch_norm(zoo.randn(4, 3), None, None)
    with pytest.raises(RuntimeError, match=r"weight of shape \(3,\), got shape \(4,\)"):
        F.batch_norm(zoo.randn(4, 3), None, None, zoo.ones(4), training=True)
    with pytest.raises(RuntimeError, match="running_mean of shape"):
        F.batch_norm(zoo.randn(4, 3), zoo.zeros(2), zoo.ones(3))
    with pytest.raises(ValueError, match="2D or higher|at least 2 dimensions"):
        F.batch_norm(zoo.randn(4), None, None, training=True)
    with pytest.raises(RuntimeError, match="floating point"):
        F.batch_norm(zoo.tensor([[1, 2], [3, 4]]), None, None, training=True)


# ------------------------------------------------------------------------------------------------------------
# instance_norm
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 2)])
def test_instance_norm_grad(shape, device):
    c = shape[1]
    check_grad(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), arr(*shape), arr(c, seed=1), arr(c, seed=2),
               device=device)
    check_grad(lambda x: F.instance_norm(x), arr(*shape), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_vs_torch(use_input_stats, device):
    torch = torch_or_skip()
    c = 3
    rm0, rv0 = arr(c, seed=3), arr(c, seed=4, low=0.5, high=2)
    z_rm, z_rv, t_rm, t_rv = const(rm0, device), const(rv0, device), torch.tensor(rm0), torch.tensor(rv0)
    compare_with_torch(lambda a, w, b: F.instance_norm(a, z_rm, z_rv, w, b, use_input_stats, 0.2),
                       lambda a, w, b: torch.nn.functional.instance_norm(a, t_rm, t_rv, w, b, use_input_stats, 0.2),
                       arr(2, c, 4, 3), arr(c, seed=1), arr(c, seed=2), device=device, atol=1e-10)
    np.testing.assert_allclose(to_numpy(z_rm), to_numpy(t_rm), atol=1e-12)
    np.testing.assert_allclose(to_numpy(z_rv), to_numpy(t_rv), atol=1e-12)


# ------------------------------------------------------------------------------------------------------------
# layer_norm, rms_norm, group_norm
# ------------------------------------------------------------------------------------------------------------

LN_CASES = [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), 5), ((2, 3, 2, 2), (3, 2, 2))]


@pytest.mark.parametrize("shape,ns", LN_CASES)
def test_layer_norm_grad(shape, ns, device):
    ws = (ns,) if isinstance(ns, int) else ns
    check_grad(lambda x, w, b: F.layer_norm(x, ns, w, b), arr(*shape), arr(*ws, seed=1), arr(*ws, seed=2),
               device=device)
    check_grad(lambda x: F.layer_norm(x, ns), arr(*shape), device=device)
    check_grad(lambda x, w: F.layer_norm(x, ns, w), arr(*shape), arr(*ws, seed=1), device=device)


def test_layer_norm_grad_noncontiguous_and_empty(device):
    check_grad(lambda x, w: F.layer_norm(x.T, (3,), w), arr(3, 4), arr(3, seed=1), device=device)
    check_grad(lambda x, w, b: F.layer_norm(x, (4,), w, b), np.zeros((0, 4)), arr(4, seed=1), arr(4, seed=2),
               device=device)


def test_layer_norm_bias_only_grad_and_inplace_guard(device):
    check_grad(lambda x, b: F.layer_norm(x, (4,), None, b), arr(3, 4), arr(4, seed=2), device=device)
    # without an affine the output is the x̂ kept for backward: changing it in place is detected
    x = zoo.tensor(arr(3, 4), requires_grad=True, device=device)
    y = F.layer_norm(x, (4,))
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.oracle
@pytest.mark.parametrize("shape,ns", LN_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_vs_torch(shape, ns, dtype, device):
    torch = torch_or_skip()
    ws = (ns,) if isinstance(ns, int) else ns
    tol = dict(atol=1e-10) if dtype == np.float64 else dict(atol=2e-5, rtol=1e-4)
    x, w, b = (arr(*shape).astype(dtype) * 4 + 2, arr(*ws, seed=1).astype(dtype), arr(*ws, seed=2).astype(dtype))
    compare_with_torch(lambda a, w, b: F.layer_norm(a, ns, w, b, 1e-4),
                       lambda a, w, b: torch.nn.functional.layer_norm(a, (ns,) if isinstance(ns, int) else ns, w, b,
                                                                      1e-4), x, w, b, device=device, **tol)
    compare_with_torch(lambda a: F.layer_norm(a, ns), lambda a: torch.nn.functional.layer_norm(a, ws), x,
                       device=device, **tol)


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\], expected input with shape \[\*, 4\], but got "
                                           r"input of size \[2, 3\]"):
        F.layer_norm(zoo.randn(2, 3), (4,))
    with pytest.raises(RuntimeError, match=r"weight of shape \(3,\)"):
        F.layer_norm(zoo.randn(2, 3), (3,), zoo.ones(4))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(zoo.randn(3), (2, 3))


@pytest.mark.parametrize("shape,ns", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
def test_rms_norm_grad(shape, ns, device):
    check_grad(lambda x, w: F.rms_norm(x, ns, w, 1e-3), arr(*shape), arr(*ns, seed=1), device=device)
    check_grad(lambda x: F.rms_norm(x, ns), arr(*shape), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rms_norm_vs_torch(eps, dtype, device):
    torch = torch_or_skip()
    tol = dict(atol=1e-10) if dtype == np.float64 else dict(atol=2e-5, rtol=1e-4)
    compare_with_torch(lambda a, w: F.rms_norm(a, (3, 4), w, eps),
                       lambda a, w: torch.nn.functional.rms_norm(a, (3, 4), w, eps),
                       arr(2, 3, 4).astype(dtype), arr(3, 4, seed=1).astype(dtype), device=device, **tol)


GN_CASES = [((2, 6, 3), 3), ((2, 4, 2, 2), 2), ((3, 4), 4), ((2, 4, 3), 1)]


@pytest.mark.parametrize("shape,groups", GN_CASES)
def test_group_norm_grad(shape, groups, device):
    c = shape[1]
    check_grad(lambda x, w, b: F.group_norm(x, groups, w, b), arr(*shape), arr(c, seed=1), arr(c, seed=2),
               device=device)
    check_grad(lambda x: F.group_norm(x, groups), arr(*shape), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,groups", GN_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_vs_torch(shape, groups, dtype, device):
    torch = torch_or_skip()
    c = shape[1]
    tol = dict(atol=1e-10) if dtype == np.float64 else dict(atol=2e-5, rtol=1e-4)
    compare_with_torch(lambda a, w, b: F.group_norm(a, groups, w, b),
                       lambda a, w, b: torch.nn.functional.group_norm(a, groups, w, b),
                       arr(*shape).astype(dtype), arr(c, seed=1).astype(dtype), arr(c, seed=2).astype(dtype),
                       device=device, **tol)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape \[2, 6, 3\] and "
                                           r"num_groups=4"):
        F.group_norm(zoo.randn(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match=r"weight of shape \(6,\)"):
        F.group_norm(zoo.randn(2, 6, 3), 3, zoo.ones(3))


def test_norms_keep_float32(device):
    x = zoo.tensor(arr(2, 4, 3, dtype=np.float32), requires_grad=True, device=device)
    w = zoo.tensor(np.ones(4, np.float32), requires_grad=True, device=device)
    outs = [F.batch_norm(x, None, None, w, w, training=True), F.layer_norm(x, (3,)), F.group_norm(x, 2, w, w),
            F.rms_norm(x, (4, 3)), F.instance_norm(x), F.normalize(x), F.local_response_norm(x, 3)]
    for y in outs:
        assert y.dtype == zoo.float32
        (g,) = zoo.autograd.grad([y], [x], [zoo.ones_like(y)])
        assert g.dtype == zoo.float32


# ------------------------------------------------------------------------------------------------------------
# normalize, local_response_norm
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_grad(p, dim, device):
    check_grad(lambda x: F.normalize(x, p, dim), arr(3, 4, 2), device=device)


def test_normalize_grad_clamped_and_noncontiguous(device):
    a = arr(3, 4)
    a[1] *= 0.01  # this row's norm is clamped to eps
    check_grad(lambda x: F.normalize(x, dim=1, eps=0.2), a, device=device)
    check_grad(lambda x: F.normalize(x.T, dim=0), arr(3, 4), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_vs_torch(p, dim, device):
    torch = torch_or_skip()
    a = arr(3, 4, 2)
    a[1, :, 0] = 0.0
    compare_with_torch(lambda x: F.normalize(x, p, dim), lambda x: torch.nn.functional.normalize(x, p, dim), a,
                       device=device, atol=1e-12)


def test_normalize_errors():
    with pytest.raises(IndexError):
        F.normalize(zoo.randn(3), dim=1)
    with pytest.raises(NotImplementedError, match="p=0"):
        F.normalize(zoo.randn(2, 3), p=0)


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 4, 2, 2), 2), ((1, 3, 4), 5), ((2, 6, 2), 1)])
def test_local_response_norm_grad(shape, size, device):
    check_grad(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.6, k=1.5), arr(*shape), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 4, 2, 2), 2), ((1, 3, 4), 5), ((2, 6, 2, 2, 2), 4)])
def test_local_response_norm_vs_torch(shape, size, device):
    torch = torch_or_skip()
    compare_with_torch(lambda x: F.local_response_norm(x, size, 0.3, 0.75, 2.0),
                       lambda x: torch.nn.functional.local_response_norm(x, size, 0.3, 0.75, 2.0),
                       arr(*shape, low=-3, high=3), device=device, atol=1e-12)


def test_local_response_norm_errors():
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(zoo.randn(2, 3), 2)


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_mode_gradcheck_and_torch(affine, device):
    """Evaluation mode (running statistics): y = x·s + t per channel; gradients for x, weight and bias."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5, 2))
    mean, var = zoo.tensor(rng.standard_normal(4), device=device), zoo.tensor(rng.uniform(0.5, 2.0, 4), device=device)
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    if affine:
        check_grad(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False, eps=1e-3), x, w, b, device=device)
    else:
        check_grad(lambda x: F.batch_norm(x, mean, var, training=False, eps=1e-3), x, device=device)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = (torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) if affine else (None, None)
    ty = torch.nn.functional.batch_norm(tx, torch.tensor(to_numpy(mean)), torch.tensor(to_numpy(var)), tw, tb,
                                        training=False, eps=1e-3)
    zx = zoo.tensor(x, requires_grad=True, device=device)
    zw, zb = ((zoo.tensor(w, requires_grad=True, device=device), zoo.tensor(b, requires_grad=True, device=device))
              if affine else (None, None))
    zy = F.batch_norm(zx, mean, var, zw, zb, training=False, eps=1e-3)
    np.testing.assert_allclose(to_numpy(zy), to_numpy(ty), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(x.shape)
    ty.backward(torch.tensor(g))
    zy.backward(zoo.tensor(g, device=device))
    np.testing.assert_allclose(to_numpy(zx.grad), to_numpy(tx.grad), rtol=1e-10, atol=1e-12)
    if affine:
        np.testing.assert_allclose(to_numpy(zw.grad), to_numpy(tw.grad), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_numpy(zb.grad), to_numpy(tb.grad), rtol=1e-10, atol=1e-12)
