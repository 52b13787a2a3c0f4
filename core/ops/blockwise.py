"""Fused elementwise chains on the CPU: run ``fn`` over cache-sized blocks, on several threads.

A chain of NumPy ufuncs (erfc's polynomial, GELU's gradient) makes one pass over memory per ufunc; on
blocks that fit in L2 the passes hit the cache instead, and NumPy releases the GIL inside ufuncs, so the
blocks run in parallel. On CuPy arrays ``fn`` runs once on the whole arrays (the GPU needs no blocking).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..device import array_module

_BLOCK = 1 << 16  # elements per block: 256 KiB of float32, a few live temporaries stay in L2
_pool = [None, 0]  # (executor, its thread count)


def set_threads(n):
    """Threads used for blockwise work (``zoo.set_num_threads`` sets it together with the BLAS threads)."""
    _pool[1] = max(1, int(n))
    if _pool[0]:
        _pool[0].shutdown(wait=False)
    _pool[0] = None


def _executor():
    if _pool[0] is None:
        if not _pool[1]:
            _pool[1] = min(os.cpu_count() or 1, 8)
        _pool[0] = ThreadPoolExecutor(_pool[1], thread_name_prefix="zoo-blockwise") if _pool[1] > 1 else False
    return _pool[0]


def blockwise(fn, *arrays, n_out=1, dtypes=None):
    """``fn(xp, *blocks)`` → one array (or ``n_out`` arrays) of the blocks' size, for same-shape ``arrays``.

    Returns the full-size result(s) with the first array's shape; output dtypes default to the first
    array's dtype (or ``dtypes``, one per output)."""
    first = arrays[0]
    xp = array_module(first)
    if xp is not np or first.size <= _BLOCK:
        return fn(xp, *arrays)
    shape = first.shape
    flats = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    dtypes = dtypes or [first.dtype] * n_out
    outs = [np.empty(first.size, d) for d in dtypes]

    def work(start):
        stop = start + _BLOCK
        result = fn(np, *(f[start:stop] for f in flats))
        if n_out == 1:
            outs[0][start:stop] = result
        else:
            for o, r in zip(outs, result):
                o[start:stop] = r

    starts = range(0, first.size, _BLOCK)
    pool = _executor()
    if pool:
        for f in [pool.submit(work, s) for s in starts]:
            f.result()
    else:
        for s in starts:
            work(s)
    outs = [o.reshape(shape) for o in outs]
    return outs[0] if n_out == 1 else tuple(outs)
