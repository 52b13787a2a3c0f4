"""Keep freed array memory in the process heap (glibc only).

NumPy allocates every temporary with malloc. With glibc's defaults, blocks above the (dynamic) mmap threshold
get their own mmap and heap memory above the trim threshold is handed back to the OS, so an op that allocates
and frees a few hundred KiB per call (layer norm on (768, 128), GELU on (768, 512)) page-faults its memory in
afresh every call: ~160 minor faults and about half the time of a small layer norm. Raising the trim threshold
and turning off mmap for single blocks keeps that memory mapped for reuse (PyTorch's CPU allocator does the
same by caching). Raising the mmap threshold instead would stop at glibc's 32 MiB ceiling for it, and larger
activations (EfficientNet-Lite0's 8 x 96 x 112 x 112 expansion, ResNet-50 at batch 32) would be faulted in on
every call; when BLAS's threads fault the same fresh output in together the kernel serialises them (a 16 -> 96
1x1 convolution at 112 x 112, batch 8: 28 ms on a fresh mapping, 2.4 ms on reused heap memory). Free heap memory
above ``_TRIM_THRESHOLD`` at the top of the heap still goes back to the OS.

Applied once at import on Linux/glibc; ``ZOO_NO_MALLOPT=1`` in the environment skips it. ``release_free``
hands the heap's free memory back once, when arrays move elsewhere for good (the helper process's arena).
"""
import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TRIM_THRESHOLD = 128 << 20

applied = False


def apply():
    global applied
    if applied or not sys.platform.startswith("linux") or os.environ.get("ZOO_NO_MALLOPT"):
        return applied
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)) & bool(mallopt(_M_MMAP_MAX, 0))
    return applied


def release_free():
    """Give the heap's free memory back to the OS (glibc's malloc_trim), when the thresholds above are applied."""
    if applied:
        ctypes.CDLL(None).malloc_trim(0)


apply()
