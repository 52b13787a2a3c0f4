"""Thread control: ``zoo.set_num_threads`` sets the BLAS threads (via threadpoolctl) and zoo's blockwise
elementwise threads; ``zoo.get_num_threads`` reads the BLAS setting. Until it is called, both follow
``OMP_NUM_THREADS`` when that is set (as in PyTorch), else the number of cores (at most 8 for zoo's own)."""
import os

_limits = [None]


def _controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def set_num_threads(n):
    """Use ``n`` threads in the BLAS library behind NumPy (matmul, conv). With the helper process on
    (``zoo.core.parallel``), it is the second core and BLAS stays on one thread here; ``n = 1`` turns it off."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n}")
    from . import parallel
    if parallel.is_enabled() and n == 1:
        parallel.disable()
    from threadpoolctl import threadpool_limits
    _limits[0] = threadpool_limits(limits=1 if parallel.is_enabled() else n, user_api="blas")
    from .ops.blockwise import set_threads
    set_threads(n)


def get_num_threads():
    infos = [i for i in _controller().info() if i.get("user_api") == "blas"]
    if infos:
        return int(infos[0]["num_threads"])
    return os.cpu_count() or 1
