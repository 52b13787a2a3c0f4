"""Convolutions, transposed convolutions, unfold and fold: gradchecks for every option, PyTorch oracles
(forward + backward), dtypes, non-contiguous inputs and argument errors."""
import numpy as np
import pytest
from helpers import arr, check_grad, compare_with_torch, swap_last, torch_functional as tF, to_numpy

import zoo
import zoo.nn.functional as F
from zoo.core import _blas


# ----------------------------------------------------------------------------------------------------------------
# gradchecks
# ----------------------------------------------------------------------------------------------------------------

CONV2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1, dilation=2),
    dict(dilation=(1, 2), padding="same"),  # odd effective width, even kernel height: asymmetric 'same'
    dict(padding="valid"),
    dict(groups=2, padding=1),
]


@pytest.mark.parametrize("kw", CONV2D_CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_conv2d_grad(kw, bias, device):
    x, w, b = arr(2, 4, 5, 4), arr(4, 4 // kw.get("groups", 1), 2, 3, seed=1), arr(4, seed=2)
    if bias:
        check_grad(lambda x, w, b: F.conv2d(x, w, b, **kw), x, w, b, device=device)
    else:
        check_grad(lambda x, w: F.conv2d(x, w, **kw), x, w, device=device)


CONV1D_CASES = [dict(), dict(stride=3, padding=2), dict(dilation=2, padding="same"), dict(groups=3, stride=2),
                dict(padding="same")]


@pytest.mark.parametrize("kw", CONV1D_CASES)
def test_conv1d_grad(kw, device):
    g = kw.get("groups", 1)
    check_grad(lambda x, w, b: F.conv1d(x, w, b, **kw), arr(2, 3, 7), arr(6, 3 // g, 4, seed=1), arr(6, seed=2),
               device=device)


def test_conv_unbatched_grad(device):
    check_grad(lambda x, w: F.conv1d(x, w, padding=1), arr(3, 6), arr(2, 3, 3, seed=1), device=device)
    check_grad(lambda x, w, b: F.conv2d(x, w, b, stride=2), arr(3, 5, 5), arr(2, 3, 2, 2, seed=1), arr(2, seed=2),
               device=device)
    check_grad(lambda x, w: F.conv_transpose1d(x, w, stride=2), arr(3, 4), arr(3, 2, 3, seed=1), device=device)
    check_grad(lambda x, w: F.conv_transpose2d(x, w, padding=1), arr(3, 3, 3), arr(3, 2, 3, 3, seed=1), device=device)


def test_conv_noncontiguous_grad(device):
    check_grad(lambda x, w: F.conv2d(swap_last(x), swap_last(w), padding=1), arr(1, 2, 5, 4), arr(3, 2, 3, 2, seed=1),
               device=device)
    check_grad(lambda x, w: F.conv_transpose2d(swap_last(x), w, stride=2), arr(1, 2, 3, 4), arr(2, 2, 2, 2, seed=1),
               device=device)


def test_conv3d_grad(device):
    check_grad(lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1), arr(1, 2, 3, 4, 3),
               arr(2, 2, 2, 2, 2, seed=1), arr(2, seed=2), device=device)
    check_grad(lambda x, w: F.conv_transpose3d(x, w, stride=2), arr(1, 2, 2, 2, 2), arr(2, 1, 2, 2, 2, seed=1),
               device=device)


CONVT2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(1, 3), output_padding=(0, 2)),
    dict(dilation=2, padding=1),
    dict(dilation=3, output_padding=1),  # output_padding < dilation with stride 1
    dict(groups=2, stride=2, padding=(0, 1)),
    dict(padding=2),  # padding larger than the dilated kernel overlap crops
]


@pytest.mark.parametrize("kw", CONVT2D_CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_conv_transpose2d_grad(kw, bias, device):
    g = kw.get("groups", 1)
    x, w, b = arr(2, 4, 3, 4), arr(4, 4 // g, 3, 2, seed=1), arr(4, seed=2)
    if bias:
        check_grad(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), x, w, b, device=device)
    else:
        check_grad(lambda x, w: F.conv_transpose2d(x, w, **kw), x, w, device=device)


@pytest.mark.parametrize("kw", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=2)])
def test_conv_transpose1d_grad(kw, device):
    g = kw.get("groups", 1)
    check_grad(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw), arr(2, 4, 5), arr(4, 6 // g, 3, seed=1),
               arr(6, seed=2), device=device)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=2)])
def test_unfold_fold_grad(kw, device):
    check_grad(lambda x: F.unfold(x, **kw), arr(2, 2, 5, 5), device=device)
    check_grad(lambda x: F.unfold(x, **kw), arr(2, 5, 5), device=device)  # unbatched
    L = F.unfold(zoo.zeros(1, 1, 5, 5), **kw).shape[-1]
    k = kw["kernel_size"]
    K = k * k if isinstance(k, int) else k[0] * k[1]
    check_grad(lambda c: F.fold(c, (5, 5), **kw), arr(2, 2 * K, L), device=device)
    check_grad(lambda c: F.fold(c, (5, 5), **kw), arr(2 * K, L), device=device)


def test_conv_empty_batch(device):
    x = zoo.zeros(0, 3, 5, 5, requires_grad=True, device=device)
    w = zoo.ones(4, 3, 3, 3, requires_grad=True, device=device)
    y = F.conv2d(x, w, padding=1)
    assert tuple(y.shape) == (0, 4, 5, 5)
    y.backward(zoo.zeros(0, 4, 5, 5, device=device))
    assert tuple(x.grad.shape) == (0, 3, 5, 5) and not to_numpy(w.grad).any()


# ----------------------------------------------------------------------------------------------------------------
# adjointness and dtypes
# ----------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(dilation=2), dict(stride=3, padding=2, groups=2)])
def test_conv_transpose_is_adjoint_of_conv(kw, device):
    """<conv(x, w), y> == <x, conv_transpose(y, w)> for matching geometry."""
    x, w = arr(2, 4, 9, 8), arr(6, 4 // kw.get("groups", 1), 3, 3, seed=1)
    y_shape = F.conv2d(zoo.tensor(x, device=device), zoo.tensor(w, device=device), **kw).shape
    y = arr(*y_shape, seed=2)
    lhs = (to_numpy(F.conv2d(zoo.tensor(x, device=device), zoo.tensor(w, device=device), **kw)) * y).sum()
    natural = F.conv_transpose2d(zoo.tensor(y, device=device), zoo.tensor(w, device=device), **kw).shape[2:]
    op = tuple(a - b for a, b in zip(x.shape[2:], natural))  # rows/cols the strided windows reach past
    xt = to_numpy(F.conv_transpose2d(zoo.tensor(y, device=device), zoo.tensor(w,
                                                                              device=device), output_padding=op, **kw))
    rhs = (x * xt).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_conv_float32_stays_float32(op, device):
    x = zoo.tensor(arr(2, 4, 6, 6, dtype=np.float32), device=device, requires_grad=True)
    w = zoo.tensor(arr(4, 2 if op == "conv_transpose2d" else 4, 3, 3, dtype=np.float32), device=device,
                   requires_grad=True)
    b = zoo.tensor(arr(2 if op == "conv_transpose2d" else 4, dtype=np.float32), device=device, requires_grad=True)
    y = getattr(F, op)(x, w, b, stride=2)
    assert y.dtype == zoo.float32
    y.backward(zoo.ones(*y.shape, device=device))
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == zoo.float32


def test_conv_noncontiguous_matches_contiguous(device):
    a, wa = arr(2, 3, 6, 7), arr(4, 3, 3, 2, seed=1)
    x = zoo.tensor(a, device=device)
    x_nc = zoo.Tensor._make(np.asfortranarray(a))
    np.testing.assert_allclose(to_numpy(F.conv2d(x_nc, zoo.tensor(wa, device=device), padding=1)),
                               to_numpy(F.conv2d(x, zoo.tensor(wa, device=device), padding=1)), rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# oracles
# ----------------------------------------------------------------------------------------------------------------

@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV2D_CASES + [dict(groups=4, padding=1), dict(stride=2, padding=3, dilation=2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_vs_torch(kw, dtype, device):
    g = kw.get("groups", 1)
    tol = dict(atol=1e-10, rtol=1e-10) if dtype == np.float64 else dict(atol=1e-4, rtol=1e-4)
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: tF().conv2d(x, w, b, **kw),
                       arr(2, 4, 9, 8, dtype=dtype), arr(8, 4 // g, 3, 2, seed=1, dtype=dtype),
                       arr(8, seed=2, dtype=dtype), **tol, device=device)


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV1D_CASES)
def test_conv1d_vs_torch(kw, device):
    g = kw.get("groups", 1)
    compare_with_torch(lambda x, w: F.conv1d(x, w, **kw), lambda x, w: tF().conv1d(x, w, **kw),
                       arr(2, 3, 11), arr(6, 3 // g, 4, seed=1), atol=1e-10, device=device)
    compare_with_torch(lambda x, w: F.conv1d(x, w, **kw), lambda x, w: tF().conv1d(x, w, **kw),
                       arr(3, 11), arr(6, 3 // g, 4, seed=1), atol=1e-10, device=device)  # unbatched


@pytest.mark.oracle
@pytest.mark.parametrize("kw", CONVT2D_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_transpose2d_vs_torch(kw, dtype, device):
    g = kw.get("groups", 1)
    tol = dict(atol=1e-10, rtol=1e-10) if dtype == np.float64 else dict(atol=1e-4, rtol=1e-4)
    compare_with_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
                       lambda x, w, b: tF().conv_transpose2d(x, w, b, **kw),
                       arr(2, 4, 5, 6, dtype=dtype), arr(4, 6 // g, 3, 2, seed=1, dtype=dtype),
                       arr(6, seed=2, dtype=dtype), **tol, device=device)


@pytest.mark.oracle
def test_conv_transpose1d_and_3d_vs_torch(device):
    compare_with_torch(lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2),
                       lambda x, w: tF().conv_transpose1d(x, w, stride=3, padding=1, output_padding=2),
                       arr(2, 4, 6), arr(4, 3, 4, seed=1), atol=1e-10, device=device)
    compare_with_torch(lambda x, w: F.conv_transpose1d(x, w, groups=2),
                       lambda x, w: tF().conv_transpose1d(x, w, groups=2),
                       arr(4, 6), arr(4, 3, 4, seed=1), atol=1e-10, device=device)  # unbatched
    compare_with_torch(lambda x, w: F.conv3d(x, w, padding=(1, 0, 1), dilation=(1, 2, 1)),
                       lambda x, w: tF().conv3d(x, w, padding=(1, 0, 1), dilation=(1, 2, 1)),
                       arr(2, 2, 4, 6, 4), arr(3, 2, 2, 2, 3, seed=1), atol=1e-10, device=device)
    compare_with_torch(lambda x, w: F.conv_transpose3d(x, w, stride=2, output_padding=1),
                       lambda x, w: tF().conv_transpose3d(x, w, stride=2, output_padding=1),
                       arr(1, 2, 2, 3, 2), arr(2, 3, 2, 2, 2, seed=1), atol=1e-10, device=device)


@pytest.mark.oracle
def test_conv_unbatched_vs_torch(device):
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, padding="same"),
                       lambda x, w, b: tF().conv2d(x, w, b, padding="same"),
                       arr(3, 6, 5), arr(4, 3, 3, 3, seed=1), arr(4, seed=2), atol=1e-10, device=device)
    compare_with_torch(lambda x, w: F.conv_transpose2d(x, w, stride=2),
                       lambda x, w: tF().conv_transpose2d(x, w, stride=2),
                       arr(3, 4, 5), arr(3, 2, 3, 3, seed=1), atol=1e-10, device=device)


@pytest.mark.oracle
def test_conv_depthwise_and_pointwise_vs_torch(device):
    compare_with_torch(lambda x, w: F.conv2d(x, w, padding=1, groups=6),
                       lambda x, w: tF().conv2d(x, w, padding=1, groups=6),
                       arr(2, 6, 7, 7), arr(12, 1, 3, 3, seed=1), atol=1e-10, device=device)  # depthwise, multiplier 2
    compare_with_torch(lambda x, w: F.conv2d(x, w, groups=6, stride=2),
                       lambda x, w: tF().conv2d(x, w, groups=6, stride=2),
                       arr(2, 6, 7, 7), arr(6, 1, 3, 3, seed=1), atol=1e-10, device=device)  # depthwise
    compare_with_torch(lambda x, w: F.conv2d(x, w), lambda x, w: tF().conv2d(x, w),
                       arr(2, 6, 4, 5), arr(5, 6, 1, 1, seed=1), atol=1e-10, device=device)  # 1x1


@pytest.mark.oracle
@pytest.mark.parametrize("kw", [dict(kernel_size=3),
                                dict(kernel_size=(2, 3), dilation=(2, 1), padding=1, stride=(2, 1))])
def test_unfold_fold_vs_torch(kw, device):
    compare_with_torch(lambda x: F.unfold(x, **kw), lambda x: tF().unfold(x, **kw), arr(2, 3, 7, 6), atol=0,
                       device=device)
    compare_with_torch(lambda x: F.unfold(x, **kw), lambda x: tF().unfold(x, **kw), arr(3, 7, 6), atol=0, device=device)
    L = tF().unfold(pytest.importorskip("torch").zeros(1, 1, 7, 6), **kw).shape[-1]
    k = kw["kernel_size"]
    K = k * k if isinstance(k, int) else k[0] * k[1]
    compare_with_torch(lambda c: F.fold(c, (7, 6), **kw), lambda c: tF().fold(c, (7, 6), **kw),
                       arr(2, 3 * K, L), atol=1e-12, device=device)


# ----------------------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------------------

def _t(*shape, dtype=np.float64):
    return zoo.tensor(np.zeros(shape, dtype))


def test_conv_errors():
    with pytest.raises(RuntimeError, match=r"conv2d: expected input with 6 channels \(weight \(8, 3, 3, 3\), "
                                           r"groups=2\), got 5"):
        F.conv2d(_t(1, 5, 6, 6), _t(8, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="conv2d: expected 3D .* or 4D .* input"):
        F.conv2d(_t(3, 3), _t(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="conv1d: expected a 3-D weight"):
        F.conv1d(_t(1, 3, 5), _t(4, 3))
    with pytest.raises(RuntimeError, match="can't be greater than the padded input size"):
        F.conv2d(_t(1, 3, 2, 2), _t(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="invalid padding string 'full'"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match=r"expected bias of shape \(4,\)"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), _t(3))
    with pytest.raises(RuntimeError, match="same dtype.*float64.*float32"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3, dtype=np.float32))
    with pytest.raises(RuntimeError, match="non-positive stride"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="negative padding"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="non-positive groups"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), groups=0)
    with pytest.raises(RuntimeError, match="multiple of groups=3"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 1, 3, 3), groups=3)
    with pytest.raises(RuntimeError, match="expected stride to be a single integer value or a list of 2"):
        F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), stride=(1, 2, 3))
    with pytest.raises(TypeError, match="conv2d: expected weight to be a Tensor"):
        F.conv2d(_t(1, 3, 5, 5), np.zeros((4, 3, 3, 3)))


def test_conv_transpose_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(_t(1, 4, 5, 5), _t(4, 3, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="conv_transpose2d: expected input with 4 channels"):
        F.conv_transpose2d(_t(1, 5, 5, 5), _t(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="output size .* is too small"):
        F.conv_transpose2d(_t(1, 4, 1, 1), _t(4, 3, 3, 3), padding=2)
    with pytest.raises(TypeError, match="padding must be an int or a tuple"):
        F.conv_transpose2d(_t(1, 4, 5, 5), _t(4, 3, 3, 3), padding="same")
    with pytest.raises(RuntimeError, match=r"expected bias of shape \(6,\)"):
        F.conv_transpose2d(_t(1, 4, 5, 5), _t(4, 3, 3, 3), _t(3), groups=2)


def test_unfold_fold_errors():
    with pytest.raises(RuntimeError, match="unfold: expected a 3-D .* or 4-D"):
        F.unfold(_t(3, 5), 2)
    with pytest.raises(RuntimeError, match="number of sliding blocks .* must be at least one"):
        F.unfold(_t(2, 3, 5, 5), 6)
    with pytest.raises(RuntimeError, match="fold: expected size of input's dimension 1 to be divisible"):
        F.fold(_t(2, 13, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"number of sliding blocks 3 \* 3 = 9, but got 5"):
        F.fold(_t(2, 12, 5), (4, 4), 2)


# ----------------------------------------------------------------------------------------------------------------
# The CPU engine (NumPy, groups == 1): chunked over the batch and run on several threads. Tiny chunks force every
# path (whole padded grid, exact windows, per-tap weight gradient) over several chunks; the batched path
# (one GEMM per sample, as on CuPy) is the reference.
# ----------------------------------------------------------------------------------------------------------------

ENGINE_CASES = [  # (input shape, weight shape, stride, padding (lo, hi) per dim, dilation)
    ((5, 3, 9, 8), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((5, 3, 9, 8), (4, 3, 3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2)),
    ((5, 3, 9, 8), (4, 3, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),
    ((5, 3, 9, 8), (4, 3, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((5, 3, 9, 8), (4, 3, 3, 3), (1, 1), ((3, 3), (2, 0)), (1, 1)),  # padding beyond the kernel: adjoint crops
    ((5, 3, 9, 8), (4, 3, 3, 3), (3, 2), ((2, 2), (1, 1)), (2, 1)),
    ((5, 3, 10, 9), (4, 3, 2, 2), (3, 3), ((0, 0), (1, 0)), (1, 1)),  # stride beyond the kernel: unread inputs
    ((3, 2, 6, 5, 4), (3, 2, 3, 3, 2), (1, 1, 1), ((1, 1), (1, 1), (0, 1)), (1, 1, 1)),
    ((4, 3, 9), (2, 3, 3), (1,), ((1, 1),), (2,)),
]


def _force_tap_gemms(monkeypatch, C, on):
    """Every convolution and adjoint as per-tap GEMMs on phase grids in one-sample chunks (on), or none (off)."""
    monkeypatch.setattr(C, "_TAP_MIN_CHANNELS", 1 if on else 1 << 60)
    monkeypatch.setattr(C, "_TAP_MIN_POSITIONS", 0)
    monkeypatch.setattr(C, "_TAP_MIN_WORK", 0)
    monkeypatch.setattr(C, "_TAP_WASTE", 100.0)
    monkeypatch.setattr(C, "_TAP_CHUNK_BYTES", 64)


# columns on exact windows / columns on the whole padded grid (stride 1) / per-tap GEMMs on phase grids
@pytest.mark.parametrize("path", ["windows", "grid", "taps"])
@pytest.mark.parametrize("case", ENGINE_CASES)
def test_cpu_engine_chunks_match_batched_path(case, path, monkeypatch):
    from zoo.core.nn.functional import conv as C
    if path == "taps" and not _blas.available(np.float64):
        pytest.skip("per-tap GEMMs need NumPy's OpenBLAS")
    monkeypatch.setattr(C, "_CHUNK_BYTES", 64)
    monkeypatch.setattr(C, "_SMALL_GEMM", 1)
    monkeypatch.setattr(C, "_GRID_WASTE", 0.0 if path == "windows" else 100.0)
    monkeypatch.setattr(C, "_WEIGHT_GRID_WASTE", 0.0 if path == "windows" else 100.0)
    _force_tap_gemms(monkeypatch, C, path == "taps")
    xs, ws, stride, pad, dil = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    k = ws[2:]
    lo, hi = [p[0] for p in pad], [p[1] for p in pad]
    out = tuple((s + a + b - d * (kk - 1) - 1) // st + 1 for s, a, b, d, kk, st in zip(xs[2:], lo, hi, dil, k, stride))
    geo = C._Geometry(k, stride, dil, lo, hi, xs[2:], out)
    y = C._cpu_conv(x, w, geo)
    np.testing.assert_allclose(y, C._batched_conv(x, w, geo, 1), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(C._cpu_conv_input_grad(gy, w, geo), C._batched_conv_input_grad(gy, w, geo, 1),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(C._cpu_conv_weight_grad(x, gy, geo, w.shape),
                               C._batched_conv_weight_grad(x, gy, geo, 1, w.shape), rtol=1e-12, atol=1e-12)
    b = rng.standard_normal(ws[0])
    with_bias = y + b.reshape((-1,) + (1,) * len(k))
    np.testing.assert_allclose(C._cpu_conv(x, w, geo, b), with_bias, rtol=1e-12, atol=1e-12)
    if path == "taps":  # the tap engine itself on every geometry (the dispatch sends it stride 1 only)
        np.testing.assert_allclose(C._cpu_conv_taps(x, w, geo, b), with_bias, rtol=1e-12, atol=1e-12)


def test_cpu_engine_grids_share_padding_between_rows():
    """Stride-1 grids hold each row's padding once, shared with the next row: 3x3, padding 1 on 8x8 -> 9x9."""
    from zoo.core.nn.functional import conv as C
    geo = C._Geometry((3, 3), (1, 1), (1, 1), (1, 1), (1, 1), (8, 8), (8, 8))
    assert C._shared_grid_shape(geo) == (9, 9)
    assert C._phase_grid_shape(geo) == (10, 10)


def test_cpu_engine_random_geometries_match_batched_path(monkeypatch):
    """Random geometries (any stride, dilation, padding, cropping) through the per-tap engine, the grid columns
    and the per-tap weight gradient, whose grids share padding between rows: each against the batched path."""
    from zoo.core.nn.functional import conv as C
    if not _blas.available(np.float64):
        pytest.skip("per-tap GEMMs need NumPy's OpenBLAS")
    monkeypatch.setattr(C, "_SMALL_GEMM", 1)
    monkeypatch.setattr(C, "_GRID_WASTE", 100.0)
    monkeypatch.setattr(C, "_WEIGHT_GRID_WASTE", 100.0)
    _force_tap_gemms(monkeypatch, C, False)  # _cpu_conv on the grid columns; the tap engine is called directly
    rng = np.random.default_rng(7)
    tested = 0
    while tested < 60:
        nd = int(rng.integers(1, 4))
        ins, k, d = rng.integers(1, 8, nd), rng.integers(1, 5, nd), rng.integers(1, 3, nd)
        stride, lo, hi = rng.integers(1, 4, nd), rng.integers(-1, 4, nd), rng.integers(-1, 4, nd)
        out = (ins + lo + hi - d * (k - 1) - 1) // stride + 1
        if (out < 1).any():
            continue
        tested += 1
        geo = C._Geometry(tuple(k), tuple(stride), tuple(d), list(lo), list(hi), tuple(ins), tuple(out))
        monkeypatch.setattr(C, "_TAP_CHUNK_BYTES", int(rng.choice([64, 1 << 30])))
        x, w = rng.standard_normal((3, 2) + tuple(ins)), rng.standard_normal((3, 2) + tuple(k))
        gy = rng.standard_normal((3, 3) + tuple(out))
        np.testing.assert_allclose(C._cpu_conv_taps(x, w, geo), C._batched_conv(x, w, geo, 1), atol=1e-10)
        if min(lo.min(), hi.min()) >= 0:  # (the reference, col2im, takes no negative padding)
            np.testing.assert_allclose(C._cpu_conv_taps_input_grad(gy, w, geo),
                                       C._batched_conv_input_grad(gy, w, geo, 1), atol=1e-10)
        np.testing.assert_allclose(C._cpu_conv(x, w, geo), C._batched_conv(x, w, geo, 1), atol=1e-10)
        np.testing.assert_allclose(C._cpu_conv_weight_grad(x, gy, geo, w.shape),
                                   C._batched_conv_weight_grad(x, gy, geo, 1, w.shape), atol=1e-10)


@pytest.mark.skipif(not _blas.available(np.float32), reason="per-tap GEMMs need NumPy's OpenBLAS")
def test_cpu_engine_tap_gemms_float32_in_chunks_and_threads(monkeypatch):
    """The per-tap path in float32, a batch split over chunks on the worker threads, against the columns path."""
    from zoo.core.nn.functional import conv as C
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 8, 12, 10)).astype(np.float32)
    w = rng.standard_normal((5, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    geo = C._conv_geometry("conv2d", 2, x.shape, w.shape, b.shape, (1, 1), (1, 1), (1, 1), 1, None)[0]
    _force_tap_gemms(monkeypatch, C, False)
    ref = C._cpu_conv(x, w, geo, b)
    _force_tap_gemms(monkeypatch, C, True)
    monkeypatch.setattr(C, "_TAP_CHUNK_BYTES", 2 * (8 + 5) * 14 * 12 * 4)  # two samples per chunk
    got = C._cpu_conv(x, w, geo, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("chunk_bytes", [64, 1 << 30])  # one sample per chunk / one chunk per thread
def test_cpu_engine_weight_grad_sums_runs_of_samples(chunk_bytes, monkeypatch):
    """The per-tap weight gradient: chunks of samples, each summed over several small GEMMs (one per sample
    here), against the batched path."""
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_SMALL_GEMM", 1)
    monkeypatch.setattr(C, "_WEIGHT_GRID_WASTE", 100.0)
    monkeypatch.setattr(C, "_TAP_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(5)
    x, gy = rng.standard_normal((7, 3, 6, 5)), rng.standard_normal((7, 4, 6, 5))
    geo = C._Geometry((3, 3), (1, 1), (1, 1), (1, 1), (1, 1), (6, 5), (6, 5))
    np.testing.assert_allclose(C._cpu_conv_weight_grad(x, gy, geo, (4, 3, 3, 3)),
                               C._batched_conv_weight_grad(x, gy, geo, 1, (4, 3, 3, 3)), rtol=1e-12, atol=1e-12)


def test_cpu_engine_weight_grad_with_inf_input_is_exact(monkeypatch):
    """The per-tap weight gradient reads positions off the valid grid (paired with zero gradients); an inf
    there must not turn into a nan that the exact computation does not have."""
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_SMALL_GEMM", 1)
    monkeypatch.setattr(C, "_WEIGHT_GRID_WASTE", 100.0)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
    x[1, 0, 1, 0] = np.inf  # also read, for tap (0, 1), by grid position (0, 4): off the valid 3 x 3 outputs
    geo = C._Geometry((3, 3), (1, 1), (1, 1), (0, 0), (0, 0), (5, 5), (3, 3))
    gy = rng.standard_normal((3, 2, 3, 3))
    ref = C._batched_conv_weight_grad(x, gy, geo, 1, w.shape)
    got = C._cpu_conv_weight_grad(x, gy, geo, w.shape)
    assert np.isfinite(ref[:, 1]).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[:, 1], ref[:, 1], rtol=1e-12)


def test_cpu_engine_threads_give_the_same_result(monkeypatch):
    """Chunks on one thread or several: identical results (fixed chunking, partial sums in chunk order)."""
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_CHUNK_BYTES", 4096)
    _same_on_one_and_two_threads((8, 3, 10, 10), (5, 3, 3, 3), dict(padding=1))


def _same_on_one_and_two_threads(x_shape, w_shape, kw):
    """conv2d's output and gradients computed with one and with two threads agree."""
    x = zoo.tensor(np.random.default_rng(2).standard_normal(x_shape).astype(np.float32), requires_grad=True)
    w = zoo.tensor(np.random.default_rng(3).standard_normal(w_shape).astype(np.float32), requires_grad=True)
    results = []
    before = zoo.get_num_threads()
    try:
        for n in (1, 2):
            zoo.set_num_threads(n)
            x.grad = w.grad = None
            y = F.conv2d(x, w, **kw)
            (y * y).sum().backward()
            results.append((y.detach().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()))
    finally:
        zoo.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------------------------------------
# The CPU depthwise engine (groups == in_channels, any channel multiplier): per-tap multiply-adds on polyphase
# grids, in a planes-first or a planes-last layout, over chunks of planes and blocks of positions.
# ----------------------------------------------------------------------------------------------------------------

DEPTHWISE_CASES = [  # (nd, stride, padding, dilation, multiplier, kernel)
    (2, 1, 1, 1, 1, 3), (2, 2, 1, 1, 1, 3), (2, 2, 0, 1, 2, 3), (2, 1, 2, 2, 1, 3), (2, 2, 2, 2, 3, 3),
    (2, 3, 1, 1, 1, 2), (2, 2, 3, 1, 1, 5), (2, 2, 0, 1, 1, 1), (2, (2, 1), (1, 0), (1, 2), 2, 2),
    (1, 1, 1, 1, 1, 3), (1, 2, 1, 1, 2, 3), (1, 3, 2, 2, 1, 3), (3, (1, 2, 1), 1, 1, 2, 2),
    (2, 2, 2, 2, 1, 3), (2, (1, 3), (0, 2), (1, 2), 1, 3), (3, (1, 1, 2), 1, (1, 1, 2), 1, 3),
    (2, 1, (3, 1), 1, 1, 3), (1, 1, 3, 1, 1, 2),  # unstrided, padding beyond the kernel: the adjoint crops
]


def _depthwise_args(case, dtype=np.float64):
    nd, stride, padding, dilation, m, k = case
    x = arr(*(2, 3) + ((7,), (6, 5), (4, 4, 3))[nd - 1], dtype=dtype)
    w = arr(*(3 * m, 1) + (k,) * nd, seed=1, dtype=dtype)
    return nd, dict(stride=stride, padding=padding, dilation=dilation, groups=3), x, w


@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize("case", DEPTHWISE_CASES)
def test_depthwise_grad(case, last, monkeypatch, device):
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_DW_LAST", 10 ** 9 if last else 0)
    monkeypatch.setattr(C, "_DW_BLOCK", 24)  # several blocks of positions and chunks of planes
    monkeypatch.setattr(C, "_DW_CHUNK", 60)
    nd, kw, x, w = _depthwise_args(case)
    conv = getattr(F, f"conv{nd}d")
    check_grad(lambda x, w, b: conv(x, w, b, **kw), x, w, arr(w.shape[0], seed=2), device=device)


@pytest.mark.parametrize("last", [False, True])
@pytest.mark.parametrize("case", DEPTHWISE_CASES)
def test_depthwise_forward_matches_the_batched_path(case, last, monkeypatch):
    """The CPU engine's values (planes last: one einsum per block of output rows) against the generic im2col path."""
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_DW_LAST", 10 ** 9 if last else 0)
    monkeypatch.setattr(C, "_DW_BLOCK", 24)
    monkeypatch.setattr(C, "_DW_CHUNK", 60)
    nd, kw, x, w = _depthwise_args(case)
    conv = getattr(F, f"conv{nd}d")
    got = conv(zoo.tensor(x), zoo.tensor(w), **kw).numpy()
    monkeypatch.setattr(C, "_depthwise", lambda groups, w_shape: False)  # force the batched path
    np.testing.assert_allclose(got, conv(zoo.tensor(x), zoo.tensor(w), **kw).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [(2, 1, 1, 1, 1, 3), (2, 2, 1, 2, 1, 3), (1, 3, 1, 1, 1, 4)])
def test_depthwise_transposed_grad(case, device):
    nd, kw, x, _ = _depthwise_args(case)
    w = arr(*(3, 1) + (case[5],) * nd, seed=1)
    kw.pop("padding")
    convt = getattr(F, f"conv_transpose{nd}d")
    check_grad(lambda x, w: convt(x, w, padding=1, **kw), x, w, device=device)


@pytest.mark.parametrize("last", [False, True])
def test_depthwise_weight_grad_with_inf_input_is_exact(last, monkeypatch):
    """Extra grid columns pair zero gradients with input values: an inf there must not give a nan."""
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_DW_LAST", 10 ** 9 if last else 0)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 1, 3, 3))
    x[1, 0, 1, 0] = np.inf  # also read at extra grid columns (zero gradient there): the chunk is redone exactly
    geo = C._Geometry((3, 3), (1, 1), (1, 1), (0, 0), (0, 0), (5, 5), (3, 3))
    gy = rng.standard_normal((2, 3, 3, 3))
    ref = C._batched_conv_weight_grad(x, gy, geo, 3, w.shape)
    got = C._cpu_depthwise_weight_grad(x, gy, geo, w.shape)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[1:], ref[1:], rtol=1e-12)


def test_depthwise_threads_give_the_same_result(monkeypatch):
    from zoo.core.nn.functional import conv as C
    monkeypatch.setattr(C, "_DW_CHUNK", 64)
    monkeypatch.setattr(C, "_DW_BLOCK", 64)
    monkeypatch.setattr(C, "_DW_PARALLEL", 0)  # threads even for this small input
    _same_on_one_and_two_threads((4, 6, 10, 10), (12, 1, 3, 3), dict(stride=2, padding=1, groups=6))


def test_pointwise_conv_grad(device):
    """1x1 kernels without padding are one GEMM per sample (strided: on the subsampled input)."""
    check_grad(lambda x, w, b: F.conv2d(x, w, b), arr(3, 4, 5, 3), arr(2, 4, 1, 1, seed=1), arr(2, seed=2),
               device=device)
    check_grad(lambda x, w: F.conv2d(x, w, stride=2), arr(2, 4, 5, 3), arr(2, 4, 1, 1, seed=1), device=device)
    check_grad(lambda x, w: F.conv1d(swap_last(x), w), arr(2, 5, 3), arr(4, 3, 1, seed=1), device=device)


@pytest.mark.oracle
@pytest.mark.parametrize("case", DEPTHWISE_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_depthwise_vs_torch(case, dtype, device):
    nd, kw, x, w = _depthwise_args(case, dtype)
    tol = dict(atol=1e-10, rtol=1e-10) if dtype == np.float64 else dict(atol=1e-4, rtol=1e-4)
    compare_with_torch(lambda x, w: getattr(F, f"conv{nd}d")(x, w, **kw),
                       lambda x, w: getattr(tF(), f"conv{nd}d")(x, w, **kw), x, w, **tol, device=device)


@pytest.mark.oracle
def test_depthwise_large_planes_vs_torch(device):
    """Planes-first layout (long runs) at EfficientNet's sizes, float32, stride 1 and 2."""
    for stride in (1, 2):
        compare_with_torch(lambda x, w: F.conv2d(x, w, stride=stride, padding=2, groups=4),
                           lambda x, w: tF().conv2d(x, w, stride=stride, padding=2, groups=4),
                           arr(2, 4, 64, 48, dtype=np.float32), arr(4, 1, 5, 5, seed=1, dtype=np.float32),
                           atol=1e-4, rtol=1e-4, device=device)


@pytest.mark.oracle
def test_hardtanh_relu6_gradient_at_the_bounds_vs_torch(device):
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 5.9, 6.0, 7.0])
    compare_with_torch(lambda x: F.relu6(x), lambda x: tF().relu6(x), x, device=device)
    compare_with_torch(lambda x: F.hardtanh(x, -1.0, 1.0), lambda x: tF().hardtanh(x, -1.0, 1.0), x, device=device)


@pytest.mark.parametrize("stride,groups", [(2, 1), (2, 3), (1, 3), (3, 1)])
def test_asymmetric_padding_equals_padding_the_input_first(stride, groups, device):
    """zoo-internal ``padding_hi`` (TensorFlow's "SAME" padding of strided convolutions) == F.pad, then conv."""
    from zoo.core.nn.functional.conv import _convnd
    x = zoo.tensor(arr(2, 3, 9, 8), device=device, requires_grad=True)
    w = zoo.tensor(arr(6 if groups == 1 else 3, 3 // groups, 3, 3, seed=1), device=device, requires_grad=True)
    b = zoo.tensor(arr(w.shape[0], seed=2), device=device)
    got = _convnd("conv2d", 2, x, w, b, stride, (0, 1), 1, groups, padding_hi=(2, 0))
    want = F.conv2d(F.pad(x, (1, 0, 0, 2)), w, b, stride, 0, 1, groups)
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=1e-12, atol=1e-12)
    g = zoo.tensor(arr(*got.shape, seed=3), device=device)
    gx, gw = zoo.autograd.grad(got, (x, w), g)
    wx, ww = zoo.autograd.grad(want, (x, w), g)
    np.testing.assert_allclose(to_numpy(gx), to_numpy(wx), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gw), to_numpy(ww), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cin,cout", [(3, 8), (8, 3)])  # expanding: bias as a weight column; else added after
def test_pointwise_conv_with_bias_matches_the_batched_path(cin, cout, monkeypatch):
    from zoo.core.nn.functional import conv as C
    x, w, b = arr(3, cin, 5, 4), arr(cout, cin, 1, 1, seed=1), arr(cout, seed=2)
    got = F.conv2d(zoo.tensor(x), zoo.tensor(w), zoo.tensor(b)).numpy()
    monkeypatch.setattr(C, "_cpu_conv", lambda x, w, geo, bias=None: C._batched_conv(x, w, geo, 1)
                        + (0 if bias is None else bias.reshape(1, -1, 1, 1)))
    np.testing.assert_allclose(got, F.conv2d(zoo.tensor(x), zoo.tensor(w), zoo.tensor(b)).numpy(), rtol=1e-12,
                               atol=1e-12)


def _channels_last(t):
    """The same values stored channels last: (N, *spatial, C) in memory, shape (N, C, *spatial)."""
    nd = t.ndim
    return t.permute(0, *range(2, nd), 1).contiguous().permute(0, nd - 1, *range(1, nd - 1))


@pytest.mark.parametrize("case", DEPTHWISE_CASES)
def test_channels_last_depthwise_and_pointwise_keep_the_layout(case, monkeypatch):
    """Channels-last inputs take the engines' channels-last paths: same values as the generic path, and the
    output stays channels last (so a chain of layers needs no transposing copies)."""
    from zoo.core.nn.functional import conv as C
    nd, kw, x, w = _depthwise_args(case)
    conv = getattr(F, f"conv{nd}d")
    xc, b = _channels_last(zoo.tensor(x)), zoo.tensor(arr(w.shape[0], seed=2))
    assert C.channels_last(xc._data)
    got = conv(xc, zoo.tensor(w), b, **kw)
    pw, narrow = arr(5, 3, *(1,) * nd, seed=3), arr(2, 3, *(1,) * nd, seed=5)  # expanding (bias as a weight row)
    got_pw = conv(xc, zoo.tensor(pw), zoo.tensor(arr(5, seed=4)))
    got_narrow = conv(xc, zoo.tensor(narrow), zoo.tensor(arr(2, seed=6)))
    if w.shape[0] == 3:  # one weight per channel: the channels-last depthwise path
        assert C.channels_last(got._data)
    assert C.channels_last(got_pw._data) and C.channels_last(got_narrow._data)
    monkeypatch.setattr(C, "_depthwise", lambda groups, w_shape: False)  # the generic path, on a plain copy
    monkeypatch.setattr(C, "channels_last", lambda a: False)
    x0 = zoo.tensor(x)
    np.testing.assert_allclose(got.numpy(), conv(x0, zoo.tensor(w), b, **kw).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_pw.numpy(), conv(x0, zoo.tensor(pw), zoo.tensor(arr(5, seed=4))).numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_narrow.numpy(), conv(x0, zoo.tensor(narrow), zoo.tensor(arr(2, seed=6))).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_channels_last_input_gradients():
    x = _channels_last(zoo.tensor(arr(2, 4, 6, 5)))
    w, pw = arr(4, 1, 3, 3, seed=1), arr(6, 4, 1, 1, seed=2)
    check_grad(lambda x, w: F.conv2d(x, w, padding=1, stride=2, groups=4), x.numpy(), w)
    check_grad(lambda x, w: F.conv2d(_channels_last(x), w, padding=1, groups=4), x.numpy(), w)
    check_grad(lambda x, w: F.conv2d(_channels_last(x), w), x.numpy(), pw)
