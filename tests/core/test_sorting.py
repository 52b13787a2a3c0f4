import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch

import zoo


def distinct(*shape, seed=0):
    """Float32-exact distinct values (a shuffled range), so sort/topk indices are unique."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).reshape(shape) - n / 2).astype(np.float64) / 4


# ----------------------------------------------------------------------------------------------------------------
# gradchecks
# ----------------------------------------------------------------------------------------------------------------

GRAD = [
    ("sort", lambda x: x.sort().values, (3, 4)),
    ("sort_dim0_desc", lambda x: zoo.sort(x, 0, descending=True)[0], (3, 4)),
    ("sort_noncontig", lambda x: x.t().sort(-1).values, (3, 4)),
    ("sort_0d", lambda x: x.sort().values, ()),
    ("sort_empty", lambda x: x.sort(0).values, (0, 3)),
    ("msort", lambda x: zoo.msort(x), (3, 2)),
    ("topk", lambda x: x.topk(2).values, (3, 5)),
    ("topk_smallest_dim0", lambda x: zoo.topk(x, 2, dim=0, largest=False).values, (4, 3)),
    ("topk_all", lambda x: x.topk(4, -1).values, (2, 4)),
    ("topk_zero", lambda x: x.topk(0).values, (2, 4)),
    ("topk_noncontig", lambda x: x.t().topk(1, 0)[0], (3, 4)),
    ("topk_0d", lambda x: x.topk(1).values, ()),
    ("kthvalue", lambda x: x.kthvalue(2).values, (3, 4)),
    ("kthvalue_keepdim", lambda x: zoo.kthvalue(x, 3, 0, keepdim=True).values, (3, 4)),
    ("kthvalue_0d", lambda x: x.kthvalue(1).values, ()),
]


@pytest.mark.parametrize("name,fn,shape", GRAD, ids=[c[0] for c in GRAD])
def test_grad(name, fn, shape, device):
    check_grad(fn, distinct(*shape) if shape else arr(), device=device)


# ----------------------------------------------------------------------------------------------------------------
# oracle tests (values, indices and gradients) with distinct values
# ----------------------------------------------------------------------------------------------------------------

ORACLE = [
    ("sort", lambda M: lambda x: M.sort(x), (3, 5)),
    ("sort_desc_dim0", lambda M: lambda x: x.sort(0, descending=True), (4, 3)),
    ("sort_3d", lambda M: lambda x: x.sort(dim=1), (2, 4, 3)),
    ("argsort", lambda M: lambda x: M.argsort(x, -1, descending=True), (3, 5)),
    ("msort", lambda M: lambda x: x.msort(), (4, 2)),
    ("topk", lambda M: lambda x: x.topk(3), (4, 6)),
    ("topk_smallest", lambda M: lambda x: M.topk(x, 2, dim=0, largest=False), (5, 3)),
    ("topk_k_eq_n", lambda M: lambda x: x.topk(4, 1), (2, 4)),
    ("topk_3d", lambda M: lambda x: x.topk(2, 1), (2, 5, 3)),
    ("kthvalue", lambda M: lambda x: x.kthvalue(2), (3, 5)),
    ("kthvalue_dim0_keepdim", lambda M: lambda x: M.kthvalue(x, 4, 0, True), (5, 3)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name,build,shape", ORACLE, ids=[c[0] for c in ORACLE])
def test_vs_torch(name, build, shape, device):
    torch = pytest.importorskip("torch")
    compare_with_torch(build(zoo), build(torch), distinct(*shape).astype(np.float32), device=device)


@pytest.mark.oracle
def test_stable_ties_and_nan_vs_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[2, 1, 2, 0, 1, 2], [np.nan, 1, 3, np.nan, -1, 1]], dtype=np.float32)
    for desc in (False, True):
        compare_with_torch(lambda x: zoo.sort(x, descending=desc, stable=True),
                           lambda x: torch.sort(x, descending=desc, stable=True), a[:1].copy(), device=device)
        compare_with_torch(lambda x: zoo.sort(x, descending=desc, stable=True),
                           lambda x: torch.sort(x, descending=desc, stable=True), a, grad=False, device=device)
        compare_with_torch(lambda x: x.argsort(descending=desc, stable=True),
                           lambda x: x.argsort(descending=desc, stable=True), a, grad=False, device=device)
    # NaN counts as the largest value for topk too
    compare_with_torch(lambda x: x.topk(2), lambda x: x.topk(2), a[1:].copy(), grad=False, device=device)


def test_named_tuples_and_dtypes(device):
    x = zoo.tensor([[3.0, 1.0, 2.0]], device=device)
    values, indices = x.sort()
    res = x.sort(descending=True)
    assert res.values.tolist() == [[3, 2, 1]] and res.indices.tolist() == [[0, 2, 1]]
    assert values.tolist() == [[1, 2, 3]] and indices.dtype == zoo.int64
    assert type(res).__name__ == "sort" and type(x.topk(1)).__name__ == "topk"
    assert x.kthvalue(1).indices.tolist() == [1]
    assert zoo.tensor([3, 1, 2], device=device).sort().values.dtype == zoo.int64
    assert zoo.tensor([True, False], device=device).sort().values.tolist() == [False, True]
    assert x.argsort().tolist() == [[1, 2, 0]] and zoo.argsort(zoo.tensor(1.0, device=device)).tolist() == 0


# ----------------------------------------------------------------------------------------------------------------
# unique, searchsorted, bucketize
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("kw", [{}, dict(return_inverse=True), dict(return_counts=True),
                                dict(return_inverse=True, return_counts=True), dict(dim=0, return_inverse=True),
                                dict(dim=1, return_counts=True, return_inverse=True)])
def test_unique_vs_torch(kw, device):
    torch = pytest.importorskip("torch")
    a = np.array([[3, 1, 3], [2, 1, 2], [3, 1, 3]], dtype=np.int64)
    compare_with_torch(lambda x: zoo.unique(x, **kw), lambda x: torch.unique(x, **kw), a, grad=False, device=device)
    compare_with_torch(lambda x: x.unique(sorted=True, **kw), lambda x: x.unique(sorted=True, **kw),
                       a.astype(np.float32), grad=False, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_vs_torch(right, device):
    torch = pytest.importorskip("torch")
    seq1 = np.array([1, 3, 3, 5, 7], dtype=np.float32)
    seqn = np.array([[1, 3, 3, 5], [0, 2, 4, 4], [-1, -1, 0, 8]], dtype=np.float32)
    vals = np.array([[3, 0, 8, 4, 5], [4, 2, 2, -2, 9], [-1, 0, 1, 8, 8]], dtype=np.float32)
    for seq in (seq1, seqn):
        compare_with_torch(lambda s, v: zoo.searchsorted(s, v, right=right),
                           lambda s, v: torch.searchsorted(s, v, right=right), seq, vals, grad=False, device=device)
    side = "right" if right else "left"
    compare_with_torch(lambda s, v: zoo.searchsorted(s, v, side=side, out_int32=True),
                       lambda s, v: torch.searchsorted(s, v, side=side, out_int32=True), seqn, vals, grad=False,
                       device=device)
    compare_with_torch(lambda s: zoo.searchsorted(s, 3.0, right=right),
                       lambda s: torch.searchsorted(s, 3.0, right=right),
                       seq1, grad=False, device=device)
    compare_with_torch(lambda v, b: zoo.bucketize(v, b, right=right), lambda v, b: torch.bucketize(v, b, right=right),
                       vals, seq1, grad=False, device=device)
    perm = np.array([3, 0, 4, 1, 2])
    compare_with_torch(lambda s, p: zoo.searchsorted(s, zoo.tensor(vals, device=device), sorter=p, right=right),
                       lambda s, p: torch.searchsorted(s, torch.tensor(vals), sorter=p, right=right),
                       seq1[perm], np.argsort(perm), grad=False, device=device)


def test_multinomial_method(device):
    zoo.manual_seed(0)
    s = zoo.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], device=device).multinomial(2, replacement=True)
    assert s.tolist() == [[1, 1], [0, 0]]


@pytest.mark.parametrize("fn,match", [
    (lambda x: x.topk(5), "selected index k out of range"),
    (lambda x: x.topk(-1), "selected index k out of range"),
    (lambda x: x.kthvalue(0), "k=0 out of range"),
    (lambda x: x.kthvalue(5, 1), "k=5 out of range for dimension 1 of size 4"),
    (lambda x: x.sort(2), "Dimension out of range"),
    (lambda x: zoo.searchsorted(x, zoo.zeros(2, 2)), "first N-1 dimensions"),
    (lambda x: zoo.searchsorted(x, 1.0), "scalar only when boundaries tensor dimension is 1"),
    (lambda x: zoo.searchsorted(x[0], x, side="up"), "side can only be 'left' or 'right'"),
    (lambda x: zoo.searchsorted(x[0], x, side="left", right=True), "opposites"),
    (lambda x: zoo.bucketize(x, x), "boundaries tensor must be 1 dimension"),
])
def test_errors(fn, match):
    with pytest.raises((RuntimeError, IndexError), match=match):
        fn(zoo.zeros(3, 4))
