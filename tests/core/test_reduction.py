"""Reductions: gradchecks for every op and option, PyTorch oracles (forward + backward), dtypes, errors."""
import math

import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, swap_last as T, torch_or_skip, to_numpy

import zoo


# ----------------------------------------------------------------------------------------------------------------
# sum / mean
# ----------------------------------------------------------------------------------------------------------------

DIMS = [None, 0, -1, (0, 2), [1], (), (-1, 0)]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_grad(op, dim, keepdim, device):
    f = getattr(zoo, op)
    if dim is None:
        check_grad(lambda x: f(x), arr(2, 3, 2), device=device)
    else:
        check_grad(lambda x: f(x, dim, keepdim), arr(2, 3, 2), device=device)


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_noncontiguous_and_0d(op, device):
    f = getattr(zoo, op)
    check_grad(lambda x: f(T(x), 0), arr(3, 4), device=device)
    check_grad(lambda x: f(T(x), 1, True), arr(3, 4), device=device)
    check_grad(lambda x: f(x), np.array(2.5), device=device)
    check_grad(lambda x: f(x, 0), np.array(2.5), device=device)
    check_grad(lambda x: f(x, -1, True), np.array(2.5), device=device)


def test_sum_empty(device):
    check_grad(lambda x: zoo.sum(x, 0), np.zeros((0, 3)), device=device)
    assert zoo.zeros(0, device=device).sum().item() == 0
    assert zoo.zeros(0, 3, device=device).sum(0).tolist() == [0, 0, 0]
    m = zoo.zeros(0, 3, device=device).mean(0)
    assert m.shape == (3,) and np.isnan(to_numpy(m)).all()
    assert math.isnan(zoo.zeros(0, device=device).mean().item())
    assert zoo.zeros(0, device=device).mean(dtype=zoo.float64).dtype is zoo.float64


@pytest.mark.oracle
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean_vs_torch(op, dim, keepdim, device):
    torch = torch_or_skip()
    x = arr(2, 3, 4, dtype=np.float32)
    if dim is None:
        compare_with_torch(lambda a: getattr(zoo, op)(a), lambda a: getattr(torch, op)(a), x, device=device)
    else:
        compare_with_torch(lambda a: getattr(a, op)(dim, keepdim), lambda a: getattr(a, op)(dim, keepdim), x,
                           device=device)


@pytest.mark.oracle
def test_sum_mean_dtype_arg_vs_torch(device):
    torch = torch_or_skip()
    x = arr(3, 4, dtype=np.float32)
    compare_with_torch(lambda a: zoo.sum(a, 1, dtype=zoo.float64), lambda a: torch.sum(a, 1, dtype=torch.float64), x,
                       device=device)
    compare_with_torch(lambda a: a.mean(0, True, dtype=zoo.float64), lambda a: a.mean(0, True, dtype=torch.float64),
                       x, device=device)
    i = np.arange(12).reshape(3, 4).astype(np.int32)
    compare_with_torch(lambda a: zoo.mean(a, 1, dtype=zoo.float32), lambda a: torch.mean(a, 1, dtype=torch.float32),
                       i, device=device)


@pytest.mark.parametrize("np_dtype", [np.bool_, np.uint8, np.int8, np.int32, np.int64])
def test_integer_sum_is_int64(np_dtype, device):
    x = zoo.tensor(np.array([[1, 0, 1], [1, 1, 0]]).astype(np_dtype), device=device)
    assert x.sum().dtype is zoo.int64 and x.sum().item() == 4
    assert x.sum(0).dtype is zoo.int64 and x.sum(0).tolist() == [2, 1, 1]
    assert x.prod(1).dtype is zoo.int64
    assert x.cumsum(1).dtype is zoo.int64
    assert x.sum(dtype=zoo.int32).dtype is zoo.int32


def test_dtype_results(device):
    assert zoo.ones(3, dtype=zoo.float16, device=device).sum().dtype is zoo.float16
    assert zoo.ones(3, dtype=zoo.float32, device=device).sum(dtype=zoo.float64).dtype is zoo.float64
    assert zoo.ones(3, device=device).mean().dtype is zoo.float32
    assert zoo.ones(3, dtype=zoo.float64, device=device).var().dtype is zoo.float64
    assert zoo.arange(4, device=device).mean(dtype=zoo.float64).item() == 1.5
    x = zoo.ones(3, requires_grad=True, device=device)
    s = x.sum(dtype=zoo.int64)  # a non-float result records no graph
    assert s.dtype is zoo.int64 and not s.requires_grad
    assert zoo.ones(3, dtype=zoo.int32, device=device).logsumexp(0).dtype is zoo.float32
    assert zoo.randn(3, 4, device=device).argmax().dtype is zoo.int64
    assert zoo.randn(3, 4, device=device).max(1).indices.dtype is zoo.int64


def test_float16_sum_accumulates_in_float32(device):
    x = zoo.ones(4096, dtype=zoo.float16, device=device)
    assert x.sum().item() == 4096.0


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match="mean.*could not infer output dtype.*int64"):
        zoo.arange(4).mean()
    with pytest.raises(RuntimeError, match="mean"):
        zoo.ones(3).mean(dtype=zoo.int64)


# ----------------------------------------------------------------------------------------------------------------
# prod
# ----------------------------------------------------------------------------------------------------------------


def _with_zeros(*shape, zeros=(), seed=0):
    a = arr(*shape, seed=seed, low=0.5, high=1.5) * np.where(arr(*shape, seed=seed + 1) > 0, 1, -1)
    for z in zeros:
        a[z] = 0
    return a


@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (0, 2)), ((1, 0), (0, 3))])
def test_prod_grad(zeros, device):
    a = _with_zeros(2, 4, zeros=zeros)
    check_grad(lambda x: zoo.prod(x), a, device=device)
    check_grad(lambda x: zoo.prod(x, 1), a, device=device)
    check_grad(lambda x: zoo.prod(x, 0, True), a, device=device)
    check_grad(lambda x: x.prod(-1, keepdim=True), a, device=device)


def test_prod_noncontiguous_0d_empty(device):
    check_grad(lambda x: zoo.prod(T(x), 1), _with_zeros(3, 4, zeros=((1, 2),)), device=device)
    check_grad(lambda x: zoo.prod(x), np.array(1.5), device=device)
    check_grad(lambda x: zoo.prod(x, 0), np.array(1.5), device=device)
    check_grad(lambda x: zoo.prod(x, 0), np.zeros((0, 2)), device=device)
    assert zoo.zeros(0, 2, device=device).prod(0).tolist() == [1.0, 1.0]


@pytest.mark.oracle
@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (0, 2))])
def test_prod_vs_torch(zeros, device):
    torch = torch_or_skip()
    a = _with_zeros(2, 4, zeros=zeros).astype(np.float32)
    compare_with_torch(lambda x: zoo.prod(x), lambda x: torch.prod(x), a, device=device)
    compare_with_torch(lambda x: zoo.prod(x, 1), lambda x: torch.prod(x, 1), a, device=device)
    compare_with_torch(lambda x: x.prod(0, True), lambda x: x.prod(0, True), a, device=device)
    compare_with_torch(lambda x: x.prod(1, dtype=zoo.float64), lambda x: x.prod(1, dtype=torch.float64), a,
                       device=device)


def test_prod_dim_must_be_int():
    with pytest.raises(TypeError, match="prod"):
        zoo.ones(2, 3).prod((0, 1))


# ----------------------------------------------------------------------------------------------------------------
# var / std
# ----------------------------------------------------------------------------------------------------------------

VAR_CASES = [
    dict(), dict(dim=0), dict(dim=(0, 2), keepdim=True), dict(dim=-1, correction=0), dict(dim=1, correction=2),
    dict(dim=1, unbiased=False), dict(dim=[0, 1], unbiased=True, keepdim=True), dict(dim=1, correction=0.5),
]


@pytest.mark.parametrize("kw", VAR_CASES)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_grad(op, kw, device):
    check_grad(lambda x: getattr(zoo, op)(x, **kw), arr(3, 4, 2), device=device)


@pytest.mark.parametrize("op", ["var_mean", "std_mean"])
def test_var_std_mean_grad(op, device):
    check_grad(lambda x: getattr(zoo, op)(x, 1, keepdim=True), arr(3, 4), device=device)
    check_grad(lambda x: getattr(zoo, op)(x, correction=0), arr(3, 4), device=device)


def test_var_std_noncontiguous(device):
    check_grad(lambda x: zoo.var(T(x), 0), arr(3, 4), device=device)
    check_grad(lambda x: zoo.std(T(x), 1, keepdim=True), arr(3, 4), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("kw", VAR_CASES)
@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
def test_var_std_vs_torch(op, kw, device):
    torch = torch_or_skip()
    compare_with_torch(lambda x: getattr(zoo, op)(x, **kw), lambda x: getattr(torch, op)(x, **kw),
                       arr(3, 4, 2, dtype=np.float32), device=device, atol=1e-5)


@pytest.mark.oracle
def test_var_positional_forms_vs_torch(device):
    torch = torch_or_skip()
    a = arr(3, 4, dtype=np.float32)
    compare_with_torch(lambda x: x.var(0, False), lambda x: x.var(0, False), a, device=device)
    compare_with_torch(lambda x: x.std(False), lambda x: x.std(False), a, device=device)
    compare_with_torch(lambda x: zoo.std(x, 1, True, True), lambda x: torch.std(x, 1, True, True), a, device=device)


@pytest.mark.oracle
def test_std_of_constant_has_zero_grad(device):
    torch_or_skip()
    compare_with_torch(lambda x: x.std(1), lambda x: x.std(1), np.ones((2, 3), np.float32), device=device)
    compare_with_torch(lambda x: x.std(), lambda x: x.std(), np.full(4, 2.0, np.float32), device=device)


def test_var_dof_warning_and_nan(device):
    with pytest.warns(UserWarning, match="degrees of freedom"):
        v = zoo.tensor([1.0], device=device).var()
    assert math.isnan(v.item())
    with pytest.warns(UserWarning):
        assert math.isnan(zoo.zeros(0, device=device).var().item())


def test_var_errors():
    with pytest.raises(RuntimeError, match="var.*floating point"):
        zoo.arange(4).var()
    with pytest.raises(TypeError, match="unbiased.*correction"):
        zoo.ones(3).var(0, unbiased=False, correction=0)


# ----------------------------------------------------------------------------------------------------------------
# max / min / amax / amin / argmax / argmin / aminmax
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_grad(op, device):
    f = getattr(zoo, op)
    a = arr(3, 4, 2)
    check_grad(lambda x: f(x), a, device=device)
    check_grad(lambda x: f(x, 1).values, a, device=device)
    check_grad(lambda x: f(x, -1, True)[0], a, device=device)
    check_grad(lambda x: f(T(x), 0).values, arr(3, 4), device=device)
    check_grad(lambda x: f(x, 0).values, np.array(1.5), device=device)


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_grad(op, device):
    f = getattr(zoo, op)
    check_grad(lambda x: f(x), arr(3, 4), device=device)
    check_grad(lambda x: f(x, (0, 2), True), arr(3, 4, 2), device=device)
    check_grad(lambda x: f(T(x), 1), arr(3, 4), device=device)
    check_grad(lambda x: f(x, 0), np.array(0.5), device=device)


def test_amax_ties_share_gradient(device):
    x = zoo.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True, device=device)
    zoo.amax(x, 1).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = zoo.tensor([1.0, 3.0, 3.0], requires_grad=True, device=device)
    y.max().backward()
    np.testing.assert_allclose(to_numpy(y.grad), [0, 0.5, 0.5])
    z = zoo.tensor([1.0, 3.0, 3.0], requires_grad=True, device=device)
    z.max(0).values.backward()  # with dim: the whole gradient goes to the returned index
    np.testing.assert_allclose(to_numpy(z.grad), [0, 1, 0])


@pytest.mark.oracle
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_dim_vs_torch(op, dim, keepdim, device):
    torch = torch_or_skip()
    compare_with_torch(lambda x: getattr(x, op)(dim, keepdim), lambda x: getattr(x, op)(dim, keepdim),
                       arr(3, 4, 5, dtype=np.float32), device=device)
    compare_with_torch(lambda x: getattr(zoo, op)(x, dim=dim), lambda x: getattr(torch, op)(x, dim=dim),
                       arr(3, 4, 5, dtype=np.float32), device=device)


@pytest.mark.oracle
def test_max_min_ties_and_full_vs_torch(device):
    torch = torch_or_skip()
    a = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [5, 1, 5, 5]], np.float32)
    for op in ("max", "min", "amax", "amin"):
        compare_with_torch(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), a, device=device)
    for op in ("amax", "amin"):
        compare_with_torch(lambda x: getattr(zoo, op)(x, 1), lambda x: getattr(torch, op)(x, 1), a, device=device)
        compare_with_torch(lambda x: getattr(zoo, op)(x, (0, 1), True), lambda x: getattr(torch, op)(x, (0, 1), True),
                           a, device=device)
    compare_with_torch(lambda x: x.max(1), lambda x: x.max(1), a, device=device)
    compare_with_torch(lambda x: x.min(0), lambda x: x.min(0), a, device=device)


@pytest.mark.oracle
def test_max_min_other_tensor_vs_torch(device):
    torch = torch_or_skip()
    a, b = arr(3, 4, dtype=np.float32), arr(4, seed=1, dtype=np.float32)
    compare_with_torch(lambda x, y: zoo.max(x, y), lambda x, y: torch.max(x, y), a, b, device=device)
    compare_with_torch(lambda x, y: x.min(y), lambda x, y: x.min(y), a, b, device=device)


def test_max_named_tuple(device):
    r = zoo.tensor([[1.0, 5.0], [7.0, 2.0]], device=device).max(1)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
    values, indices = zoo.min(zoo.tensor([[1.0, 5.0], [7.0, 2.0]], device=device), 0)
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [0, 1]
    assert type(r).__name__ == "max"


def test_max_nan_propagates(device):
    x = zoo.tensor([1.0, float("nan"), 3.0], device=device)
    assert math.isnan(x.max().item())
    r = x.max(0)
    assert math.isnan(r.values.item()) and r.indices.item() == 1


def test_max_integer_tensors(device):
    x = zoo.tensor([[3, 1, 2], [0, 5, 5]], device=device)
    assert x.max().item() == 5 and x.max().dtype is zoo.int64
    r = x.max(1)
    assert r.values.tolist() == [3, 5] and r.indices.tolist() == [0, 1]
    assert x.amin(0).tolist() == [0, 1, 2]


@pytest.mark.oracle
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin_vs_torch(op, device):
    torch = torch_or_skip()
    a = arr(3, 4, 5, dtype=np.float32)
    for kw in (dict(), dict(keepdim=True), dict(dim=1), dict(dim=-1, keepdim=True), dict(dim=0)):
        compare_with_torch(lambda x: getattr(zoo, op)(x, **kw), lambda x: getattr(torch, op)(x, **kw), a, grad=False,
                           device=device)
    compare_with_torch(lambda x: getattr(x, op)(0), lambda x: getattr(x, op)(0), np.array(2.0, np.float32),
                       grad=False, device=device)
    ties = np.array([[1, 3, 3], [2, 2, 2]], np.float32)
    compare_with_torch(lambda x: getattr(x, op)(1), lambda x: getattr(x, op)(1), ties, grad=False, device=device)


@pytest.mark.oracle
def test_aminmax_vs_torch(device):
    torch = torch_or_skip()
    a = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [5, 1, 5, 5]], np.float32)
    compare_with_torch(lambda x: zoo.aminmax(x), lambda x: torch.aminmax(x), a, device=device)
    compare_with_torch(lambda x: x.aminmax(dim=1, keepdim=True), lambda x: x.aminmax(dim=1, keepdim=True), a,
                       device=device)
    r = zoo.aminmax(zoo.tensor(a, device=device), dim=0)
    assert r.min.tolist() == [1, 1, 2, 0] and r.max.tolist() == [5, 3, 5, 5]


def test_aminmax_grad(device):
    check_grad(lambda x: zoo.aminmax(x, dim=1), arr(3, 4), device=device)


def test_empty_max_min_errors():
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified"):
        zoo.zeros(0).max()
    with pytest.raises(RuntimeError, match=r"min\(\)"):
        zoo.zeros(2, 0).min()
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero size"):
        zoo.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match=r"amax\(\).*dim 1"):
        zoo.zeros(3, 0).amax(1)
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        zoo.zeros(0).argmax()
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 0"):
        zoo.zeros(0, 3).argmin(0)
    with pytest.raises(RuntimeError, match="aminmax"):
        zoo.zeros(0).aminmax()
    # reducing a non-empty dim of an empty tensor is fine
    r = zoo.zeros(0, 3).max(1)
    assert r.values.shape == (0,) and r.indices.shape == (0,)
    assert zoo.zeros(0, 3).amax(1).shape == (0,)


# ----------------------------------------------------------------------------------------------------------------
# logsumexp
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), ((0, 1), False), (-1, False)])
def test_logsumexp_grad(dim, keepdim, device):
    check_grad(lambda x: zoo.logsumexp(x, dim, keepdim), arr(3, 4), device=device)
    check_grad(lambda x: zoo.logsumexp(T(x), dim, keepdim), arr(4, 3), device=device)


@pytest.mark.oracle
def test_logsumexp_vs_torch_and_stable(device):
    torch = torch_or_skip()
    a = arr(3, 4, dtype=np.float32) * 1000  # naive exp would overflow
    compare_with_torch(lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), a, device=device, rtol=1e-5, atol=1e-3)
    compare_with_torch(lambda x: zoo.logsumexp(x, (0, 1), True), lambda x: torch.logsumexp(x, (0, 1), True), a,
                       device=device, atol=1e-3)
    b = np.array([[-np.inf, -np.inf], [0.0, -np.inf]], np.float32)
    compare_with_torch(lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), b, grad=False, device=device)
    compare_with_torch(lambda x: zoo.logsumexp(x, 0), lambda x: torch.logsumexp(x, 0), np.zeros((0, 2), np.float32),
                       device=device, grad=False)


def test_logsumexp_empty_and_int(device):
    check_grad(lambda x: zoo.logsumexp(x, 0), np.zeros((0, 2)), device=device)
    assert zoo.logsumexp(zoo.zeros(0, 2, device=device), 0).tolist() == [-math.inf, -math.inf]
    np.testing.assert_allclose(zoo.logsumexp(zoo.tensor([0, 0], device=device), 0).item(), math.log(2), rtol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# cumsum / cumprod
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_grad(dim, device):
    check_grad(lambda x: zoo.cumsum(x, dim), arr(3, 4), device=device)
    check_grad(lambda x: zoo.cumsum(T(x), dim), arr(4, 3), device=device)


@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (0, 3)), ((1, 0), (2, 2), (2, 3))])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_grad(zeros, dim, device):
    check_grad(lambda x: zoo.cumprod(x, dim), _with_zeros(3, 4, zeros=zeros), device=device)


def test_cum_0d_and_empty(device):
    for f in (zoo.cumsum, zoo.cumprod):
        check_grad(lambda x: f(x, 0), np.array(1.5), device=device)
        check_grad(lambda x: f(x, 0), np.zeros((0, 3)), device=device)
        check_grad(lambda x: f(T(x), 1), _with_zeros(4, 3, zeros=((1, 1),)), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (0, 3))])
def test_cumsum_cumprod_vs_torch(zeros, device):
    torch = torch_or_skip()
    a = _with_zeros(3, 4, zeros=zeros).astype(np.float32)
    for op in ("cumsum", "cumprod"):
        compare_with_torch(lambda x: getattr(zoo, op)(x, 1), lambda x: getattr(torch, op)(x, 1), a, device=device)
        compare_with_torch(lambda x: getattr(x, op)(0, dtype=zoo.float64),
                           lambda x: getattr(x, op)(0, dtype=torch.float64), a, device=device)
    i = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    for op in ("cumsum", "cumprod"):
        compare_with_torch(lambda x: getattr(x, op)(1), lambda x: getattr(x, op)(1), i, device=device)
    compare_with_torch(lambda x: x.cumsum(0), lambda x: x.cumsum(0), np.array([True, False, True]), device=device)


def test_cumsum_inplace(device):
    x = zoo.tensor([1.0, 2.0, 3.0], device=device)
    x.cumsum_(0)
    assert x.tolist() == [1.0, 3.0, 6.0]


# ----------------------------------------------------------------------------------------------------------------
# norm
# ----------------------------------------------------------------------------------------------------------------

NORM_CASES = [
    dict(), dict(p=2), dict(p="fro", dim=(0, 1)), dict(p=1), dict(p=3), dict(p=0.5), dict(p=float("inf")),
    dict(p=-float("inf")), dict(p=2, dim=1, keepdim=True), dict(p=1, dim=0), dict(p=3, dim=-1),
    dict(p=float("inf"), dim=1),
]


@pytest.mark.parametrize("kw", NORM_CASES)
def test_norm_grad(kw, device):
    a = arr(3, 4, low=0.1, high=1.0) * np.where(arr(3, 4, seed=3) > 0, 1, -1)  # away from 0 and from ties
    check_grad(lambda x: zoo.norm(x, **kw), a, device=device)
    check_grad(lambda x: T(x).norm(**kw), a.T.copy(), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("kw", NORM_CASES + [dict(p=0), dict(p=0, dim=1)])
def test_norm_vs_torch(kw, device):
    torch = torch_or_skip()
    a = arr(3, 4, dtype=np.float32)
    compare_with_torch(lambda x: zoo.norm(x, **kw), lambda x: torch.norm(x, **kw), a, device=device, atol=1e-5)


@pytest.mark.oracle
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf")])
def test_norm_at_zero_vs_torch(p, device):
    torch_or_skip()
    z = np.array([[0.0, 0.0, 0.0], [0.0, 2.0, -2.0]], np.float32)
    compare_with_torch(lambda x: x.norm(p, dim=1), lambda x: x.norm(p, dim=1), z, device=device)
    compare_with_torch(lambda x: x.norm(p), lambda x: x.norm(p), z, device=device)


def test_norm_p2_zero_gradient_is_zero(device):
    x = zoo.zeros(3, requires_grad=True, device=device)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.oracle
def test_norm_dtype_vs_torch(device):
    torch = torch_or_skip()
    compare_with_torch(lambda x: zoo.norm(x, 2, 0, True, dtype=zoo.float64),
                       lambda x: torch.norm(x, 2, 0, True, dtype=torch.float64), arr(3, 4, dtype=np.float32),
                       device=device)


def test_norm_errors():
    with pytest.raises(NotImplementedError, match="nuc"):
        zoo.ones(2, 2).norm(p="nuc")
    with pytest.raises(RuntimeError, match="norm.*floating point.*int64"):
        zoo.arange(3).norm()
    with pytest.raises(RuntimeError, match="norm.*unknown"):
        zoo.ones(2).norm(p="abc")
    with pytest.raises(RuntimeError, match="norm.*empty"):
        zoo.zeros(0).norm(p=float("inf"))


# ----------------------------------------------------------------------------------------------------------------
# all / any / count_nonzero
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("np_dtype", [np.bool_, np.uint8, np.int64, np.float32])
def test_all_any_vs_torch(op, np_dtype, device):
    torch = torch_or_skip()
    a = np.array([[1, 0, 2], [3, 4, 5]]).astype(np_dtype)
    for kw in (dict(), dict(dim=1), dict(dim=0, keepdim=True), dict(dim=(0, 1))):
        compare_with_torch(lambda x: getattr(zoo, op)(x, **kw), lambda x: getattr(torch, op)(x, **kw), a,
                           grad=False, device=device)
    compare_with_torch(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), np.zeros(0, np.float32), grad=False,
                       device=device)


@pytest.mark.oracle
def test_count_nonzero_vs_torch(device):
    torch = torch_or_skip()
    a = np.array([[1, 0, 2], [0, 0, 5]], np.float32)
    for kw in (dict(), dict(dim=1), dict(dim=(0, 1)), dict(dim=-2)):
        compare_with_torch(lambda x: zoo.count_nonzero(x, **kw), lambda x: torch.count_nonzero(x, **kw), a,
                           grad=False, device=device)
    assert zoo.count_nonzero(zoo.zeros(0)).item() == 0


# ----------------------------------------------------------------------------------------------------------------
# dims and bad arguments
# ----------------------------------------------------------------------------------------------------------------


def test_bad_dims():
    x = zoo.ones(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.max(-3)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, 0))
    with pytest.raises(IndexError):
        x.cumsum(5)
    with pytest.raises(TypeError, match="sum"):
        zoo.sum([1, 2])


def test_methods_installed():
    x = zoo.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert x.sum(1).tolist() == [-1.0, 7.0]
    assert x.max(zoo.zeros(2)).tolist() == [[1.0, 0.0], [3.0, 4.0]]
    assert x.abs().amax().item() == 4.0
    assert x.argmin().item() == 1
    assert x.all().item() and x.any(1).tolist() == [True, True]
    assert x.count_nonzero().item() == 4
