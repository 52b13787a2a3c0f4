"""Keep freed array memory in the process heap (glibc only).

NumPy allocates every temporary with malloc. With glibc's defaults, blocks above the (dynamic) mmap threshold
get their own mmap and heap memory above the trim threshold is handed back to the OS, so an op that allocates
and frees a few hundred KiB per call (layer norm on (768, 128), GELU on (768, 512)) page-faults its memory in
afresh every call: ~160 minor faults and about half the time of a small layer norm. Raising both thresholds
keeps that memory mapped for reuse (PyTorch's CPU allocator does the same by caching). Arrays above
``_MMAP_THRESHOLD`` still get their own mapping, so huge buffers go back to the OS when freed.

Applied once at import on Linux/glibc; ``ZOO_NO_MALLOPT=1`` in the environment skips it.
"""
import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20   # glibc's own ceiling for its dynamic threshold
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
    applied = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) & bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return applied


apply()
