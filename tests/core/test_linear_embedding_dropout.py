"""linear, bilinear, embedding and dropout of zoo.nn.functional: float64 gradchecks, oracle comparisons with
PyTorch, dropout's masks and reproducibility, and bad input."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, to_numpy, torch_or_skip

import zoo
import zoo.nn.functional as F


def const(a, device="cpu"):
    return zoo.tensor(a, device=device)


# ------------------------------------------------------------------------------------------------------------
# linear
# ------------------------------------------------------------------------------------------------------------

LINEAR_CASES = [((4, 3), (5, 3)), ((2, 3, 3), (2, 3)), ((3,), (4, 3)), ((3,), (3,)), ((2, 3), (3,)),
                ((0, 3), (2, 3))]


@pytest.mark.parametrize("xs,ws", LINEAR_CASES)
def test_linear_grad(xs, ws, device):
    bias_shape = ws[:-1]
    check_grad(F.linear, arr(*xs), arr(*ws, seed=1), device=device)
    check_grad(F.linear, arr(*xs), arr(*ws, seed=1), arr(*bias_shape, seed=2), device=device)


def test_linear_grad_broadcast_bias_and_noncontiguous(device):
    check_grad(F.linear, arr(4, 3), arr(5, 3, seed=1), arr(1, seed=2), device=device)  # size-1 bias broadcasts
    check_grad(lambda x, w: F.linear(x.transpose(0, 2), w), arr(3, 2, 4), arr(2, 3, seed=1), device=device)
    check_grad(lambda x, w: F.linear(x, w.T), arr(2, 3), arr(3, 5, seed=1), device=device)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["rows", "transposed", "strided"])
@pytest.mark.parametrize("bias_shape", [(5,), (1,)])
def test_linear_with_bias_values(dtype, layout, bias_shape):
    """y = x Wᵀ + b for row-major, column-major and strided operands and a broadcast bias, in each float dtype."""
    x, w, b = arr(6, 4).astype(dtype), arr(5, 4, seed=1).astype(dtype), arr(*bias_shape, seed=2).astype(dtype)
    if layout == "transposed":
        x, w = np.asfortranarray(x), np.asfortranarray(w)
    elif layout == "strided":
        x, w = np.repeat(x, 2, axis=1)[:, ::2], np.repeat(w, 2, axis=0)[::2]
    got = F.linear(const(x), const(w), const(b)).numpy()
    assert got.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.T.astype(np.float64) + b, rtol=tol, atol=tol)


@pytest.mark.oracle
@pytest.mark.parametrize("xs,ws", LINEAR_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_vs_torch(xs, ws, dtype, device):
    torch = torch_or_skip()
    tol = dict(atol=1e-12) if dtype == np.float64 else dict(atol=1e-5, rtol=1e-5)
    x, w, b = arr(*xs).astype(dtype), arr(*ws, seed=1).astype(dtype), arr(*ws[:-1], seed=2).astype(dtype)
    if not (len(ws) == 1 and len(xs) == 2):  # PyTorch's addmm path rejects a 1-D weight with a bias there
        compare_with_torch(F.linear, torch.nn.functional.linear, x, w, b, device=device, **tol)
    compare_with_torch(F.linear, torch.nn.functional.linear, x, w, device=device, **tol)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"input shape \(2, 4\) and weight shape \(5, 3\)"):
        F.linear(zoo.randn(2, 4), zoo.randn(5, 3))
    with pytest.raises(RuntimeError, match=r"bias shape \(4,\)"):
        F.linear(zoo.randn(2, 3), zoo.randn(5, 3), zoo.randn(4))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(zoo.randn(2, 3), zoo.randn(5, 3, dtype=zoo.float64))
    with pytest.raises(RuntimeError, match="floating point"):
        F.linear(zoo.tensor([[1, 2, 3]]), zoo.tensor([[1, 2, 3]]))
    with pytest.raises(RuntimeError, match="weight must be 1-D or 2-D"):
        F.linear(zoo.randn(2, 3), zoo.randn(1, 5, 3))


# ------------------------------------------------------------------------------------------------------------
# bilinear
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lead", [(4,), (2, 3), ()])
def test_bilinear_grad(lead, device):
    check_grad(F.bilinear, arr(*lead, 3), arr(*lead, 2, seed=1), arr(4, 3, 2, seed=2), arr(4, seed=3),
               device=device)
    check_grad(F.bilinear, arr(*lead, 3), arr(*lead, 2, seed=1), arr(4, 3, 2, seed=2), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("lead", [(4,), (2, 3)])
def test_bilinear_vs_torch(lead, device):
    torch = torch_or_skip()
    compare_with_torch(F.bilinear, torch.nn.functional.bilinear, arr(*lead, 3), arr(*lead, 2, seed=1),
                       arr(4, 3, 2, seed=2), arr(4, seed=3), device=device, atol=1e-12)


def test_bilinear_errors():
    with pytest.raises(RuntimeError, match=r"input1 shape \(4, 3\), input2 shape \(4, 5\) and weight shape "
                                           r"\(2, 3, 2\)"):
        F.bilinear(zoo.randn(4, 3), zoo.randn(4, 5), zoo.randn(2, 3, 2))
    with pytest.raises(RuntimeError, match="bias shape"):
        F.bilinear(zoo.randn(4, 3), zoo.randn(4, 2), zoo.randn(2, 3, 2), zoo.randn(3))


# ------------------------------------------------------------------------------------------------------------
# embedding
# ------------------------------------------------------------------------------------------------------------

IDX = np.array([[1, 3, 1], [0, 3, 3]])  # duplicates


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_embedding_grad(dtype, device):
    idx = const(IDX.astype(dtype), device)
    check_grad(lambda w: F.embedding(idx, w), arr(5, 2), device=device)
    check_grad(lambda w: F.embedding(idx, w, scale_grad_by_freq=False, padding_idx=4), arr(5, 2), device=device)


@pytest.mark.parametrize("padding_idx", [3, -2])
def test_embedding_padding_row_gets_no_gradient(padding_idx, device):
    g = const(arr(2, 3, 2, seed=4), device)
    grads = []
    for p in (None, padding_idx):
        w = zoo.tensor(arr(5, 2), device=device, requires_grad=True)
        F.embedding(const(IDX, device), w, p).backward(g)
        grads.append(to_numpy(w.grad))
    expected = grads[0].copy()
    expected[3] = 0
    np.testing.assert_array_equal(grads[1], expected)


def test_embedding_gradient_values(device):
    w = zoo.tensor(arr(5, 2), requires_grad=True, device=device)
    out = F.embedding(zoo.tensor(IDX, device=device), w, padding_idx=3)
    assert out.shape == (2, 3, 2)
    out.backward(zoo.ones_like(out))
    np.testing.assert_array_equal(to_numpy(w.grad), [[1, 1], [2, 2], [0, 0], [0, 0], [0, 0]])  # row 3: padding


@pytest.mark.oracle


@pytest.mark.parametrize("vocab", [7, 5000])  # small: one-hot GEMM path; large: scatter-add path
def test_embedding_gradient_sums_duplicates_and_keeps_inf_in_its_row(vocab, device):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, 300)
    g = rng.standard_normal((300, 3)).astype(np.float32)
    expected = np.zeros((vocab, 3), np.float64)
    np.add.at(expected, idx, g.astype(np.float64))
    w = zoo.zeros(vocab, 3, requires_grad=True, device=device)
    F.embedding(zoo.tensor(idx, device=device), w).backward(zoo.tensor(g, device=device))
    np.testing.assert_allclose(to_numpy(w.grad), expected, rtol=1e-5, atol=1e-5)
    # an inf gradient reaches its own row only (a one-hot product would spread 0 * inf = nan to every row)
    g[0] = np.inf
    w.grad = None
    F.embedding(zoo.tensor(idx, device=device), w).backward(zoo.tensor(g, device=device))
    rows = to_numpy(w.grad)
    assert np.isinf(rows[idx[0]]).all()
    others = np.arange(vocab) != idx[0]
    assert np.isfinite(rows[others]).all()
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 3}, {"padding_idx": -2}, {"scale_grad_by_freq": True},
                                {"padding_idx": 1, "scale_grad_by_freq": True}])
def test_embedding_vs_torch(kw, device):
    torch = torch_or_skip()
    compare_with_torch(lambda i, w: F.embedding(i, w, **kw), lambda i, w: torch.nn.functional.embedding(i, w, **kw),
                       IDX, arr(5, 4), device=device, atol=1e-12)
    compare_with_torch(lambda i, w: F.embedding(i, w, **kw), lambda i, w: torch.nn.functional.embedding(i, w, **kw),
                       np.array(2), arr(5, 4), device=device, atol=1e-12)  # 0-d index


@pytest.mark.oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_vs_torch(norm_type, device):
    torch = torch_or_skip()
    w0 = arr(6, 3, low=-2, high=2)
    zw, tw = zoo.tensor(w0, device=device), torch.tensor(w0)
    idx = np.array([0, 2, 2, 5])
    zo = F.embedding(zoo.tensor(idx, device=device), zw, max_norm=1.0, norm_type=norm_type)
    to = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(to_numpy(zo), to_numpy(to), atol=1e-12)
    np.testing.assert_allclose(to_numpy(zw), to_numpy(tw), atol=1e-12)  # rows renormalised in place
    np.testing.assert_array_equal(to_numpy(zw)[[1, 3, 4]], w0[[1, 3, 4]])


def test_embedding_errors():
    w = zoo.randn(5, 2)
    with pytest.raises(IndexError, match="index 7 is out of range for num_embeddings=5"):
        F.embedding(zoo.tensor([1, 7]), w)
    with pytest.raises(IndexError, match="index -1 is out of range for num_embeddings=5"):
        F.embedding(zoo.tensor([-1, 2]), w)
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(zoo.tensor([1.0, 2.0]), w)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(zoo.tensor([1]), w, sparse=True)
    with pytest.raises(ValueError, match="padding_idx=5 must be within num_embeddings=5"):
        F.embedding(zoo.tensor([1]), w, padding_idx=5)
    with pytest.raises(RuntimeError, match="must be 2-D"):
        F.embedding(zoo.tensor([1]), zoo.randn(5))


# ------------------------------------------------------------------------------------------------------------
# dropout
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_mask_scale_and_gradient(p, device):
    x = zoo.tensor(arr(50, 40, low=0.5, high=1.5), device=device, requires_grad=True)
    y = F.dropout(x, p)
    ratio = to_numpy(y) / to_numpy(x.detach())
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-12)
    assert abs((~kept).mean() - p) < 0.05
    w = arr(50, 40, seed=3)
    y.backward(zoo.tensor(w, device=device))
    np.testing.assert_allclose(to_numpy(x.grad), w * ratio, rtol=1e-12)  # gradient = mask / (1 - p)


def test_dropout_gradcheck_fixed_mask(device):
    def f(x):
        zoo.manual_seed(5)
        return F.dropout(x, 0.4)
    check_grad(f, arr(4, 5), device=device)
    check_grad(lambda x: (zoo.manual_seed(5), F.dropout(x.T, 0.4))[1], arr(4, 5), device=device)


def test_dropout_reproducible_under_manual_seed(device):
    x = zoo.tensor(arr(8, 8, dtype=np.float32), device=device)
    zoo.manual_seed(123)
    a = to_numpy(F.dropout(x, 0.5))
    b = to_numpy(F.dropout(x, 0.5))
    zoo.manual_seed(123)
    c = to_numpy(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    assert a.dtype == np.float32


def test_dropout_special_cases(device):
    x = zoo.tensor(arr(3, 4), device=device, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(to_numpy(y), 0.0)
    y.backward(zoo.ones_like(y))
    np.testing.assert_array_equal(to_numpy(x.grad), 0.0)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {bad}"):
            F.dropout(x, bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout2d(zoo.randn(2, 3, 4, 4), bad)


def test_dropout_inplace(device):
    a = arr(6, 7, low=0.5, high=1.5)
    x = zoo.tensor(a, device=device)
    zoo.manual_seed(9)
    assert F.dropout(x, 0.5, inplace=True) is x
    zoo.manual_seed(9)
    np.testing.assert_array_equal(to_numpy(x), to_numpy(F.dropout(zoo.tensor(a, device=device), 0.5)))
    leaf = zoo.tensor(a, requires_grad=True, device=device)
    y = leaf * 1.0
    zoo.manual_seed(9)
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y
    out.backward(zoo.ones_like(out))
    np.testing.assert_allclose(to_numpy(leaf.grad), to_numpy(x) / a)


@pytest.mark.parametrize("fn,shape,mask_shape", [
    ("dropout1d", (4, 6, 5), (4, 6, 1)), ("dropout1d", (6, 5), (6, 1)),
    ("dropout2d", (4, 6, 3, 3), (4, 6, 1, 1)), ("dropout3d", (2, 6, 2, 2, 2), (2, 6, 1, 1, 1)),
    ("dropout3d", (6, 2, 2, 2), (6, 1, 1, 1))])
def test_channel_dropout_zeroes_whole_channels(fn, shape, mask_shape, device):
    x = zoo.tensor(arr(*shape, low=0.5, high=1.5), device=device, requires_grad=True)
    y = getattr(F, fn)(x, 0.5)
    ratio = to_numpy(y) / to_numpy(x.detach())
    reduce = tuple(i for i, s in enumerate(mask_shape) if s == 1)
    assert (ratio.min(axis=reduce) == ratio.max(axis=reduce)).all()  # constant within a channel
    assert 0 < (ratio.max(axis=reduce) == 0).mean() < 1  # some channels dropped, some kept
    assert set(np.unique(np.round(ratio, 12))) <= {0.0, 2.0}
    y.backward(zoo.ones_like(y))
    np.testing.assert_allclose(to_numpy(x.grad), ratio)


def test_channel_dropout_dims():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(zoo.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(zoo.randn(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout3d"):
        F.dropout3d(zoo.randn(2, 3, 4))


@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_keeps_mean_and_variance(fn, device):
    zoo.manual_seed(0)
    x = zoo.tensor(np.random.default_rng(0).standard_normal((400, 300, 2)), requires_grad=True, device=device)
    y = getattr(F, fn)(x, 0.3, training=True)
    out = to_numpy(y)
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03
    assert getattr(F, fn)(x, 0.3) is x  # training defaults to False
    y.backward(zoo.ones_like(y))
    g = to_numpy(x.grad)
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    assert set(np.unique(np.round(g, 12))) == {0.0, round(a, 12)}
    if fn == "feature_alpha_dropout":
        assert (g.min(axis=2) == g.max(axis=2)).all()


def test_alpha_dropout_grad(device):
    def f(x):
        zoo.manual_seed(2)
        return F.alpha_dropout(x, 0.4, training=True)
    check_grad(f, arr(3, 4), device=device)
