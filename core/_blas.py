"""GEMM that accumulates in place, C = A·B (+ C), on strided views: the BLAS behind NumPy, called directly.

NumPy's matmul always writes a fresh product. A convolution written as a sum of GEMMs, one per kernel tap, each
reading a shifted view of the padded input, needs C += A·B; BLAS does that in place (beta = 1) and reads the
views where they lie, so no column matrix is copied out. The library is the OpenBLAS that NumPy loaded, found by
threadpoolctl together with its symbol affixes (NumPy's wheels name it ``scipy_cblas_sgemm64_``). One small
product is checked against NumPy on first use; without such a library, or if the check fails, ``available()``
is False and callers keep their NumPy path.
"""
import ctypes

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_state = {}


def _load():
    """{dtype: the cblas ?gemm function} of NumPy's OpenBLAS, or {} when there is none to call."""
    try:
        from threadpoolctl import ThreadpoolController
        blas = ThreadpoolController().select(internal_api="openblas").lib_controllers
    except Exception:  # threadpoolctl missing or unable to inspect this process: keep NumPy's path
        return {}
    if not blas:
        return {}
    lib = blas[0]
    prefix, suffix = getattr(lib, "_symbol_prefix", ""), getattr(lib, "_symbol_suffix", "")
    config = getattr(lib.dynlib, f"{prefix}openblas_get_config{suffix}", None)
    if config is None:
        return {}
    config.restype = ctypes.c_char_p
    # the integer width of the interface, from the build's own configuration (NumPy's wheels: USE64BITINT)
    index = ctypes.c_int64 if b"USE64BITINT" in (config() or b"") else ctypes.c_int
    found = {}
    for dtype, letter, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double)):
        fn = getattr(lib.dynlib, f"{prefix}cblas_{letter}gemm{suffix}", None)
        if fn is None:
            continue
        fn.restype = None
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, scalar, ctypes.c_void_p,
                       index, ctypes.c_void_p, index, scalar, ctypes.c_void_p, index]
        found[np.dtype(dtype)] = fn
    return found


def _passes_self_test():
    """One small product per dtype, with a strided and a column-major operand, against NumPy."""
    rng = np.random.default_rng(0)
    for dtype in _state["fns"]:
        a = rng.standard_normal((5, 7)).astype(dtype)
        b = rng.standard_normal((7, 9)).astype(dtype)[:, 1:7]  # leading stride 9 over a width of 6
        c0 = rng.standard_normal((5, 6)).astype(dtype)
        c, d = c0.copy(), np.empty((5, 6), dtype)
        gemm(np.asfortranarray(a), b, c, accumulate=True)
        gemm(a, b, d)
        if not (np.allclose(c, c0 + a @ b, rtol=1e-4, atol=1e-5) and np.allclose(d, a @ b, rtol=1e-4, atol=1e-5)):
            return False
    return True


def _functions():
    if "fns" not in _state:
        _state["fns"] = _load()
        if _state["fns"] and not _passes_self_test():
            _state["fns"] = {}
    return _state["fns"]


def available(dtype):
    """Whether ``gemm`` runs on BLAS for arrays of ``dtype`` (float32 and float64 with NumPy's OpenBLAS)."""
    return np.dtype(dtype) in _functions()


def _layout(a, name):
    """(transpose flag, leading dimension) of a 2-D view for row-major BLAS, or a ValueError naming ``name``."""
    item = a.itemsize
    rows, cols = a.shape
    s0, s1 = a.strides
    if (s1 == item or cols == 1) and s0 % item == 0 and s0 // item >= max(cols, 1):
        return _NO_TRANS, s0 // item
    if (s0 == item or rows == 1) and s1 % item == 0 and s1 // item >= max(rows, 1):
        return _TRANS, s1 // item
    if rows <= 1 and cols <= 1:
        return _NO_TRANS, 1
    raise ValueError(f"gemm: {name} of shape {a.shape} and strides {a.strides} is not a BLAS matrix "
                     "(one axis must have unit stride)")


def gemm(a, b, out, accumulate=False):
    """``out = a @ b``, or ``out += a @ b`` with ``accumulate``, in place on 2-D NumPy views of one float dtype
    (BLAS operands: one unit-stride axis each; ``out`` row-major)."""
    fn = _functions().get(out.dtype)
    if fn is None:
        raise TypeError(f"gemm: no BLAS function for dtype {out.dtype}")
    if not (a.dtype == b.dtype == out.dtype):
        raise TypeError(f"gemm: dtypes differ: a {a.dtype}, b {b.dtype}, out {out.dtype}")
    if a.ndim != 2 or b.ndim != 2 or out.ndim != 2:
        raise ValueError(f"gemm: expected 2-D operands, got shapes {a.shape}, {b.shape}, {out.shape}")
    (m, k), (k2, n) = a.shape, b.shape
    if k != k2 or out.shape != (m, n):
        raise ValueError(f"gemm: shapes {a.shape} @ {b.shape} do not give out's shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError("gemm: out is read-only")
    if np.may_share_memory(out, a) or np.may_share_memory(out, b):
        raise ValueError("gemm: out overlaps an operand (BLAS would read what it has overwritten)")
    trans_out, ldc = _layout(out, "out")
    if trans_out != _NO_TRANS:
        raise ValueError(f"gemm: out of strides {out.strides} must be row-major")
    if m == 0 or n == 0:
        return out
    if k == 0:
        if not accumulate:
            out[...] = 0
        return out
    ta, lda = _layout(a, "a")
    tb, ldb = _layout(b, "b")
    fn(_ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 1.0 if accumulate else 0.0,
       out.ctypes.data, ldc)
    return out
