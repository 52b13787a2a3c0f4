"""In-place ops and views: a view's history is rebased when the memory it shares is changed in place (through
its base or another view), and in-place ops on a view give the base PyTorch's CopySlices gradients."""
import numpy as np
import pytest

import zoo
from tests.helpers import arr, check_grad

# Each case: fn(lib, a, w) -> scalar loss, with a = [1, 2, 3] and w = [.5, -1, 2] leaves that require grad.
CASES = {
    "base mul_ after view": lambda lib, a, w: _view_then(lib, a, lambda b: b.mul_(3)).sum(),
    "base exp_ after view": lambda lib, a, w: _view_then(lib, a, lambda b: b.exp_()).sum(),
    "base setitem after view": lambda lib, a, w: _sq(_view_then(lib, a, lambda b: b.__setitem__(1, 10.0))),
    "base masked_fill_ after view": lambda lib, a, w: _sq(_view_then(
        lib, a, lambda b: b.masked_fill_(lib.tensor([True, False, False]), 0.0))),
    "base copy_ after view": lambda lib, a, w: _sq(_view_then(lib, a, lambda b: b.copy_(w))),
    "base zero_ after view": lambda lib, a, w: (_view_then(lib, a, lambda b: b.zero_()) * w[:2]).sum(),
    "view of view, sibling write": lambda lib, a, w: _view_of_view(lib, a, w),
    "zero_": lambda lib, a, w: ((a * 1).zero_() * w).sum(),
    "copy_ overwrites history": lambda lib, a, w: _sq((a * 1).copy_(w)),
    "c[0] += 5": lambda lib, a, w: (_item_iadd(w) * a).sum(),
    "y[:, 0].zero_()": lambda lib, a, w: _column_zero(a, w),
    "buf[:2].add_(w)": lambda lib, a, w: (_buf_add(lib, w) * a).sum(),
    "x[0][1] = w": lambda lib, a, w: _chained_setitem(a, w),
    "transposed view mul_": lambda lib, a, w: _transposed_mul(a, w),
    "fill_ with a 0-d tensor": lambda lib, a, w: _sq((a * 1)[1:].fill_(w[0]) * a[1:]) + _sq(a * 1),
}


def _sq(t):
    return (t * t).sum()


def _view_then(lib, a, change):
    b = a * 1
    v = b[0:2]
    change(b)
    return v


def _view_of_view(lib, a, w):
    b = a * 1
    v = b[1:]
    v2 = v[0:1]
    b[2] = w[0]
    v2.mul_(w[1:2])
    return _sq(b) + (v * a[1:]).sum()


def _item_iadd(w):
    c = w * 1
    c[0] += 5
    return c


def _column_zero(a, w):
    y = (a * w).reshape(3, 1).expand(3, 2).clone()
    y[:, 0].zero_()
    return _sq(y)


def _buf_add(lib, w):
    buf = lib.zeros(3, dtype=w.dtype)
    buf[:2].add_(w[:2])
    return buf


def _chained_setitem(a, w):
    x = (a * 1).view(3, 1)
    x[0][0] = w[1]
    return _sq(x)


def _transposed_mul(a, w):
    b = (a * 1).reshape(3, 1)
    t = b.t()
    t[0, 1:].mul_(w[1:])
    return _sq(b) + (t * 2).sum()


@pytest.mark.parametrize("case", list(CASES))
def test_inplace_and_views_gradcheck(case):
    fn = CASES[case]
    check_grad(lambda a, w: fn(zoo, a, w), np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0]))


@pytest.mark.oracle
@pytest.mark.parametrize("case", list(CASES))
def test_inplace_and_views_vs_torch(case):
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (zoo, torch):
        a = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        loss = CASES[case](lib, a, w)
        loss.backward()
        grads.append([np.zeros(3) if t.grad is None else np.asarray(t.grad.tolist()) for t in (a, w)] +
                     [loss.item()])
    for z, t in zip(*grads):
        np.testing.assert_allclose(z, t, rtol=1e-12)


def test_view_history_is_rebased_after_base_inplace(device):
    a = zoo.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    b = a * 1
    v = b[0:2]
    b.mul_(3)
    v.sum().backward()  # the view is used directly as the root
    assert a.grad.tolist() == [3.0, 3.0, 0.0]


def test_view_of_tensor_without_grad_picks_up_history(device):
    w = zoo.tensor([1.0, 2.0], requires_grad=True, device=device)
    buf = zoo.zeros(3, device=device)
    v = buf[1:]
    buf[:2].add_(w)
    assert v.requires_grad or (v * 1).requires_grad
    (v * 1).sum().backward()
    assert w.grad.tolist() == [0.0, 1.0]


def test_inplace_on_view_of_leaf_refused():
    x = zoo.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf Variable, changed through a view of it \(mul_\)"):
        x[:2].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 2.0


def test_inplace_on_view_larger_shapes(device):
    base = arr(4, 5, seed=1)
    upd = arr(5, 4, seed=2)[::2, 1:3]  # 3 x 2 block written through a transposed, strided view

    def f(x, u):
        y = x * 1
        y.t()[::2, 1:3].mul_(u)
        y[1:, ::2] += u.sum()
        return y * x

    check_grad(f, base, np.ascontiguousarray(upd), device=device)


def test_inplace_method_names():
    assert zoo.Tensor.fill_.__name__ == "fill_"
    assert zoo.Tensor.zero_.__name__ == "zero_"
    assert zoo.Tensor.copy_.__name__ == "copy_"


# Backward keeps only what it reads: changing a tensor it does not need in place is fine (as in PyTorch).
SAVED_OK = {
    "x * scalar": lambda b: b * 2, "exp": lambda b: b.exp(), "sigmoid": lambda b: b.sigmoid(),
    "tanh": lambda b: b.tanh(), "sqrt": lambda b: b.sqrt(), "1 / x": lambda b: 1 / b, "2 / x": lambda b: 2 / b,
    "x / const tensor": lambda b: b / zoo.full((3,), 2.0, dtype=zoo.float64),
    "matmul, other needs no grad": lambda b: b.reshape(1, 3) @ zoo.ones(3, 2, dtype=zoo.float64),
    "linear, weight needs no grad": lambda b: zoo.nn.functional.linear(b.reshape(1, 3),
                                                                      zoo.ones(2, 3, dtype=zoo.float64)),
}


@pytest.mark.parametrize("case", list(SAVED_OK))
def test_inplace_change_of_unneeded_input_is_fine(case):
    a = zoo.tensor([1.0, 2.0, 3.0], dtype=zoo.float64, requires_grad=True)
    b = a * 1
    c = SAVED_OK[case](b)
    b.add_(1)  # backward of c does not read b
    c.sum().backward()
    a2 = zoo.tensor([1.0, 2.0, 3.0], dtype=zoo.float64, requires_grad=True)
    SAVED_OK[case](a2 * 1).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), a2.grad.numpy())


def test_inplace_change_of_needed_input_still_raises():
    a = zoo.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_data_has_its_own_version_counter():
    b = zoo.tensor([1.0, 2.0], requires_grad=True)
    c = b.sigmoid()
    c.data.add_(1)  # invisible to autograd, as in PyTorch
    c.sum().backward()
    assert b.grad is not None and c._version == 0
