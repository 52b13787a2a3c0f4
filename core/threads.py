"""Thread control: ``zoo.set_num_threads`` sets the BLAS threads (via threadpoolctl) and zoo's blockwise
elementwise threads; ``zoo.get_num_threads`` reads the BLAS setting (or the helper process's, see
``zoo.core.parallel``). Until it is called, both follow
``OMP_NUM_THREADS`` when that is set (as in PyTorch), else the number of cores (at most 8 for zoo's own)."""
import contextlib
import os

_limits = [None]
_requested = [None, None]  # the last set_num_threads value; the default count, once read


def _controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def set_num_threads(n):
    """Use ``n`` threads in the BLAS library behind NumPy (matmul, conv). With the helper process on
    (``zoo.core.parallel``), it is the second core and BLAS stays on one thread here; an automatically started
    helper stops unless ``n`` is 2, one started on request at ``n = 1``."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n}")
    _requested[0] = n
    from . import parallel
    helper_on = parallel.threads_changed(n)
    from threadpoolctl import threadpool_limits
    _limits[0] = threadpool_limits(limits=1 if helper_on else n, user_api="blas")
    from .ops.blockwise import set_threads
    set_threads(n)


@contextlib.contextmanager
def limited(n):
    """``set_num_threads(n)`` for a ``with`` block (BLAS, zoo's own threads and its helper process), the previous
    count after it."""
    before = _requested[0]
    restore = requested_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(restore)
        _requested[0] = before


def requested_threads():
    """The thread count zoo was set to, else its default (as the blockwise threads): cheap, for per-call checks."""
    if _requested[0] is not None:
        return _requested[0]
    if _requested[1] is None:
        from .ops.blockwise import _default_threads
        _requested[1] = _default_threads()
    return _requested[1]


def get_num_threads():
    """The thread count zoo computes with: BLAS's, or while the helper process stands in for BLAS's second
    thread, the count it was started or last set with."""
    from . import parallel
    if parallel._state["on"]:
        return parallel._state["threads"]
    infos = [i for i in _controller().info() if i.get("user_api") == "blas"]
    if infos:
        return int(infos[0]["num_threads"])
    return os.cpu_count() or 1
