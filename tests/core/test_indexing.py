import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, leaf, to_numpy

import zoo
from zoo.nn.functional import one_hot

# ----------------------------------------------------------------------------------------------------------------
# __getitem__: gradchecks (duplicates must accumulate) and results vs PyTorch
# ----------------------------------------------------------------------------------------------------------------

GETITEM = [
    ("int", lambda M: (1,)),
    ("neg_int", lambda M: (-1, 2)),
    ("ints_0d", lambda M: (0, 1, 2)),
    ("slice", lambda M: (slice(1, 3),)),
    ("slice_step", lambda M: (slice(None), slice(None, None, 2))),
    ("ellipsis", lambda M: (Ellipsis, 1)),
    ("none", lambda M: (None, slice(None), 1, None)),
    ("ellipsis_none", lambda M: (1, Ellipsis, None)),
    ("list", lambda M: ([0, 2, 2],)),
    ("list_dup_2d", lambda M: ([0, 0], [1, 1])),
    ("tensor_2d", lambda M: (M.tensor([[0, 1], [1, 1]]),)),
    ("adv_after_slice", lambda M: (slice(None), [3, 0, 3])),
    ("adv_separated", lambda M: ([0, 1], slice(None), [4, 4])),
    ("int_then_adv", lambda M: (slice(None), 0, [0, 1])),
    ("adv_int_adv", lambda M: ([0, 2], 1, [1, 1])),
    ("adv_slice_step", lambda M: ([2, 0], slice(None, None, 2), M.tensor([1, -1]))),
    ("adv_none", lambda M: (None, [0, 1], Ellipsis)),
    ("neg_adv", lambda M: ([-1, -3],)),
    ("numpy_idx", lambda M: (np.array([1, 1, 0]),)),
    ("empty_list", lambda M: ([],)),
    ("tensor_0d_int", lambda M: (M.tensor(1), slice(0, 2))),
    ("mask_full", lambda M: (M.tensor(MASK3),)),
    ("mask_row", lambda M: (M.tensor([True, False, True]),)),
    ("mask_mid", lambda M: (slice(None), M.tensor([False, True, True, False]))),
    ("mask_2d_then_slice", lambda M: (M.tensor(MASK3[:, :, 0]), slice(1, 3))),
    ("mask_none_true", lambda M: (M.tensor(np.zeros(3, bool)),)),
    ("bool_true", lambda M: (True,)),
    ("bool_false", lambda M: (slice(None), False)),
]
MASK3 = np.random.default_rng(5).random((3, 4, 5)) > 0.5


@pytest.mark.parametrize("name,index", GETITEM, ids=[c[0] for c in GETITEM])
def test_getitem_grad(name, index, device):
    idx = index(zoo)
    idx = tuple(zoo.tensor(i._data, device=device) if isinstance(i, zoo.Tensor) else i for i in idx)
    check_grad(lambda x: x[idx], arr(3, 4, 5), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("name,index", GETITEM, ids=[c[0] for c in GETITEM])
def test_getitem_vs_torch(name, index, device):
    torch = pytest.importorskip("torch")
    zi, ti = index(zoo), index(torch)
    zi = tuple(zoo.tensor(i._data, device=device) if isinstance(i, zoo.Tensor) else i for i in zi)
    compare_with_torch(lambda x: x[zi], lambda x: x[ti], arr(3, 4, 5), device=device)


def test_getitem_noncontiguous_and_0d(device):
    check_grad(lambda x: x.t()[[0, 0, 2], 1:], arr(3, 4), device=device)
    check_grad(lambda x: x.transpose(0, 2)[..., zoo.tensor([True, False], device=device)], arr(2, 3, 2),
               device=device)
    check_grad(lambda x: x[()], arr(), device=device)
    check_grad(lambda x: x[None], arr(), device=device)
    check_grad(lambda x: x[...], arr(), device=device)
    check_grad(lambda x: x[True], arr(), device=device)


def test_getitem_duplicates_accumulate(device):
    x = leaf(np.arange(4.0), device=device)
    x[[1, 1, 3, 1]].sum().backward()
    assert x.grad.tolist() == [0, 3, 0, 1]


def test_basic_index_is_view_advanced_is_copy(device):
    x = zoo.zeros(3, 4, device=device)
    v = x[1:, ::2]
    assert v._base is x
    v.add_(1)
    assert x.sum().item() == 4 and x._version == 1
    s = x[2, 3]
    assert s.shape == () and s._base is x
    s.add_(10)
    assert x[2, 3].item() == 10
    c = x[[0, 1]]
    c.add_(1)
    m = x[x > 100]
    assert c._base is None and m._base is None and x.sum().item() == 14


# ----------------------------------------------------------------------------------------------------------------
# __setitem__
# ----------------------------------------------------------------------------------------------------------------

SETITEM = [
    ("int", lambda M: (1,), (5,)),
    ("slice_broadcast", lambda M: (slice(0, 2),), (1, 5)),
    ("number", lambda M: (slice(None), 1), None),
    ("adv", lambda M: ([0, 2],), (2, 4, 5)),
    ("adv_broadcast", lambda M: (slice(None), [1, 3], 0), (2,)),
    ("mask", lambda M: (M.tensor(MASK3),), ()),
    ("mask_row", lambda M: (M.tensor([True, False, True]),), (4, 5)),
    ("ellipsis_none", lambda M: (Ellipsis, None, 2), (4, 1)),
    ("value_extra_leading_dim", lambda M: (0,), (1, 4, 5)),
]


@pytest.mark.parametrize("name,index,vshape", SETITEM, ids=[c[0] for c in SETITEM])
def test_setitem_grad_nonleaf(name, index, vshape, device):
    idx = index(zoo)
    idx = tuple(zoo.tensor(i._data, device=device) if isinstance(i, zoo.Tensor) else i for i in idx)

    def f(x, v=None):
        y = x * 1.0
        y[idx] = 2.5 if v is None else v
        return y
    if vshape is None:
        check_grad(f, arr(3, 4, 5), device=device)
    else:
        check_grad(f, arr(3, 4, 5), arr(*vshape, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("name,index,vshape", SETITEM, ids=[c[0] for c in SETITEM])
def test_setitem_vs_torch(name, index, vshape, device):
    torch = pytest.importorskip("torch")

    def build(M):
        idx = index(M)
        if M is zoo:
            idx = tuple(zoo.tensor(i._data, device=device) if isinstance(i, zoo.Tensor) else i for i in idx)

        def f(x, v):
            y = x * 1.0
            y[idx] = v
            return y
        return f
    v = arr(*(vshape or ()), seed=1)
    compare_with_torch(build(zoo), build(torch), arr(3, 4, 5), v, device=device)


def test_setitem_value_no_grad_and_leaf_gets_history(device):
    x = leaf(arr(3), device=device)
    y = zoo.zeros(3, dtype=zoo.float64, device=device)
    y[1] = x[0] * 3  # y does not require grad; the value does
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [3, 0, 0])


def test_setitem_without_grad_writes_in_place(device):
    x = zoo.zeros(2, 3, dtype=zoo.int64, device=device)
    data = x._data
    x[0] = 1.7  # cast to the tensor's dtype, like PyTorch
    x[1, [0, 2]] = zoo.tensor([5, 6], device=device)
    x[x == 0] = zoo.tensor(-1, device=device)
    x[:, 1:] = zoo.tensor([[9, 8]], device=device)
    assert x._data is data and x._version == 4
    assert x.tolist() == [[1, 9, 8], [5, 9, 8]]
    w = leaf(arr(3))
    with zoo.no_grad():
        w[0] = 0.0
    assert w[0].item() == 0 and w.grad_fn is None


def test_setitem_through_view_is_seen_by_base(device):
    x = zoo.zeros(3, 4, device=device)
    x.t()[1] = 1.0
    x[2][1:3] = 5.0
    assert x.tolist() == [[0, 1, 0, 0], [0, 1, 0, 0], [0, 5, 5, 0]]


def test_setitem_after_save_raises_at_backward():
    w = zoo.tensor([1.0, 2.0], requires_grad=True)
    a = zoo.ones(2)
    out = (a * w).sum()
    a[0] = 3.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_setitem_errors():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf(arr(3))[0] = 1.0
    with pytest.raises(RuntimeError, match=r"shape mismatch.*\[3\].*\[2\]"):
        zoo.zeros(4)[:2] = zoo.ones(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        zoo.zeros(3, 1).expand(3, 4)[0] = 1.0
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        zoo.zeros(3)[3] = 1.0
    with pytest.raises(TypeError, match="can't assign a str"):
        zoo.zeros(3)[0] = "a"


@pytest.mark.oracle
@pytest.mark.parametrize("acc", [False, True])
def test_index_put_vs_torch(acc, device):
    torch = pytest.importorskip("torch")
    idx = [0, 2, 0] if acc else [0, 2, 3]  # duplicates only where the result is defined
    compare_with_torch(lambda a, b: zoo.index_put(a, (zoo.tensor(idx, device=device),), b, accumulate=acc),
                       lambda a, b: torch.index_put(a, (torch.tensor(idx),), b, accumulate=acc),
                       arr(4, 3), arr(3, 3, seed=1), device=device)


def test_index_put_grad_and_inplace(device):
    check_grad(lambda a, b: a.index_put((zoo.tensor([0, 2, 0], device=device), zoo.tensor([1, 1, 1], device=device)),
                                        b, accumulate=True),
               arr(4, 3), arr(3, seed=2), device=device)
    check_grad(lambda a, b: zoo.index_put(a, (zoo.tensor([0, 2], device=device),), b), arr(4, 3), arr(3, seed=2),
               device=device)
    y = zoo.zeros(3, device=device)
    y.index_put_((zoo.tensor([1, 1], device=device),), zoo.tensor(2.0, device=device), accumulate=True)
    assert y.tolist() == [0, 4, 0]


# ----------------------------------------------------------------------------------------------------------------
# gather / scatter / index_select / index_add / take / masks
# ----------------------------------------------------------------------------------------------------------------

IDX = np.array([[0, 2, 2], [1, 0, 0]])


def _t(M, a, device="cpu"):
    return M.tensor(a, device=device) if M is zoo else M.tensor(a)


FUNCS = [
    ("gather0", lambda M, d: lambda x: M.gather(x, 0, _t(M, [[1, 0, 1, 1]], d)), [(2, 4)]),
    ("gather1_dup", lambda M, d: lambda x: x.gather(1, _t(M, IDX, d)), [(2, 4)]),
    ("gather_neg_dim_small", lambda M, d: lambda x: x.gather(-1, _t(M, [[3], [0]], d)), [(3, 4)]),
    ("scatter_src", lambda M, d: lambda x, s: x.scatter(1, _t(M, [[0, 3], [1, 2]], d), s), [(2, 4), (2, 2)]),
    ("scatter_value", lambda M, d: lambda x: M.scatter(x, 0, _t(M, [[1, 0, 1]], d), 2.0), [(2, 3)]),
    ("scatter_add_dup", lambda M, d: lambda x, s: M.scatter_add(x, 1, _t(M, IDX, d), s), [(2, 4), (2, 3)]),
    ("scatter_reduce_sum", lambda M, d: lambda x, s: x.scatter_reduce(1, _t(M, IDX, d), s, "sum"), [(2, 4), (2, 3)]),
    ("scatter_reduce_sum_noself", lambda M, d: lambda x, s: x.scatter_reduce(1, _t(M, IDX, d), s, "sum",
                                                                             include_self=False), [(2, 4), (2, 3)]),
    ("scatter_reduce_mean", lambda M, d: lambda x, s: x.scatter_reduce(1, _t(M, IDX, d), s, "mean"),
     [(2, 4), (2, 3)]),
    ("scatter_reduce_mean_noself", lambda M, d: lambda x, s: M.scatter_reduce(x, 1, _t(M, IDX, d), s, "mean",
                                                                              include_self=False), [(2, 4), (2, 3)]),
    ("index_select_dup", lambda M, d: lambda x: x.index_select(1, _t(M, [2, 0, 2], d)), [(2, 3)]),
    ("index_select_0", lambda M, d: lambda x: M.index_select(x, 0, _t(M, [1], d)), [(2, 3)]),
    ("index_add_dup", lambda M, d: lambda x, s: x.index_add(0, _t(M, [1, 1, 0], d), s, alpha=2), [(2, 3), (3, 3)]),
    ("take", lambda M, d: lambda x: M.take(x, _t(M, [[0, -1], [5, 5]], d)), [(2, 3)]),
    ("take_along_dim", lambda M, d: lambda x: M.take_along_dim(x, _t(M, [[0], [2]], d), 1), [(2, 3)]),
    ("take_along_dim_bcast", lambda M, d: lambda x: M.take_along_dim(x, _t(M, [[[0, 1]]], d), 2), [(2, 3, 4)]),
    ("take_along_dim_none", lambda M, d: lambda x: M.take_along_dim(x, _t(M, [4, 0, 4], d)), [(2, 3)]),
    ("masked_fill", lambda M, d: lambda x: x.masked_fill(_t(M, [True, False, True], d), -1.5), [(2, 3)]),
    ("masked_fill_tensor", lambda M, d: lambda x, v: M.masked_fill(x, _t(M, [[True], [False]], d), v), [(2, 3), ()]),
    ("masked_select", lambda M, d: lambda x: M.masked_select(x, _t(M, [[True, False, True]], d)), [(2, 3)]),
    ("masked_select_bcast_input", lambda M, d: lambda x: x.masked_select(_t(M, MASK3[:, :2, 0], d)), [(2,)]),
    ("noncontig_gather", lambda M, d: lambda x: x.t().gather(0, _t(M, [[2, 0], [1, 1]], d)), [(2, 3)]),
]


@pytest.mark.parametrize("name,build,shapes", FUNCS, ids=[c[0] for c in FUNCS])
def test_funcs_grad(name, build, shapes, device):
    check_grad(build(zoo, device), *[arr(*s, seed=i) for i, s in enumerate(shapes)], device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("name,build,shapes", FUNCS, ids=[c[0] for c in FUNCS])
def test_funcs_vs_torch(name, build, shapes, device):
    torch = pytest.importorskip("torch")
    arrays = [arr(*s, seed=i, dtype=np.float32) for i, s in enumerate(shapes)]
    compare_with_torch(build(zoo, device), build(torch, "cpu"), *arrays, device=device)


def test_scatter_src_larger_than_index_grad(device):
    # only the leading index.shape block of src is used; the rest gets zero gradient
    check_grad(lambda x, s: x.scatter(0, zoo.tensor([[1, 0]], device=device), s), arr(2, 3), arr(2, 4, seed=1),
               device=device)
    check_grad(lambda x, s: x.scatter_add(0, zoo.tensor([[1, 1]], device=device), s), arr(2, 3), arr(2, 4, seed=1),
               device=device)


def test_inplace_variants(device):
    x = zoo.zeros(2, 3, device=device)
    x.masked_fill_(zoo.tensor([True, False, True], device=device), 1.0)
    x.scatter_(0, zoo.tensor([[1, 1, 1]], device=device), zoo.full((1, 3), 7.0, device=device))
    x.scatter_add_(1, zoo.tensor([[0, 0]], device=device), zoo.ones(1, 2, device=device))
    x.index_add_(1, zoo.tensor([2], device=device), zoo.ones(2, 1, device=device))
    assert x.tolist() == [[3, 0, 2], [7, 7, 8]] and x._version == 4
    x.scatter_(1, zoo.tensor([[0]], device=device), 5.0, reduce="add")
    assert x[0, 0].item() == 8
    with pytest.raises(RuntimeError, match="mask"):
        zoo.zeros(3).masked_fill_(zoo.ones(2, 3, dtype=zoo.bool), 1.0)


def test_masked_fill_grad_to_value_and_int_cast(device):
    check_grad(lambda x, v: x.masked_fill(x > 0, v), arr(3, 4), arr(seed=1), device=device)
    x = zoo.tensor([1, 2], device=device)
    assert x.masked_fill(zoo.tensor([True, False], device=device), 3.7).tolist() == [3, 2]


# ----------------------------------------------------------------------------------------------------------------
# nonzero, argwhere, where(cond), one_hot
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
def test_nonzero_family_vs_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[0, 1.5, 0], [2, 0, -1]], dtype=np.float32)
    for x in (a, a[0], np.float32(3.0), np.float32(0.0), np.zeros((0, 2), np.float32)):
        x = np.asarray(x)
        zt, tt = zoo.tensor(x, device=device), torch.tensor(x)
        compare_with_torch(lambda t: t.nonzero(), lambda t: t.nonzero(), x, grad=False, device=device)
        compare_with_torch(zoo.argwhere, torch.argwhere, x, grad=False, device=device)
        got, want = zoo.nonzero(zt, as_tuple=True), torch.nonzero(tt, as_tuple=True)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(to_numpy(g), to_numpy(w))
            assert g.dtype == zoo.int64
    rows, cols = zoo.where(zoo.tensor(a, device=device) > 0)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_one_hot_public():
    import zoo.nn.functional as F
    assert F.one_hot is one_hot and "one_hot" in F.__all__
    assert zoo.nn.functional.one_hot(zoo.tensor([1, 0]), 3).tolist() == [[0, 1, 0], [1, 0, 0]]


@pytest.mark.oracle
def test_one_hot(device):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    for labels, n in (([[0, 2], [1, 2]], -1), ([3, 0], 5), ([], 4)):
        got = one_hot(zoo.tensor(labels, dtype=zoo.int64, device=device), n)
        want = F.one_hot(torch.tensor(labels, dtype=torch.int64), n)
        assert got.dtype == zoo.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
    with pytest.raises(RuntimeError, match="non-negative"):
        one_hot(zoo.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        one_hot(zoo.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        one_hot(zoo.tensor([], dtype=zoo.int64))
    with pytest.raises(RuntimeError, match="LongTensor"):
        one_hot(zoo.tensor([1.0]))


# ----------------------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn,err,match", [
    (lambda x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, -5], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[[0, 3]], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, zoo.tensor([4])], IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda x: x[..., ...], IndexError, "single ellipsis"),
    (lambda x: x[1.5], IndexError, "only integers, slices"),
    (lambda x: x[zoo.tensor([0.0])], IndexError, "must be long, int, byte or bool"),
    (lambda x: x[zoo.tensor([True, False])], IndexError, r"shape of the mask \[2\] at index 0 does not match"),
    (lambda x: x[[0, 1], [0, 1, 2]], IndexError, r"shape mismatch: indexing tensors could not be broadcast together "
                                                 r"with shapes \[2\], \[3\]"),
    (lambda x: x[::-1], ValueError, "step must be greater than zero"),
    (lambda x: x.gather(0, zoo.tensor([0])), RuntimeError, "same number of dimensions"),
    (lambda x: x.gather(1, zoo.tensor([[4]])), IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(1, zoo.tensor([[0]] * 4)), RuntimeError, "to be smaller than self"),
    (lambda x: x.gather(1, zoo.tensor([[0.0]])), RuntimeError, "Expected dtype int64 for index"),
    (lambda x: x.scatter(1, zoo.tensor([[0]]), zoo.ones(1, 1, dtype=zoo.float64)), RuntimeError,
     "self.dtype to be equal to src.dtype"),
    (lambda x: x.scatter(1, zoo.tensor([[0, 1]]), zoo.ones(1, 1)), RuntimeError, "smaller size than src"),
    (lambda x: x.scatter(1, zoo.tensor([[0]]), 1.0, reduce="multiply"), NotImplementedError, "multiply"),
    (lambda x: x.scatter_reduce(1, zoo.tensor([[0]]), zoo.ones(1, 1), "amax"), NotImplementedError, "amax"),
    (lambda x: x.index_select(0, zoo.tensor([[0]])), IndexError, "supposed to be a vector"),
    (lambda x: x.index_select(0, zoo.tensor([-1])), IndexError, "index -1 is out of bounds for dimension 0"),
    (lambda x: x.index_add(0, zoo.tensor([0]), zoo.ones(2, 4)), RuntimeError, "does not match self"),
    (lambda x: x.take(zoo.tensor([12])), IndexError, "tried to access index 12 on a tensor of 12 elements"),
    (lambda x: x.masked_fill(zoo.ones(3, 4), 0.0), RuntimeError, "only supports boolean masks"),
    (lambda x: x.masked_fill(zoo.ones(2, 4, dtype=zoo.bool), 0.0), RuntimeError, r"\[2, 4\].*\[3, 4\]"),
    (lambda x: x.masked_fill(zoo.ones(4, dtype=zoo.bool), zoo.ones(2)), RuntimeError, "0-dimensional value"),
    (lambda x: x.masked_select(zoo.ones(2, dtype=zoo.bool)), RuntimeError, "broadcastable"),
])
def test_errors(fn, err, match):
    with pytest.raises(err, match=match):
        fn(zoo.zeros(3, 4))
