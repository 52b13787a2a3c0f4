"""The in-place GEMM on NumPy's BLAS (core/_blas.py): products on strided and transposed views, accumulation,
and clear errors for operands BLAS cannot take."""
import numpy as np
import pytest

from zoo.core import _blas

pytestmark = pytest.mark.skipif(not _blas.available(np.float32), reason="NumPy is not built on OpenBLAS")


def _operand(rng, shape, dtype, layout):
    """A (rows, cols) view: row-major, column-major, or row-major inside a wider buffer."""
    if layout == "rows":
        return rng.standard_normal(shape).astype(dtype)
    if layout == "columns":
        return np.asfortranarray(rng.standard_normal(shape).astype(dtype))
    return rng.standard_normal((shape[0], shape[1] + 3)).astype(dtype)[:, 2:2 + shape[1]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_layout", ["rows", "columns", "wide"])
@pytest.mark.parametrize("b_layout", ["rows", "columns", "wide"])
def test_gemm_matches_numpy(dtype, a_layout, b_layout):
    rng = np.random.default_rng(0)
    a = _operand(rng, (6, 5), dtype, a_layout)
    b = _operand(rng, (5, 7), dtype, b_layout)
    out = np.full((6, 7), np.nan, dtype)  # overwritten, never read, without accumulate
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_blas.gemm(a, b, out), a @ b, rtol=tol, atol=tol)
    start = rng.standard_normal((6, 7)).astype(dtype)
    acc = start.copy()
    _blas.gemm(a, b, acc, accumulate=True)
    np.testing.assert_allclose(acc, start + a @ b, rtol=tol, atol=tol)


def test_gemm_writes_into_a_view_of_a_larger_output():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    big = np.zeros((5, 6))
    _blas.gemm(a, b, big[1:4, 2:4])
    np.testing.assert_allclose(big[1:4, 2:4], a @ b, rtol=1e-12)
    assert not big[0].any() and not big[4].any() and not big[:, :2].any() and not big[:, 4:].any()


def test_gemm_empty_inner_dimension():
    a, b = np.zeros((3, 0), np.float32), np.zeros((0, 2), np.float32)
    out = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(_blas.gemm(a, b, out, accumulate=True), np.ones((3, 2)))
    np.testing.assert_array_equal(_blas.gemm(a, b, out), np.zeros((3, 2)))


def test_gemm_errors():
    a, b, out = np.ones((3, 4), np.float32), np.ones((4, 2), np.float32), np.empty((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"shapes \(3, 4\) @ \(4, 3\)"):
        _blas.gemm(a, np.ones((4, 3), np.float32), out)
    with pytest.raises(TypeError, match="dtypes differ"):
        _blas.gemm(a, b.astype(np.float64), out)
    with pytest.raises(TypeError, match="no BLAS function for dtype float16"):
        _blas.gemm(a.astype(np.float16), b.astype(np.float16), out.astype(np.float16))
    with pytest.raises(ValueError, match="a of shape .* is not a BLAS matrix"):
        _blas.gemm(np.ones((3, 8), np.float32)[:, ::2], b, out)
    with pytest.raises(ValueError, match="out .* must be row-major"):
        _blas.gemm(a, b, np.empty((2, 3), np.float32).T)
    with pytest.raises(ValueError, match="2-D"):
        _blas.gemm(a[None], b, out)
    square = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        _blas.gemm(square, square, square)
    readonly = np.empty((3, 2), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _blas.gemm(a, b, readonly)
