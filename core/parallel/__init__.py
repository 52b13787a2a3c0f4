"""A second CPU core for zoo's ops through a helper process on shared memory.

It starts by itself at a process's first backward pass on the CPU when zoo runs on two threads (two cores, or
``zoo.set_num_threads(2)``): training steps are where splitting every op pays (bench/RESULTS.md), while
single-sample inference runs faster on two BLAS threads, so processes that never train never start it.

    ZOO_HELPER_PROCESS=1              # start it at the first op, whatever the thread count
    ZOO_HELPER_PROCESS=0              # never start it (two BLAS threads instead)
    zoo.core.parallel.enable() / disable()

Ops that can split their work then give half of it to the helper process: linear layers, convolutions (half of
their chunks of samples), attention (by samples), layer and batch norm, GELU, relu and residual adds; BLAS runs on one
thread in each process. ``helper.py`` says why a process and not threads; ``arena.py`` how the arrays are shared.
When the helper is off, not ready yet, busy with another thread's job or gone, ``split`` runs the whole job here.
"""
import atexit
import os
import threading
import warnings

import numpy as np

from .. import _malloc
from .arena import Arena
from .helper import SMALL_BYTES, Helper, HelperDied

__all__ = ["SMALL_BYTES", "enable", "disable", "is_enabled", "empty", "empty_like", "zeros", "shared", "to_arena",
           "add", "split", "matmul", "matmuls"]

ARENA_BYTES = 8 << 30  # address space reserved for shared arrays; memory is used only where written
# on: None until the environment is read; auto: whether a backward pass may start the helper; threads: the thread
# count zoo reports while the helper stands in for BLAS's threads
_state = {"on": None, "auto": False, "arena": None, "helper": None, "ready": False, "trimmed": False, "blas": None,
          "threads": None, "jobs": 0}
_SPLIT_MACS = 1 << 20  # smaller products run here alone: the hand-off (about 10 µs) would eat the gain
_SPLIT_ELEMENTS = 1 << 18  # the same for elementwise passes (bound by memory: two cores gain about 1.4x)
_lock = threading.Lock()  # one job on the helper at a time; other threads compute alone meanwhile


def enable(arena_bytes=ARENA_BYTES, quiet=False):
    """Start the helper process (in the background) and run BLAS on one thread here. Warns (unless ``quiet``) and
    stays off where shared memory or subprocesses are not available."""
    if _state["helper"] is not None:
        return
    arena = None
    try:
        arena = Arena(arena_bytes)
        helper = Helper(arena)
    except OSError as e:
        if arena is not None:
            os.close(arena.fd)
        if not quiet:
            warnings.warn(f"zoo helper process not started: {e}", RuntimeWarning, stacklevel=2)
        _state.update(on=False, auto=False)
        return
    from threadpoolctl import threadpool_limits
    from ..threads import get_num_threads
    threads = get_num_threads()
    _state.update(on=True, arena=arena, helper=helper, ready=False, trimmed=False, threads=threads,
                  blas=threadpool_limits(limits=1, user_api="blas"))


def start_for_training(grad):
    """Called at each backward pass with a root gradient: starts the helper when zoo decides by itself
    (``ZOO_HELPER_PROCESS`` unset), runs on two threads and the gradient is a NumPy array."""
    if _state["on"] is None:
        is_enabled()
    if _state["auto"] and _state["helper"] is None and type(grad) is np.ndarray:
        from ..threads import requested_threads
        if requested_threads() == 2:
            enable(quiet=True)


def after_backward():
    """Called at the end of each backward pass: after the first one with the helper ready, the arrays the step
    made before (in private memory) are freed and later steps allocate in the arena, so the heap's free memory
    goes back to the OS once."""
    if _state["ready"] and not _state["trimmed"]:
        _state["trimmed"] = True
        _malloc.release_free()


def disable():
    """Stop the helper process and restore the BLAS threads; a later backward pass does not restart it. Arrays
    already in the arena stay valid."""
    _state["auto"] = False
    _stop()


def _stop():
    helper, blas = _state["helper"], _state["blas"]
    _state.update(on=False, helper=None, blas=None)
    if helper is not None:
        with _lock:
            helper.close()
    if blas is not None:
        blas.restore_original_limits()


def is_enabled():
    """Whether the helper is on (the first call reads ``ZOO_HELPER_PROCESS``)."""
    if _state["on"] is None:
        _state["on"] = False
        setting = os.environ.get("ZOO_HELPER_PROCESS", "")
        _state["auto"] = setting not in ("0", "1")
        if setting == "1":
            enable()
    return bool(_state["on"])


def threads_changed(n):
    """``zoo.set_num_threads(n)``: an automatic helper stops unless n is 2 (a later backward pass on two threads
    starts it again); one started on request stops at n = 1. Returns whether the helper stays on."""
    if is_enabled() and (n == 1 or (_state["auto"] and n != 2)):
        _stop()
    if _state["on"]:
        _state["threads"] = n
    return bool(_state["on"])


def _helper():
    """The helper when it takes jobs now, else None."""
    if not is_enabled():
        return None
    helper = _state["helper"]
    if helper is None or _state["ready"]:  # a helper that dies once ready is noticed by Helper.wait
        return helper
    if helper.ready:
        _state["ready"] = True
        return helper
    if helper.proc.poll() is not None:  # it exited before it took a job (a failed start)
        warnings.warn(f"zoo: the helper process exited with code {helper.proc.returncode}; continuing without it",
                      RuntimeWarning, stacklevel=3)
        _drop_helper()
    return None


def empty(shape, dtype):
    """``np.empty(shape, dtype)``, in the arena while the helper takes jobs (so that ``split`` can hand it over;
    until the starting helper is ready, arrays stay private: no step holds memory in both places)."""
    if _helper() is not None:
        out = _state["arena"].empty(shape, dtype)
        if out is not None:
            return out
    return np.empty(shape, dtype)


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)``, in the arena while the helper takes jobs."""
    if _helper() is None:
        return np.zeros(shape, dtype)
    out = empty(shape, dtype)
    out.fill(0)
    return out


def empty_like(a, dtype=None):
    """An uninitialised array like ``a`` (NumPy or CuPy), in the arena for NumPy arrays while the helper is on:
    the ``out=`` of an op whose result the next op may split."""
    dtype = a.dtype if dtype is None else dtype
    if type(a) is np.ndarray:
        return empty(a.shape, dtype)
    return type(a)(a.shape, dtype)


def shared(a):
    """An input array as the helper reads it while it takes jobs: ``a`` when it lies in the arena, a read-only view
    of it when it is small enough to travel by value, else a copy in the arena (``a`` when the arena is full)."""
    if type(a) is np.ndarray and a.nbytes <= SMALL_BYTES and a.flags.writeable and _helper() is not None \
            and _state["arena"].offset_of(a) is None:
        view = a.view()
        view.flags.writeable = False
        return view
    return to_arena(a)


def to_arena(a):
    """``a`` in the arena while the helper takes jobs and ``a`` is larger than what travels by value: itself when it
    lies there, else a writable copy (``a`` when the arena is full); otherwise ``a``. For state the helper writes
    in place (a parameter, an optimizer's moments) the caller keeps the copy in place of ``a``."""
    if type(a) is not np.ndarray or a.nbytes <= SMALL_BYTES or _helper() is None:
        return a
    out = _state["arena"].shared(a)
    return a if out is None else out


def add(a, b):
    """``a + b``; for two NumPy arrays of one shape and dtype while the helper is on, written into the arena (a
    residual sum, a gradient summed over two uses: the next op can split its work without copying it in)."""
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype
            and a.nbytes > SMALL_BYTES and is_enabled()):
        out = empty(a.shape, a.dtype)
        if out.size >= _SPLIT_ELEMENTS and a.flags.c_contiguous and b.flags.c_contiguous:
            split(_add_range, out.size, a.reshape(-1), b.reshape(-1), out.reshape(-1))
            return out
        return np.add(a, b, out=out)
    return a + b


def split(fn, n, *args, cut=None):
    """``fn(0, n, *args)``, as ``fn(0, cut)`` here and ``fn(cut, n)`` on the helper (``cut`` defaults to n // 2).
    Returns what they return: ``[fn(0, cut), fn(cut, n)]`` when it ran as those two ranges, ``[fn(0, n)]`` when as
    one, here.

    ``fn`` is a module-level function that writes disjoint parts of its outputs for disjoint ranges and never
    reads what another range writes; what it returns travels back pickled (at most a few MiB). Large arrays in
    ``args`` must lie in the arena (``empty``, ``shared``); otherwise the whole job runs here."""
    helper = _helper()
    if helper is None or n < 2 or not _lock.acquire(blocking=False):
        return [fn(0, n, *args)]
    try:
        cut = n // 2 if cut is None else cut
        if not helper.post(fn, cut, n, args):
            return [fn(0, n, *args)]
        try:
            first = fn(0, cut, *args)
        finally:
            try:
                second = helper.wait()
                _state["jobs"] += 1
            except HelperDied as e:
                warnings.warn(f"zoo: {e}; continuing without it", RuntimeWarning, stacklevel=2)
                _drop_helper()
                second = fn(cut, n, *args)
        return [first, second]
    finally:
        _lock.release()


def matmul(a, b, batched=False, out=None):
    """``a @ b`` (into ``out`` if given) shared with the helper when it is on: by rows of a tall product, columns
    of a wide one, halves of the reduction of a short one with a long reduction (a weight gradient), or
    (``batched``) by the leading batch dim of both. For 2-D ``a`` (any strides: ``g.T`` splits g's columns) and
    2-D ``b``, or 3-D ``a`` and ``b`` when batched."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray or not is_enabled() \
            or a.size * b.shape[-1] < _SPLIT_MACS:
        return a @ b if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = empty(a.shape[:-1] + b.shape[-1:], np.result_type(a, b))
    (m, k), n = a.shape[-2:], b.shape[-1]
    if batched:
        split(_matmul_batches, a.shape[0], shared(a), shared(b), out)
    elif m >= n:
        split(_matmul_rows, m, shared(a), shared(b), out)
    elif k <= n:
        split(_matmul_columns, n, shared(a), shared(b), out)
    else:  # a short product with a long reduction (a weight gradient): each half sums half of it
        partial = empty(out.shape, out.dtype)
        if len(split(_matmul_reduction, k, shared(a), shared(b), out, partial)) == 2:
            out += partial
    return out


def matmuls(*pairs):
    """``[a @ b for a, b in pairs]`` for 2-D NumPy operands; with the helper on, the later half of the products
    runs there, each whole on one core (a linear layer's input and weight gradients: no operand packed twice, one
    hand-off for both)."""
    if (not is_enabled() or any(type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2
                                for a, b in pairs) or sum(a.size * b.shape[1] for a, b in pairs) < 2 * _SPLIT_MACS):
        return [a @ b for a, b in pairs]
    arrays = []
    for a, b in pairs:
        arrays += [shared(a), shared(b), empty((a.shape[0], b.shape[1]), np.result_type(a, b))]
    split(_matmul_list, len(pairs), *arrays)
    return arrays[2::3]


def _matmul_list(first, last, *arrays):
    """Products ``first`` to ``last - 1`` of ``arrays`` = (a0, b0, out0, a1, b1, out1, ...)."""
    for i in range(first, last):
        a, b, out = arrays[3 * i:3 * i + 3]
        np.matmul(a, b, out=out)


def _add_range(start, stop, a, b, out):
    np.add(a[start:stop], b[start:stop], out=out[start:stop])


def _matmul_rows(start, stop, a, b, out):
    np.matmul(a[start:stop], b, out=out[start:stop])


def _matmul_columns(start, stop, a, b, out):
    np.matmul(a, b[:, start:stop], out=out[:, start:stop])


def _matmul_reduction(start, stop, a, b, out, partial):
    """The first range's sum into ``out``, any other into ``partial`` (the caller adds it)."""
    np.matmul(a[:, start:stop], b[start:stop], out=out if start == 0 else partial)


def _matmul_batches(start, stop, a, b, out):
    np.matmul(a[start:stop], b[start:stop], out=out[start:stop])


def _drop_helper():
    helper, blas = _state["helper"], _state["blas"]
    _state.update(on=False, auto=False, helper=None, blas=None)
    if helper is not None:
        helper.forget()
    if blas is not None:
        blas.restore_original_limits()


def _after_fork_in_child():
    """A forked child (a DataLoader worker) keeps the arrays it inherited, privately, and never uses the helper."""
    global _lock
    _lock = threading.Lock()
    arena, helper = _state["arena"], _state["helper"]
    _state.update(on=False, auto=False, helper=None, blas=None)
    if helper is not None:
        helper.forget()
    if arena is not None and arena.fd >= 0:
        arena.privatize()


def _close_at_exit():
    helper = _state["helper"]  # None in a forked child: the parent closes its own helper
    if helper is not None:
        helper.close()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no memfd arena, so the helper never starts
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)
