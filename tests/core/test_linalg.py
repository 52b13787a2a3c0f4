"""Matrix products: gradchecks for every shape case, PyTorch oracles (forward + backward), dtypes, errors."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, swap_last as T, torch_or_skip, to_numpy

import zoo


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)),
    ((2, 3, 4), (4,)), ((2, 1, 2, 3), (3, 3, 4)), ((2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 2)), ((4, 2, 3), (1, 3, 2)),
    ((2, 2, 3), (2, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 2)), ((2, 0, 3), (3, 2)),
    ((2, 3, 0), (0, 2)), ((2, 3, 4), (4, 0)), ((3, 0), (2, 0, 4)),
]


# ----------------------------------------------------------------------------------------------------------------
# matmul
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_grad(sa, sb, device):
    check_grad(lambda a, b: zoo.matmul(a, b), arr(*sa), arr(*sb, seed=1), device=device)


def test_matmul_grad_noncontiguous(device):
    check_grad(lambda a, b: T(a) @ b, arr(3, 2), arr(3, 4, seed=1), device=device)
    check_grad(lambda a, b: a @ T(b), arr(2, 3), arr(4, 3, seed=1), device=device)
    check_grad(lambda a, b: T(a) @ b, arr(2, 3, 2), arr(3, 4, seed=1),
               device=device)  # stacked, non-contiguous: no reshape trick
    check_grad(lambda a, b: T(a) @ T(b), arr(2, 4, 3), arr(2, 2, 4, seed=1), device=device)


def test_matmul_grad_only_one_input(device):
    a = zoo.tensor(arr(2, 3, 4), requires_grad=True, device=device)
    b = zoo.tensor(arr(4, 5, seed=1), device=device)
    (a @ b).sum().backward()
    np.testing.assert_allclose(to_numpy(a.grad), np.broadcast_to(to_numpy(b).sum(1), (2, 3, 4)))
    assert b.grad is None


@pytest.mark.oracle
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_vs_torch(sa, sb, device):
    torch = torch_or_skip()
    a, b = arr(*sa, dtype=np.float32), arr(*sb, seed=1, dtype=np.float32)
    compare_with_torch(zoo.matmul, torch.matmul, a, b, device=device, atol=1e-5)
    compare_with_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b, device=device, atol=1e-5)


@pytest.mark.oracle
def test_matmul_integers_vs_torch(device):
    torch = torch_or_skip()
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    compare_with_torch(zoo.matmul, torch.matmul, a, b, device=device)
    compare_with_torch(zoo.matmul, torch.matmul, a.astype(np.int32)[None], b.astype(np.int32), device=device)


def test_matmul_keeps_float32(device):
    a = zoo.tensor(arr(2, 3, 4, dtype=np.float32), requires_grad=True, device=device)
    b = zoo.tensor(arr(4, 5, seed=1, dtype=np.float32), requires_grad=True, device=device)
    out = a @ b
    assert out.dtype is zoo.float32
    out.sum().backward()
    assert a.grad.dtype is zoo.float32 and b.grad.dtype is zoo.float32


def test_rmatmul_with_ndarray():
    a = arr(2, 3)
    b = zoo.tensor(arr(3, 4, seed=1))
    np.testing.assert_allclose((a @ b).numpy(), a @ b.numpy())
    np.testing.assert_allclose(b.__rmatmul__(a).numpy(), a @ b.numpy())
    np.testing.assert_allclose(zoo.tensor(a).__matmul__(arr(3, 2, seed=2)).numpy(), a @ arr(3, 2, seed=2))
    assert zoo.tensor(a).__matmul__("x") is NotImplemented


def test_matmul_errors():
    with pytest.raises(RuntimeError, match=r"^matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)$"):
        zoo.ones(2, 3) @ zoo.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied"):
        zoo.matmul(zoo.ones(3), zoo.ones(4))
    with pytest.raises(RuntimeError, match=r"matmul: .*at least 1-D.*0-D and 1-D"):
        zoo.matmul(zoo.tensor(1.0), zoo.ones(4))
    with pytest.raises(RuntimeError, match=r"matmul: the batch dims of shapes \(2, 3, 4\) and \(3, 4, 5\)"):
        zoo.ones(2, 3, 4) @ zoo.ones(3, 4, 5)
    with pytest.raises(RuntimeError, match="matmul: expected all operands to have the same dtype.*float32 and float64"):
        zoo.ones(2, 3) @ zoo.ones(3, dtype=zoo.float64)
    with pytest.raises(RuntimeError, match="matmul.*same dtype.*float32 and int64"):
        zoo.ones(2, 3) @ zoo.ones(3, 2, dtype=zoo.int64)
    with pytest.raises(RuntimeError, match="matmul: not implemented for bool"):
        zoo.ones(2, 3, dtype=zoo.bool) @ zoo.ones(3, 2, dtype=zoo.bool)
    with pytest.raises(TypeError, match="matmul"):
        zoo.matmul(zoo.ones(2, 3), [[1.0]])


# ----------------------------------------------------------------------------------------------------------------
# mm, bmm, mv, dot, outer
# ----------------------------------------------------------------------------------------------------------------


def test_strict_products_grad(device):
    check_grad(zoo.mm, arr(2, 3), arr(3, 4, seed=1), device=device)
    check_grad(zoo.bmm, arr(2, 2, 3), arr(2, 3, 4, seed=1), device=device)
    check_grad(zoo.mv, arr(2, 3), arr(3, seed=1), device=device)
    check_grad(zoo.dot, arr(3), arr(3, seed=1), device=device)
    check_grad(zoo.outer, arr(3), arr(2, seed=1), device=device)
    check_grad(lambda a, b: zoo.mm(T(a), b), arr(3, 2), arr(3, 4, seed=1), device=device)
    check_grad(lambda a, b: zoo.bmm(a, T(b)), arr(2, 2, 3), arr(2, 4, 3, seed=1), device=device)
    check_grad(zoo.dot, np.zeros(0), np.zeros(0), device=device)


@pytest.mark.oracle
def test_strict_products_vs_torch(device):
    torch = torch_or_skip()
    f32 = dict(dtype=np.float32)
    cases = [("mm", (2, 3), (3, 4)), ("bmm", (2, 2, 3), (2, 3, 4)), ("mv", (2, 3), (3,)), ("dot", (3,), (3,)),
             ("outer", (3,), (2,)), ("ger", (3,), (2,))]
    for op, sa, sb in cases:
        compare_with_torch(getattr(zoo, op), getattr(torch, op), arr(*sa, **f32), arr(*sb, seed=1, **f32),
                           device=device, atol=1e-6)
        compare_with_torch(lambda x, y: getattr(x, op)(y), lambda x, y: getattr(x, op)(y), arr(*sa, **f32),
                           arr(*sb, seed=1, **f32), device=device, atol=1e-6)


@pytest.mark.oracle
def test_outer_promotes_vs_torch(device):
    torch = torch_or_skip()
    compare_with_torch(zoo.outer, torch.outer, np.arange(3), arr(2, dtype=np.float32), device=device)
    compare_with_torch(zoo.outer, torch.outer, arr(3, dtype=np.float32), arr(2), device=device)


def test_strict_product_errors():
    with pytest.raises(RuntimeError, match=r"mm: expected input to be a 2-D tensor, but got shape \(3,\)"):
        zoo.mm(zoo.ones(3), zoo.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"mm: shapes \(2, 3\) and \(2, 2\) cannot be multiplied \(3 != 2\)"):
        zoo.mm(zoo.ones(2, 3), zoo.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"bmm: expected input to be a 3-D tensor, but got shape \(2, 3\)"):
        zoo.bmm(zoo.ones(2, 3), zoo.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"bmm: batch sizes of shapes \(2, 2, 3\) and \(3, 3, 2\) do not match"):
        zoo.bmm(zoo.ones(2, 2, 3), zoo.ones(3, 3, 2))
    with pytest.raises(RuntimeError, match=r"bmm: shapes \(2, 2, 3\) and \(2, 2, 2\) cannot be multiplied"):
        zoo.bmm(zoo.ones(2, 2, 3), zoo.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match=r"mv: shapes \(2, 3\) and \(2,\) cannot be multiplied"):
        zoo.mv(zoo.ones(2, 3), zoo.ones(2))
    with pytest.raises(RuntimeError, match=r"mv: expected vec to be a 1-D"):
        zoo.mv(zoo.ones(2, 3), zoo.ones(3, 1))
    with pytest.raises(RuntimeError, match=r"dot: expected input to be a 1-D tensor, but got shape \(2, 3\)"):
        zoo.dot(zoo.ones(2, 3), zoo.ones(2))
    with pytest.raises(RuntimeError, match=r"dot: shapes \(3,\) and \(2,\) cannot be multiplied \(3 != 2\)"):
        zoo.dot(zoo.ones(3), zoo.ones(2))
    with pytest.raises(RuntimeError, match="dot: .*same dtype"):
        zoo.dot(zoo.ones(3), zoo.ones(3, dtype=zoo.float64))
    with pytest.raises(RuntimeError, match=r"outer: expected input to be a 1-D tensor, but got shape \(3, 2\)"):
        zoo.outer(zoo.ones(3, 2), zoo.ones(2))


# ----------------------------------------------------------------------------------------------------------------
# einsum
# ----------------------------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij,kj->", [(2, 3), (4, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bij,bjk", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,j", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ba,Ab", [(2, 3), (4, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("iji->ij", [(2, 3, 2)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ijk,ikl,il->jl", [(2, 3, 2), (2, 2, 4), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 3), (2, 3, 2)]),
    ("ij...,jk...->ik", [(2, 3, 2), (3, 2, 2)]),
    ("...i,...i->...", [(2, 3), (3,)]),
    ("i...->...", [(2, 3, 2)]),
    ("b i j , b j k -> b k i", [(2, 2, 3), (2, 3, 2)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # size-1 dims broadcast
    ("ij,ik->jk", [(1, 3), (2, 2)]),
    ("ijk,jl->kil", [(2, 3, 2), (3, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,jk->ik", [(0, 3), (3, 2)]),
    ("i,i->", [(0,), (0,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_grad(eq, shapes, device):
    arrays = [arr(*s, seed=i) for i, s in enumerate(shapes)]
    check_grad(lambda *xs: zoo.einsum(eq, *xs), *arrays, device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_vs_torch(eq, shapes, device):
    torch = torch_or_skip()
    arrays = [arr(*s, seed=i, dtype=np.float32) for i, s in enumerate(shapes)]
    compare_with_torch(lambda *xs: zoo.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), *arrays, device=device,
                       atol=1e-5)


def test_einsum_noncontiguous_and_list_operands(device):
    check_grad(lambda a, b: zoo.einsum("ij,jk->ik", [T(a), b]), arr(3, 2), arr(3, 4, seed=1), device=device)
    check_grad(lambda a: zoo.einsum("ii->i", T(a)), arr(3, 3), device=device)
    check_grad(lambda a, b: zoo.einsum("bij,bkj->bik", a, T(b)), arr(2, 2, 3), arr(2, 3, 4, seed=1), device=device)


def test_einsum_output_owns_memory():
    x = zoo.tensor(arr(2, 3))
    y = zoo.einsum("ij->ji", x)
    y.numpy()[0, 0] = 100.0  # a view would change x
    assert x.numpy()[0, 0] != 100.0


def test_einsum_keeps_float32(device):
    a = zoo.tensor(arr(2, 3, dtype=np.float32), requires_grad=True, device=device)
    b = zoo.tensor(arr(3, 4, seed=1, dtype=np.float32), requires_grad=True, device=device)
    c = zoo.tensor(arr(4, dtype=np.float32), requires_grad=True, device=device)
    out = zoo.einsum("ij,jk,k->i", a, b, c)
    assert out.dtype is zoo.float32
    out.sum().backward()
    assert a.grad.dtype is b.grad.dtype is c.grad.dtype is zoo.float32


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="einsum.*subscript j has size 3 for operand 1.*size 2"):
        zoo.einsum("ij,jk", zoo.ones(2, 2), zoo.ones(3, 4))
    with pytest.raises(RuntimeError, match="einsum.*subscript i is repeated for operand 0.*2 != 3"):
        zoo.einsum("ii", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"einsum.*subscripts in the equation \(2\).*dimensions \(3\) for operand 0"):
        zoo.einsum("ij", zoo.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"einsum.*\(3\) is more than the number of dimensions \(2\)"):
        zoo.einsum("ijk...", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="einsum.*output subscript z does not appear"):
        zoo.einsum("ij->iz", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="einsum.*output subscript i appears more than once"):
        zoo.einsum("ij,jk->ii", zoo.ones(2, 3), zoo.ones(3, 4))
    with pytest.raises(RuntimeError, match="einsum.*fewer operands"):
        zoo.einsum("ij,jk", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="einsum.*more operands"):
        zoo.einsum("ij", zoo.ones(2, 3), zoo.ones(3))
    with pytest.raises(RuntimeError, match="einsum.*invalid subscript"):
        zoo.einsum("i1", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="einsum.*ellipsis"):
        zoo.einsum("i..", zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="einsum.*same dtype.*float32 and float64"):
        zoo.einsum("ij,jk", zoo.ones(2, 3), zoo.ones(3, 4, dtype=zoo.float64))


# ----------------------------------------------------------------------------------------------------------------
# tensordot
# ----------------------------------------------------------------------------------------------------------------

TENSORDOT_CASES = [
    ((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 4), 1), ((2, 3), (2, 2), 0), ((2, 3), (2, 3), 2),
    ((2, 3, 4), (4, 3, 2), ([1, 2], [1, 0])), ((2, 3, 4), (4, 3, 2), ([2, 1], [0, 1])),
    ((2, 3, 4), (2, 4), ([0, -1], [0, 1])), ((2, 3, 4), (3, 2), ([1], [0])), ((2, 3), (3, 2), (1, 0)),
]


@pytest.mark.parametrize("sa,sb,dims", TENSORDOT_CASES)
def test_tensordot_grad(sa, sb, dims, device):
    check_grad(lambda a, b: zoo.tensordot(a, b, dims), arr(*sa), arr(*sb, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("sa,sb,dims", TENSORDOT_CASES)
def test_tensordot_vs_torch(sa, sb, dims, device):
    torch = torch_or_skip()
    tdims = dims if not isinstance(dims, tuple) or isinstance(dims[0], list) else ([dims[0]], [dims[1]])
    compare_with_torch(lambda a, b: zoo.tensordot(a, b, dims=dims), lambda a, b: torch.tensordot(a, b, dims=tdims),
                       arr(*sa, dtype=np.float32), arr(*sb, seed=1, dtype=np.float32), device=device, atol=1e-5)


def test_tensordot_noncontiguous_and_tensor_dims(device):
    check_grad(lambda a, b: zoo.tensordot(T(a), b, 1), arr(3, 2), arr(3, 4, seed=1), device=device)
    out = zoo.tensordot(zoo.ones(2, 3, 4, device=device), zoo.ones(4, 3, 5, device=device),
                        dims=zoo.tensor([[1], [1]], device=device))
    assert out.shape == (2, 4, 4, 5)


def test_tensordot_errors():
    with pytest.raises(RuntimeError, match=r"tensordot.*contracted dimensions need to match.*size 3 in dim 1.*"
                                           r"size 4 in dim 0"):
        zoo.tensordot(zoo.ones(2, 3), zoo.ones(4, 5), dims=1)
    with pytest.raises(RuntimeError, match="tensordot.*same length"):
        zoo.tensordot(zoo.ones(2, 3, 4), zoo.ones(4, 3, 5), dims=([1], [1, 0]))
    with pytest.raises(RuntimeError, match="tensordot expects dims >= 0"):
        zoo.tensordot(zoo.ones(2, 3), zoo.ones(2, 3), dims=-1)
    with pytest.raises(RuntimeError, match="tensordot.*dims=3"):
        zoo.tensordot(zoo.ones(2, 3), zoo.ones(2, 3), dims=3)
    with pytest.raises(RuntimeError, match="tensordot.*same dtype"):
        zoo.tensordot(zoo.ones(2, 3), zoo.ones(2, 3, dtype=zoo.float64), dims=2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        zoo.tensordot(zoo.ones(2, 3), zoo.ones(2, 3), dims=([2], [0]))


# ----------------------------------------------------------------------------------------------------------------
# addmm, baddbmm
# ----------------------------------------------------------------------------------------------------------------

ADD_CASES = [dict(), dict(beta=0.5, alpha=2.0), dict(beta=0), dict(alpha=-1), dict(beta=2)]


@pytest.mark.parametrize("kw", ADD_CASES)
@pytest.mark.parametrize("c_shape", [(2, 4), (4,), (1, 4), (2, 1), ()])
def test_addmm_grad(kw, c_shape, device):
    check_grad(lambda c, a, b: zoo.addmm(c, a, b, **kw), arr(*c_shape, seed=2), arr(2, 3), arr(3, 4, seed=1),
               device=device)


@pytest.mark.parametrize("kw", ADD_CASES)
@pytest.mark.parametrize("c_shape", [(2, 2, 4), (4,), (1, 2, 1)])
def test_baddbmm_grad(kw, c_shape, device):
    check_grad(lambda c, a, b: zoo.baddbmm(c, a, b, **kw), arr(*c_shape, seed=2), arr(2, 2, 3), arr(2, 3, 4, seed=1),
               device=device)


def test_add_matmul_noncontiguous(device):
    check_grad(lambda c, a, b: zoo.addmm(c, T(a), b, beta=0.5), arr(2, 4, seed=2), arr(3, 2), arr(3, 4, seed=1),
               device=device)
    check_grad(lambda c, a, b: zoo.baddbmm(T(c), a, T(b)), arr(2, 4, 2, seed=2), arr(2, 2, 3),
               arr(2, 4, 3, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("kw", ADD_CASES)
def test_addmm_baddbmm_vs_torch(kw, device):
    torch = torch_or_skip()
    f32 = dict(dtype=np.float32)
    compare_with_torch(lambda c, a, b: zoo.addmm(c, a, b, **kw), lambda c, a, b: torch.addmm(c, a, b, **kw),
                       arr(4, seed=2, **f32), arr(2, 3, **f32), arr(3, 4, seed=1, **f32), device=device, atol=1e-6)
    compare_with_torch(lambda c, a, b: c.addmm(a, b, **kw), lambda c, a, b: c.addmm(a, b, **kw),
                       arr(2, 4, seed=2, **f32), arr(2, 3, **f32), arr(3, 4, seed=1, **f32), device=device, atol=1e-6)
    compare_with_torch(lambda c, a, b: zoo.baddbmm(c, a, b, **kw), lambda c, a, b: torch.baddbmm(c, a, b, **kw),
                       arr(2, 1, 4, seed=2, **f32), arr(2, 2, 3, **f32), arr(2, 3, 4, seed=1, **f32), device=device,
                       atol=1e-6)


@pytest.mark.oracle
def test_addmm_beta_zero_ignores_nan(device):
    torch = torch_or_skip()
    c = np.full((2, 4), np.nan, np.float32)
    compare_with_torch(lambda c, a, b: zoo.addmm(c, a, b, beta=0), lambda c, a, b: torch.addmm(c, a, b, beta=0),
                       c, arr(2, 3, dtype=np.float32), arr(3, 4, seed=1, dtype=np.float32), device=device)


def test_addmm_inplace(device):
    c = zoo.ones(2, 2, device=device)
    c.addmm_(zoo.ones(2, 3, device=device), zoo.ones(3, 2, device=device), alpha=2)
    assert c.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    d = zoo.zeros(1, 2, 2, device=device)
    d.baddbmm_(zoo.ones(1, 2, 3, device=device), zoo.ones(1, 3, 2, device=device), beta=0)
    assert d.tolist() == [[[3.0, 3.0], [3.0, 3.0]]]


def test_add_matmul_errors():
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(2,\) cannot be broadcast to the result shape "
                                           r"\(2, 3\)"):
        zoo.addmm(zoo.ones(2), zoo.ones(2, 3), zoo.ones(3, 3))
    with pytest.raises(RuntimeError, match=r"addmm: shapes \(2, 3\) and \(2, 3\) cannot be multiplied"):
        zoo.addmm(zoo.ones(3), zoo.ones(2, 3), zoo.ones(2, 3))
    with pytest.raises(RuntimeError, match="addmm: expected mat1 to be a 2-D"):
        zoo.addmm(zoo.ones(3), zoo.ones(2, 2, 3), zoo.ones(3, 3))
    with pytest.raises(RuntimeError, match="addmm: .*same dtype.*float64"):
        zoo.addmm(zoo.ones(3, dtype=zoo.float64), zoo.ones(2, 3), zoo.ones(3, 3))
    with pytest.raises(RuntimeError, match="baddbmm: expected batch1 to be a 3-D"):
        zoo.baddbmm(zoo.ones(3), zoo.ones(2, 3), zoo.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match=r"baddbmm: batch sizes of shapes \(2, 2, 3\) and \(3, 3, 3\)"):
        zoo.baddbmm(zoo.ones(3), zoo.ones(2, 2, 3), zoo.ones(3, 3, 3))
