"""Losses of zoo.nn.functional: float64 gradchecks of every option, oracle comparisons with PyTorch (forward
and backward), and the errors for bad input."""
import contextlib
import math

import numpy as np
import pytest
from helpers import compare_with_torch, arr, check_grad, torch_or_skip, to_numpy

import zoo
import zoo.nn.functional as F
from zoo import Tensor

REDUCTIONS = ["mean", "sum", "none"]


def const(a, device="cpu"):
    return zoo.tensor(a, device=device)


def targets(*shape, classes, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, classes, shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


def class_targets(shape, seed=0, ignore=None):
    """The class count of an (N, C, d1, ...) or (C,) input, and targets of the matching shape."""
    c = shape[0] if len(shape) == 1 else shape[1]
    return c, targets(*(() if len(shape) == 1 else (shape[0],) + shape[2:]), classes=c, seed=seed, ignore=ignore)


# ------------------------------------------------------------------------------------------------------------
# cross_entropy
# ------------------------------------------------------------------------------------------------------------

CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore": {"ignore_index": 2},
    "smooth": {"label_smoothing": 0.2},
    "all": {"weight": True, "ignore_index": 1, "label_smoothing": 0.3},
}


def _ce_kwargs(opts, lib, c, device="cpu"):
    kw = dict(opts)
    if kw.pop("weight", False):
        w = arr(c, seed=7, low=0.2, high=2.0)
        kw["weight"] = const(w, device) if lib is zoo else __import__("torch").tensor(w)
    return kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", list(CE_OPTIONS))
@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 3), (5,)], ids=["NC", "NCd", "C"])
def test_cross_entropy_grad(shape, opts, reduction, device):
    opt = CE_OPTIONS[opts]
    c, t = class_targets(shape, ignore=opt.get("ignore_index"))
    if len(shape) == 1 and "ignore_index" in opt:
        t = np.asarray(opt["ignore_index"] + 1, dtype=np.int64)
    kw = _ce_kwargs(opt, zoo, c, device)
    check_grad(lambda x: F.cross_entropy(x, const(t, device), reduction=reduction, **kw), arr(*shape),
               device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", list(CE_OPTIONS))
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3), (5,)], ids=["NC", "NCdd", "C"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_vs_torch(shape, opts, reduction, dtype, device):
    torch = torch_or_skip()
    opt = CE_OPTIONS[opts]
    c, t = class_targets(shape, seed=3, ignore=opt.get("ignore_index"))
    zkw, tkw = _ce_kwargs(opt, zoo, c, device=device), _ce_kwargs(opt, torch, c)
    if "weight" in zkw and dtype == np.float32:
        zkw["weight"], tkw["weight"] = zkw["weight"].to(zoo.float32), tkw["weight"].float()
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == np.float32 else {}
    compare_with_torch(lambda x, y: F.cross_entropy(x, y, reduction=reduction, **zkw),
           lambda x, y: torch.nn.functional.cross_entropy(x, y, reduction=reduction, **tkw),
           arr(*shape, low=-3, high=3, dtype=dtype), t, **tol, device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.25}, {"weight": True},
                                  {"weight": True, "label_smoothing": 0.1}])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (4,)])
def test_cross_entropy_prob_target_grad(shape, opts, reduction, device):
    c = shape[0] if len(shape) == 1 else shape[1]
    kw = _ce_kwargs(opts, zoo, c, device=device)
    p = arr(*shape, seed=2, low=0, high=1)
    check_grad(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **kw), arr(*shape), p / p.sum(), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.25}, {"weight": True, "label_smoothing": 0.1}])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2, 2), (4,)])
def test_cross_entropy_prob_target_vs_torch(shape, opts, reduction, device):
    torch = torch_or_skip()
    c = shape[0] if len(shape) == 1 else shape[1]
    zkw, tkw = _ce_kwargs(opts, zoo, c, device=device), _ce_kwargs(opts, torch, c)
    compare_with_torch(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **zkw),
           lambda x, t: torch.nn.functional.cross_entropy(x, t, reduction=reduction, **tkw),
           arr(*shape, low=-2, high=2), arr(*shape, seed=4, low=0, high=1), device=device)


@pytest.mark.oracle
def test_cross_entropy_float32_and_mixed_dtypes(device):
    torch = torch_or_skip()
    x = arr(8, 10, low=-20, high=20, dtype=np.float32)  # large logits: the log-softmax must be stable
    compare_with_torch(F.cross_entropy, torch.nn.functional.cross_entropy, x, targets(8, classes=10), atol=1e-5,
                       rtol=1e-5, device=device)
    compare_with_torch(F.cross_entropy, torch.nn.functional.cross_entropy, x, arr(8, 10, low=0, high=1), atol=1e-5,
                       device=device)
    out = F.cross_entropy(zoo.tensor(x, device=device), zoo.tensor(targets(8, classes=10).astype(np.uint8),
                                                                   device=device))
    assert out.dtype == zoo.float32 and np.isfinite(out.item())


def test_cross_entropy_non_contiguous_input(device):
    x = arr(5, 4)  # used transposed: (4, 5), non-contiguous
    t = targets(4, classes=5)
    a = Tensor._make(const(x, device)._data.T, requires_grad=True)
    b = zoo.tensor(np.ascontiguousarray(x.T), requires_grad=True, device=device)
    for inp in (a, b):
        F.cross_entropy(inp, const(t, device=device), label_smoothing=0.1).backward()
    np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), rtol=1e-12)


def test_cross_entropy_all_ignored_and_empty_give_nan(device):
    x = zoo.tensor(arr(3, 4), device=device)
    assert math.isnan(F.cross_entropy(x, const(np.full(3, -100), device=device)).item())
    assert math.isnan(F.cross_entropy(x, const(np.full(3, -100), device=device), label_smoothing=0.1).item())
    assert F.cross_entropy(x, const(np.full(3, -100), device=device), reduction="sum").item() == 0
    empty = zoo.tensor(np.zeros((0, 4)), device=device)
    assert math.isnan(F.cross_entropy(empty, const(np.zeros(0, np.int64), device=device)).item())
    assert math.isnan(F.cross_entropy(empty, zoo.tensor(np.zeros((0, 4)), device=device)).item())
    assert F.cross_entropy(empty, const(np.zeros(0, np.int64), device=device), reduction="none").shape == (0,)


def test_cross_entropy_errors():
    x = zoo.tensor(arr(4, 10))
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(4,\) for input \(4, 10\), "
                                         r"got \(5,\)"):
        F.cross_entropy(x, const(np.zeros(5, np.int64)))
    with pytest.raises(IndexError, match="Target 12 is out of bounds.*10 classes"):
        F.cross_entropy(x, const(np.array([0, 12, 1, 2])))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.cross_entropy(x, const(np.array([0, -3, 1, 2])))
    with pytest.raises(RuntimeError, match="int64.*got int32"):
        F.cross_entropy(x, zoo.tensor(np.zeros(4, np.int32)))
    with pytest.raises(ValueError, match=r"float64 target of shape \(4,\)"):
        F.cross_entropy(x, zoo.tensor(np.zeros(4)))
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, zoo.tensor(np.zeros((4, 10))), ignore_index=0)
    with pytest.raises(RuntimeError, match="weight tensor should be defined.*10 classes.*\\(5,\\)"):
        F.cross_entropy(x, const(np.zeros(4, np.int64)), weight=zoo.tensor(np.ones(5)))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, const(np.zeros(4, np.int64)), label_smoothing=1.5)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.cross_entropy(x, const(np.zeros(4, np.int64)), reduction="avg")
    with pytest.raises(RuntimeError, match="derivative for 'weight'"):
        F.cross_entropy(x, const(np.zeros(4, np.int64)), weight=zoo.tensor(np.ones(10), requires_grad=True))
    with pytest.raises(RuntimeError, match="floating point input"):
        F.cross_entropy(const(np.zeros((4, 10), np.int64)), const(np.zeros(4, np.int64)))


def test_legacy_reduction_flags(device):
    x, t = zoo.tensor(arr(4, 3), device=device), const(targets(4, classes=3), device=device)
    none = to_numpy(F.cross_entropy(x, t, reduce=False))
    assert none.shape == (4,)
    np.testing.assert_allclose(F.cross_entropy(x, t, size_average=False).item(), none.sum())
    np.testing.assert_allclose(F.cross_entropy(x, t, size_average=True, reduce=True).item(), none.mean())


# ------------------------------------------------------------------------------------------------------------
# nll_loss
# ------------------------------------------------------------------------------------------------------------

NLL_OPTIONS = {"plain": {}, "weight": {"weight": True}, "ignore": {"ignore_index": 0},
               "both": {"weight": True, "ignore_index": 1}}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", list(NLL_OPTIONS))
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2), (3,)])
def test_nll_loss_grad(shape, opts, reduction, device):
    opt = NLL_OPTIONS[opts]
    c, t = class_targets(shape, seed=5, ignore=opt.get("ignore_index"))
    if len(shape) == 1:
        t = np.asarray(2, dtype=np.int64)
    kw = _ce_kwargs(opt, zoo, c, device)
    check_grad(lambda x: F.nll_loss(x, const(t, device), reduction=reduction, **kw), arr(*shape), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", list(NLL_OPTIONS))
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3, 2), (4,)])
def test_nll_loss_vs_torch(shape, opts, reduction, device):
    torch = torch_or_skip()
    opt = NLL_OPTIONS[opts]
    c, t = class_targets(shape, seed=6, ignore=opt.get("ignore_index"))
    zkw, tkw = _ce_kwargs(opt, zoo, c, device=device), _ce_kwargs(opt, torch, c)
    compare_with_torch(lambda x, y: F.nll_loss(x, y, reduction=reduction, **zkw),
           lambda x, y: torch.nn.functional.nll_loss(x, y, reduction=reduction, **tkw), arr(*shape, low=-3, high=0), t,
           device=device)


def test_nll_loss_errors():
    x = zoo.tensor(arr(4, 3))
    with pytest.raises(RuntimeError, match="nll_loss: expected target of dtype int64.*got float64"):
        F.nll_loss(x, zoo.tensor(np.zeros(4)))
    with pytest.raises(ValueError, match=r"nll_loss: expected target of shape \(4,\) for input \(4, 3\), got \(4, 1\)"):
        F.nll_loss(x, const(np.zeros((4, 1), np.int64)))
    with pytest.raises(IndexError, match="nll_loss: Target 3 is out of bounds"):
        F.nll_loss(x, const(np.array([0, 1, 2, 3])))
    with pytest.raises(ValueError, match=r"C > 0 classes, got shape \(\)"):
        F.nll_loss(zoo.tensor(np.float64(1.0)), const(np.asarray(0)))


# ------------------------------------------------------------------------------------------------------------
# regression losses: mse, l1, smooth_l1, huber
# ------------------------------------------------------------------------------------------------------------

REGRESSION = {
    "mse_loss": ({}, {}),
    "l1_loss": ({}, {}),
    "smooth_l1_loss": ({"beta": 0.5}, {"beta": 0.5}),
    "smooth_l1_beta0": ({"beta": 0.0}, {"beta": 0.0}),
    "huber_loss": ({"delta": 0.4}, {"delta": 0.4}),
}


def _regression(name):
    fname = "smooth_l1_loss" if name == "smooth_l1_beta0" else name
    return fname, REGRESSION[name][0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_grad(name, reduction, device):
    fname, kw = _regression(name)
    f = getattr(F, fname)
    check_grad(lambda x, y: f(x, y, reduction=reduction, **kw), arr(3, 4), arr(3, 4, seed=1), device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weight_grad(name, reduction, device):
    f = getattr(F, name)
    check_grad(lambda x, y, w: f(x, y, reduction=reduction, weight=w), arr(3, 4), arr(3, 4, seed=1),
               arr(3, 4, seed=2, low=0.1, high=1), device=device)


def test_regression_0d_empty_and_broadcast_grad(device):
    check_grad(lambda x, y: F.mse_loss(x, y), arr(), arr(seed=1), device=device)
    assert math.isnan(F.mse_loss(zoo.tensor(np.zeros(0), device=device), zoo.tensor(np.zeros(0), device=device)).item())
    with pytest.warns(UserWarning, match="different to the input size"):
        check_grad(lambda x, y: F.l1_loss(x, y), arr(3, 4), arr(4, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regression_vs_torch(name, reduction, dtype, device):
    torch = torch_or_skip()
    fname, kw = _regression(name)
    compare_with_torch(lambda x, y: getattr(F, fname)(x, y, reduction=reduction, **kw),
           lambda x, y: getattr(torch.nn.functional, fname)(x, y, reduction=reduction, **kw),
           arr(4, 5, dtype=dtype), arr(4, 5, seed=1, dtype=dtype), atol=1e-6, rtol=1e-5, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weight_vs_torch(name, reduction, device):
    torch = torch_or_skip()
    compare_with_torch(lambda x, y, w: getattr(F, name)(x, y, reduction=reduction, weight=w),
           lambda x, y, w: getattr(torch.nn.functional, name)(x, y, reduction=reduction, weight=w),
           arr(3, 4), arr(3, 4, seed=1), arr(3, 4, seed=2, low=0.1, high=1), device=device)


@pytest.mark.oracle
def test_regression_mixed_dtype_vs_torch(device):
    torch = torch_or_skip()
    compare_with_torch(F.mse_loss, torch.nn.functional.mse_loss, arr(3, dtype=np.float32), arr(3, seed=1),
                       device=device)
    compare_with_torch(F.mse_loss, torch.nn.functional.mse_loss, arr(3, dtype=np.float32), np.arange(3), device=device)


def test_regression_non_contiguous(device):
    x = arr(4, 3)
    a = Tensor._make(const(x, device)._data.T, requires_grad=True)
    b = zoo.tensor(np.ascontiguousarray(x.T), requires_grad=True, device=device)
    y = const(arr(3, 4, seed=1), device=device)
    for inp in (a, b):
        F.smooth_l1_loss(inp, y, beta=0.3).backward()
    np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad))


def test_regression_errors():
    x = zoo.tensor(arr(3, 4))
    with pytest.raises(RuntimeError, match=r"mse_loss: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        F.mse_loss(x, zoo.tensor(arr(5)))
    with pytest.raises(ValueError, match=r"l1_loss: weights and input must have the same size.*\(4,\)"):
        F.l1_loss(x, x, weight=zoo.tensor(arr(4)))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0)
    with pytest.raises(TypeError, match="mse_loss: argument 'target' must be a Tensor"):
        F.mse_loss(x, 1.0)
    with pytest.raises(RuntimeError, match="mse_loss: expected a floating point input, got int64"):
        F.mse_loss(const(np.zeros(3, np.int64)), x)


# ------------------------------------------------------------------------------------------------------------
# binary cross entropy
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_grad(reduction, weighted, device):
    w = const(arr(4, seed=3, low=0.2, high=2), device) if weighted else None
    check_grad(lambda x, y: F.binary_cross_entropy(x, y, weight=w, reduction=reduction),
               arr(3, 4, low=0.1, high=0.9), arr(3, 4, seed=1, low=0, high=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_vs_torch(reduction, weighted, dtype, device):
    torch = torch_or_skip()
    w = arr(4, seed=3, low=0.2, high=2, dtype=dtype)
    x = arr(3, 4, low=0, high=1, dtype=dtype)
    x[0, :2] = [0, 1]  # the log clamp at -100
    compare_with_torch(lambda x, y: F.binary_cross_entropy(x, y, weight=const(w, device=device) if weighted else None,
                                                           reduction=reduction),
           lambda x, y: torch.nn.functional.binary_cross_entropy(x, y, weight=torch.tensor(w) if weighted else None,
                                                                 reduction=reduction),
           x, arr(3, 4, seed=1, low=0, high=1, dtype=dtype), atol=1e-5, rtol=1e-5, device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits_grad(reduction, opts, device):
    kw = {}
    if opts in ("weight", "both"):
        kw["weight"] = const(arr(3, 1, seed=3, low=0.2, high=2), device)
    if opts in ("pos_weight", "both"):
        kw["pos_weight"] = const(arr(4, seed=4, low=0.5, high=3), device)
    check_grad(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kw),
               arr(3, 4, low=-3, high=3), arr(3, 4, seed=1, low=0, high=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits_vs_torch(reduction, opts, device):
    torch = torch_or_skip()
    w, pw = arr(3, 1, seed=3, low=0.2, high=2), arr(4, seed=4, low=0.5, high=3)
    zkw, tkw = {}, {}
    if opts in ("weight", "both"):
        zkw["weight"], tkw["weight"] = const(w, device=device), torch.tensor(w)
    if opts in ("pos_weight", "both"):
        zkw["pos_weight"], tkw["pos_weight"] = const(pw, device=device), torch.tensor(pw)
    x = arr(3, 4, low=-3, high=3)
    x[0, :2] = [-200, 200]  # stable for huge logits
    compare_with_torch(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction, **zkw),
           lambda x, y: torch.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=reduction, **tkw),
           x, arr(3, 4, seed=1, low=0, high=1), device=device)


def test_bce_errors():
    x = zoo.tensor(arr(3, 4, low=0, high=1))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: expected target of the same shape as input "
                                         r"\(3, 4\), got target of shape \(4,\)"):
        F.binary_cross_entropy(x, zoo.tensor(arr(4)))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(zoo.tensor(np.array([1.5])), zoo.tensor(np.array([1.0])))
    with pytest.raises(RuntimeError, match=r"weight of shape \(5,\) does not broadcast"):
        F.binary_cross_entropy(x, x, weight=zoo.tensor(np.ones(5)))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: expected target of the same shape"):
        F.binary_cross_entropy_with_logits(x, zoo.tensor(arr(3, 1)))
    with pytest.raises(RuntimeError, match="derivative for 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=zoo.tensor(np.ones(4), requires_grad=True))


# ------------------------------------------------------------------------------------------------------------
# kl_div
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_grad(reduction, log_target, device):
    t = arr(3, 4, seed=1, low=-2, high=0) if log_target else arr(3, 4, seed=1, low=0.05, high=1)
    check_grad(lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target), arr(3, 4, low=-3, high=0),
               t, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_vs_torch(reduction, log_target, device):
    torch = torch_or_skip()
    t = arr(3, 4, seed=1, low=-2, high=0) if log_target else arr(3, 4, seed=1, low=0.05, high=1)
    with pytest.warns(UserWarning) if reduction == "mean" else contextlib.nullcontext():
        compare_with_torch(lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target),
               lambda x, y: torch.nn.functional.kl_div(x, y, reduction=reduction, log_target=log_target),
               arr(3, 4, low=-3, high=0), t, device=device)


@pytest.mark.oracle
def test_kl_div_zero_target_vs_torch(device):
    torch = torch_or_skip()
    t = arr(2, 3, seed=1, low=0, high=1)
    t[0, 0] = 0  # xlogy: contributes 0 to the loss; PyTorch's target gradient there is NaN
    z = F.kl_div(zoo.tensor(arr(2, 3), device=device), zoo.tensor(t, device=device), reduction="sum")
    r = torch.nn.functional.kl_div(torch.tensor(arr(2, 3)), torch.tensor(t), reduction="sum")
    np.testing.assert_allclose(z.item(), r.item())
    zt, tt = zoo.tensor(t, requires_grad=True, device=device), torch.tensor(t, requires_grad=True)
    F.kl_div(zoo.tensor(arr(2, 3), device=device), zt, reduction="batchmean").backward()
    torch.nn.functional.kl_div(torch.tensor(arr(2, 3)), tt, reduction="batchmean").backward()
    np.testing.assert_allclose(to_numpy(zt.grad), to_numpy(tt.grad))


def test_kl_div_errors():
    with pytest.raises(ValueError, match="kl_div: 'batch' is not a valid value for reduction"):
        F.kl_div(zoo.tensor(arr(2)), zoo.tensor(arr(2)), reduction="batch")
    with pytest.raises(RuntimeError, match="kl_div: shapes"):
        F.kl_div(zoo.tensor(arr(2, 3)), zoo.tensor(arr(2)))


# ------------------------------------------------------------------------------------------------------------
# cosine_similarity, pairwise_distance
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes,dim", [(((3, 4), (3, 4)), 1), (((3, 4), (4,)), -1), (((2, 3, 4), (1, 3, 1)), 1),
                                         (((4,), (4,)), 0)])
def test_cosine_similarity_grad(shapes, dim, device):
    check_grad(lambda a, b: F.cosine_similarity(a, b, dim=dim), arr(*shapes[0]), arr(*shapes[1], seed=1),
               device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("shapes,dim", [(((3, 4), (3, 4)), 1), (((3, 4), (4,)), -1), (((2, 3, 4), (1, 3, 1)), 1)])
def test_cosine_similarity_vs_torch(shapes, dim, device):
    torch = torch_or_skip()
    compare_with_torch(lambda a, b: F.cosine_similarity(a, b, dim=dim),
           lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=dim), arr(*shapes[0]), arr(*shapes[1], seed=1),
           device=device)


@pytest.mark.oracle
def test_cosine_similarity_small_norms_vs_torch(device):
    torch = torch_or_skip()
    a = arr(3, 4)
    a[0] = 0
    a[1] *= 1e-9  # below eps: the norm is clamped
    compare_with_torch(lambda a, b: F.cosine_similarity(a, b, eps=1e-8),
           lambda a, b: torch.nn.functional.cosine_similarity(a, b, eps=1e-8), a, arr(3, 4, seed=1), rtol=1e-4,
           device=device)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_grad(p, keepdim, device):
    check_grad(lambda a, b: F.pairwise_distance(a, b, p=p, keepdim=keepdim), arr(3, 4), arr(3, 4, seed=1),
               device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((5,), (5,))])
def test_pairwise_distance_vs_torch(p, shapes, device):
    torch = torch_or_skip()
    compare_with_torch(lambda a, b: F.pairwise_distance(a, b, p=p),
                       lambda a, b: torch.nn.functional.pairwise_distance(a, b, p=p),
           arr(*shapes[0]), arr(*shapes[1], seed=1), device=device)


def test_similarity_errors():
    with pytest.raises(RuntimeError, match=r"cosine_similarity: shapes \(3, 4\) and \(3,\) cannot be broadcast"):
        F.cosine_similarity(zoo.tensor(arr(3, 4)), zoo.tensor(arr(3)))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.cosine_similarity(zoo.tensor(arr(3, 4)), zoo.tensor(arr(3, 4)), dim=2)
    with pytest.raises(NotImplementedError, match="p = 0"):
        F.pairwise_distance(zoo.tensor(arr(3, 4)), zoo.tensor(arr(3, 4)), p=0)


# ------------------------------------------------------------------------------------------------------------
# the further losses
# ------------------------------------------------------------------------------------------------------------

def _pm1(*shape, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


FURTHER = {  # case: (function name, call, inputs, how many leading inputs get gradchecked)
    "margin_ranking": ("margin_ranking_loss", lambda f, a, b, c, red: f(a, b, c, margin=0.3, reduction=red),
                       lambda: (arr(5), arr(5, seed=1), _pm1(5, seed=2)), 2),
    "hinge_embedding": ("hinge_embedding_loss", lambda f, a, b, red: f(a, b, margin=0.5, reduction=red),
                        lambda: (arr(3, 4), _pm1(3, 4, seed=1)), 1),
    "soft_margin": ("soft_margin_loss", lambda f, a, b, red: f(a, b, reduction=red),
                    lambda: (arr(3, 4), _pm1(3, 4, seed=1)), 1),
    "multilabel_soft_margin": ("multilabel_soft_margin_loss", lambda f, a, b, red: f(a, b, reduction=red),
                               lambda: (arr(3, 4), (_pm1(3, 4, seed=1) > 0).astype(np.float64)), 1),
    "poisson_nll": ("poisson_nll_loss", lambda f, a, b, red: f(a, b, reduction=red),
                    lambda: (arr(3, 4), arr(3, 4, seed=1, low=0, high=4)), 2),
    "poisson_nll_full": ("poisson_nll_loss",
                         lambda f, a, b, red: f(a, b, log_input=False, full=True, reduction=red),
                         lambda: (arr(3, 4, low=0.2, high=3), arr(3, 4, seed=1, low=0, high=4)), 2),
    "gaussian_nll": ("gaussian_nll_loss", lambda f, a, b, c, red: f(a, b, c, full=True, reduction=red),
                     lambda: (arr(3, 4), arr(3, 4, seed=1), arr(3, 1, seed=2, low=0.1, high=1)), 3),
    "gaussian_nll_homoscedastic": ("gaussian_nll_loss", lambda f, a, b, c, red: f(a, b, c, reduction=red),
                                   lambda: (arr(3, 4), arr(3, 4, seed=1), arr(3, seed=2, low=0.1, high=1)), 3),
    "cosine_embedding": ("cosine_embedding_loss", lambda f, a, b, c, red: f(a, b, c, margin=0.1, reduction=red),
                         lambda: (arr(4, 3), arr(4, 3, seed=1), _pm1(4, seed=2)), 2),
    "triplet_margin": ("triplet_margin_loss", lambda f, a, b, c, red: f(a, b, c, margin=1.0, reduction=red),
                       lambda: (arr(4, 3), arr(4, 3, seed=1), arr(4, 3, seed=2)), 3),
    "triplet_margin_swap_p1": ("triplet_margin_loss",
                               lambda f, a, b, c, red: f(a, b, c, margin=0.5, p=1, swap=True, reduction=red),
                               lambda: (arr(4, 3), arr(4, 3, seed=1), arr(4, 3, seed=2)), 3),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(FURTHER))
def test_further_losses_grad(name, reduction, device):
    fname, call, make, n_grad = FURTHER[name]
    arrays = make()
    grads, consts = arrays[:n_grad], [const(a, device=device) for a in arrays[n_grad:]]
    check_grad(lambda *xs: call(getattr(F, fname), *xs, *consts, reduction), *grads, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(FURTHER))
def test_further_losses_vs_torch(name, reduction, device):
    torch = torch_or_skip()
    fname, call, make, n_grad = FURTHER[name]
    compare_with_torch(lambda *xs: call(getattr(F, fname), *xs, reduction),
           lambda *xs: call(getattr(torch.nn.functional, fname), *xs, reduction), *make(), n_grad=n_grad, device=device)


def test_further_losses_errors():
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var of shape \(2,\) is of incorrect size"):
        F.gaussian_nll_loss(zoo.tensor(arr(3, 4)), zoo.tensor(arr(3, 4)), zoo.tensor(arr(2, low=0.1)))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(zoo.tensor(arr(3, 4)), zoo.tensor(arr(3, 4)), zoo.tensor(-np.ones((3, 4))))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss: expected target of shape"):
        F.cosine_embedding_loss(zoo.tensor(arr(4, 3)), zoo.tensor(arr(4, 3)), zoo.tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="margin_ranking_loss: all input tensors should have the same number"):
        F.margin_ranking_loss(zoo.tensor(arr(4)), zoo.tensor(arr(4)), zoo.tensor(np.ones((1, 4))))
    with pytest.raises(RuntimeError, match="triplet_margin_loss: expected anchor"):
        F.triplet_margin_loss(zoo.tensor(arr(4, 3)), zoo.tensor(arr(4, 3)), zoo.tensor(arr(3)))
