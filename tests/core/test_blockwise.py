"""Blockwise elementwise evaluation gives the same numbers as one whole-array pass."""
import numpy as np

from zoo.core.ops.blockwise import blockwise, set_threads


def _chain(xp, a, b):
    r = a * b
    r += xp.exp(-a)
    return r


def test_blockwise_equals_whole_array_on_every_thread_count():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 70001)).astype(np.float32)  # not a multiple of the block size
    b = rng.standard_normal((3, 70001)).astype(np.float32)
    expected = _chain(np, a, b)
    for threads in (1, 2, 3):
        set_threads(threads)
        np.testing.assert_array_equal(blockwise(_chain, a, b), expected)
    set_threads(2)


def test_blockwise_several_outputs_and_non_contiguous_inputs():
    a = np.random.default_rng(1).standard_normal((400, 600)).T  # Fortran-ordered view
    s, c = blockwise(lambda xp, x: (xp.sin(x), xp.cos(x)), a, n_out=2)
    np.testing.assert_array_equal(s, np.sin(a))
    np.testing.assert_array_equal(c, np.cos(a))
    assert s.shape == a.shape
