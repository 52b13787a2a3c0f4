"""Fused elementwise chains on the CPU: run ``fn`` over cache-sized blocks, on several threads.

A chain of NumPy ufuncs (erfc's polynomial, GELU's gradient) makes one pass over memory per ufunc; on
blocks that fit in L2 the passes hit the cache instead, and NumPy releases the GIL inside ufuncs, so the
blocks run in parallel. With zoo's helper process on (``zoo.core.parallel``), half of the blocks run there
instead. On CuPy arrays ``fn`` runs once on the whole arrays (the GPU needs no blocking).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import parallel
from ..device import array_module

_BLOCK = 1 << 16  # elements per block: 256 KiB of float32, a few live temporaries stay in L2
_pool = [None, 0]  # (executor, its thread count)
# Whether blockwise() spreads its blocks over the pool. Off by default: each ufunc on a block takes only
# 5-30 µs and NumPy drops and retakes the GIL around every one, so two threads mostly hand the GIL back and
# forth (and compete with BLAS's worker threads): measured on 2 cores, GELU on (768, 512) takes 1.3 ms on two
# threads vs 1.0 ms on one, and the char transformer's step 57 vs 53 ms. run_chunks (conv, batch norm), whose
# chunks are whole GEMMs, still uses the pool. ``set_elementwise_threads(True)`` turns it back on.
_threaded = [False]


def set_elementwise_threads(on):
    """Run blockwise()'s blocks on the pool's threads (True) or serially on the calling thread (False)."""
    _threaded[0] = bool(on)


def set_threads(n):
    """Threads used for blockwise work (``zoo.set_num_threads`` sets it together with the BLAS threads)."""
    _pool[1] = max(1, int(n))
    if _pool[0]:
        _pool[0].shutdown(wait=False)
    _pool[0] = None


def _default_threads():
    """OMP_NUM_THREADS when it is a positive integer (as PyTorch and OpenBLAS read it), else the cores, at most 8."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return n if n > 0 else min(os.cpu_count() or 1, 8)


def _executor():
    if _pool[0] is None:
        if not _pool[1]:
            _pool[1] = _default_threads()
        _pool[0] = ThreadPoolExecutor(_pool[1], thread_name_prefix="zoo-blockwise") if _pool[1] > 1 else False
    return _pool[0]


def blockwise(fn, *arrays, n_out=1, dtypes=None, into=False):
    """``fn(xp, *blocks)`` → one array (or ``n_out`` arrays) of the blocks' size, for same-shape ``arrays``.

    Returns the full-size result(s) with the first array's shape; output dtypes default to the first
    array's dtype (or ``dtypes``, one per output). With ``into=True``, ``fn(xp, *blocks, *out_blocks)``
    writes its results into the given output blocks (no copy of a returned block)."""
    first = arrays[0]
    xp = array_module(first)
    dtypes = dtypes or [first.dtype] * n_out
    if xp is not np or first.size <= _BLOCK:
        if not into:
            return fn(xp, *arrays)
        outs = [xp.empty(first.shape, d) for d in dtypes]
        fn(xp, *arrays, *outs)
        return outs[0] if n_out == 1 else tuple(outs)
    shape = first.shape
    n_blocks = -(-first.size // _BLOCK)
    if parallel.is_enabled():  # halves on this process and the helper, the arrays in shared memory
        flats = [parallel.shared(np.ascontiguousarray(a).reshape(-1)) for a in arrays]
        outs = [parallel.empty(first.size, d) for d in dtypes]
        parallel.split(_run_blocks, n_blocks, fn, into, len(flats), *flats, *outs)
    else:
        flats = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
        outs = [np.empty(first.size, d) for d in dtypes]
        pool = _executor() if _threaded[0] else None
        if pool:
            for f in [pool.submit(_run_blocks, i, i + 1, fn, into, len(flats), *flats, *outs)
                      for i in range(n_blocks)]:
                f.result()
        else:
            _run_blocks(0, n_blocks, fn, into, len(flats), *flats, *outs)
    outs = [o.reshape(shape) for o in outs]
    return outs[0] if n_out == 1 else tuple(outs)


def _run_blocks(first, last, fn, into, n_in, *arrays):
    """Blocks ``first`` to ``last - 1`` of blockwise(): ``arrays`` are the flat inputs, then the flat outputs."""
    flats, outs = arrays[:n_in], arrays[n_in:]
    for start in range(first * _BLOCK, min(last * _BLOCK, flats[0].size), _BLOCK):
        stop = start + _BLOCK
        if into:
            fn(np, *(f[start:stop] for f in flats), *(o[start:stop] for o in outs))
            continue
        result = fn(np, *(f[start:stop] for f in flats))
        if len(outs) == 1:
            outs[0][start:stop] = result
        else:
            for o, r in zip(outs, result):
                o[start:stop] = r
