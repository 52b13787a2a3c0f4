"""Blockwise elementwise evaluation gives the same numbers as one whole-array pass."""
import os

import numpy as np

from zoo.core.ops.blockwise import _threaded, blockwise, set_elementwise_threads, set_threads


def _chain(xp, a, b):
    r = a * b
    r += xp.exp(-a)
    return r


def test_blockwise_equals_whole_array_on_every_thread_count():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 70001)).astype(np.float32)  # not a multiple of the block size
    b = rng.standard_normal((3, 70001)).astype(np.float32)
    expected = _chain(np, a, b)
    was = _threaded[0]
    try:
        for on in (False, True):
            set_elementwise_threads(on)
            for threads in (1, 2, 3):
                set_threads(threads)
                np.testing.assert_array_equal(blockwise(_chain, a, b), expected)
    finally:
        set_elementwise_threads(was)
        set_threads(2)


def _chain_into(xp, a, b, out, out2):
    xp.multiply(a, b, out=out)
    out += xp.exp(-a)
    xp.negative(out, out=out2)


def test_blockwise_into_writes_outputs_in_place():
    rng = np.random.default_rng(2)
    for shape in [(), (5,), (3, 70001)]:
        a = np.asarray(rng.standard_normal(shape), np.float32)
        b = np.asarray(rng.standard_normal(shape), np.float32)
        r, r2 = blockwise(_chain_into, a, b, n_out=2, into=True)
        np.testing.assert_array_equal(r, _chain(np, a, b))
        np.testing.assert_array_equal(r2, -_chain(np, a, b))
        assert r.shape == r2.shape == a.shape and r.dtype == np.float32


def test_blockwise_several_outputs_and_non_contiguous_inputs():
    a = np.random.default_rng(1).standard_normal((400, 600)).T  # Fortran-ordered view
    s, c = blockwise(lambda xp, x: (xp.sin(x), xp.cos(x)), a, n_out=2)
    np.testing.assert_array_equal(s, np.sin(a))
    np.testing.assert_array_equal(c, np.cos(a))
    assert s.shape == a.shape


def test_default_thread_count_follows_omp_num_threads(monkeypatch):
    """Like PyTorch (and OpenBLAS), zoo's worker threads default to OMP_NUM_THREADS when it is set."""
    from zoo.core.ops.blockwise import _default_threads
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _default_threads() == 3
    for bad in ("", "0", "two"):
        monkeypatch.setenv("OMP_NUM_THREADS", bad)
        assert _default_threads() == min(os.cpu_count() or 1, 8)
