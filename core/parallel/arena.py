"""A shared-memory arena: NumPy arrays that the helper process reads and writes in place.

One anonymous shared file (``memfd``), mapped by this process and by the helper. Its first 4 MiB are the control
block the two processes talk through; the rest holds arrays. A block is taken from a free list of its exact size
(a training step allocates the same shapes every step) or from the top, and goes back to its free list when the
last NumPy view of it dies. When the top is reached, free neighbours are merged once and the request retried;
if it still does not fit, ``empty`` returns None and the caller computes without the helper.

After ``fork`` the child must not share the parent's arrays: ``privatize`` replaces the mapping, at the same
address, by a private copy of what was allocated, so the child's writes stay in the child.
"""
import ctypes
import mmap
import os
import threading
import weakref

import numpy as np

CONTROL_BYTES = 4 << 20  # the control block: counters, the pickled job description and its result
_ALIGN = 256  # block alignment: cache lines and SIMD loads never straddle two blocks


def _round(nbytes):
    return max(_ALIGN, (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN)


class Arena:
    """``nbytes`` of shared memory (reserved, not touched: pages cost memory only once written). With ``fd``, the
    helper's side: that arena's file, mapped again (it only reads and writes views; it allocates nothing)."""

    def __init__(self, nbytes, fd=None):
        self.nbytes = int(nbytes)
        if fd is None:
            if not hasattr(os, "memfd_create"):
                raise OSError("shared-memory arena: os.memfd_create is not available on this platform")
            fd = os.memfd_create("zoo-arena", os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, self.nbytes)
            except OSError:
                os.close(fd)
                raise
        self.fd = fd
        try:
            self.map = mmap.mmap(fd, self.nbytes)
        except OSError:
            os.close(fd)
            raise
        self._anchor = ctypes.c_char.from_buffer(self.map)  # keeps the mapping's address readable
        self.base = ctypes.addressof(self._anchor)
        self.control = np.ndarray(CONTROL_BYTES // 8, np.int64, buffer=self.map)
        self._free = {}  # block size -> [offsets]
        self._top = CONTROL_BYTES
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------------------
    # blocks
    # ------------------------------------------------------------------------------------------------------

    def empty(self, shape, dtype):
        """An uninitialised C-contiguous array in the arena, or None when the arena is full."""
        dtype = np.dtype(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        count = 1
        for d in shape:
            count *= int(d)
        size = _round(count * dtype.itemsize)
        offset = self._take(size)
        if offset is None:
            return None
        owner = (ctypes.c_char * size).from_buffer(self.map, offset)
        owner.arena_block = True  # the array below is the block's own (``is_block``)
        weakref.finalize(owner, self._give, offset, size).atexit = False
        return np.ndarray(shape, dtype, buffer=owner)

    def _take(self, size):
        with self._lock:
            blocks = self._free.get(size)
            if blocks:
                return blocks.pop()
            if self._top + size <= self.nbytes:
                offset, self._top = self._top, self._top + size
                return offset
            self._merge_free()
            if self._top + size <= self.nbytes:
                offset, self._top = self._top, self._top + size
                return offset
            for span, offsets in self._free.items():  # first fit in a merged span; the rest stays free
                if span >= size and offsets:
                    offset = offsets.pop()
                    if span > size:
                        self._free.setdefault(span - size, []).append(offset + size)
                    return offset
        return None

    def _give(self, offset, size):
        with self._lock:
            self._free.setdefault(size, []).append(offset)

    def _merge_free(self):
        """Merge adjacent free blocks and give the highest run back to the top (under the lock)."""
        spans = sorted((o, s) for s, offs in self._free.items() for o in offs)
        merged = []
        for offset, size in spans:
            if merged and merged[-1][0] + merged[-1][1] == offset:
                merged[-1][1] += size
            else:
                merged.append([offset, size])
        if merged and merged[-1][0] + merged[-1][1] == self._top:
            self._top = merged.pop()[0]
        self._free = {}
        for offset, size in merged:
            self._free.setdefault(size, []).append(offset)

    # ------------------------------------------------------------------------------------------------------
    # arrays
    # ------------------------------------------------------------------------------------------------------

    @staticmethod
    def is_block(a):
        """Whether ``a`` is an array as ``empty`` returned it (not a view of one): fresh memory, as NumPy's own."""
        return getattr(a.base, "arena_block", False) is True

    def offset_of(self, a):
        """The byte offset of ``a``'s first element in the arena, or None when ``a`` lies outside it."""
        if type(a) is not np.ndarray:
            return None
        start = a.ctypes.data - self.base
        if 0 <= start < self.nbytes:
            return start
        return None

    def view(self, offset, shape, strides, dtype):
        """The array at ``offset`` with the given layout (the helper's side of ``offset_of``)."""
        return np.ndarray(shape, dtype, buffer=self.map, offset=offset, strides=strides)

    def shared(self, a):
        """``a`` itself when it lies in the arena, else a copy in the arena (None when the arena is full)."""
        if self.offset_of(a) is not None:
            return a
        out = self.empty(a.shape, a.dtype)
        if out is not None:
            np.copyto(out, a)
        return out

    def _live_spans(self):
        """(offset, size) of the allocated runs between the control block and the top."""
        spans, start = [], CONTROL_BYTES
        for offset, size in sorted((o, s) for s, offs in self._free.items() for o in offs):
            if offset > start:
                spans.append((start, offset - start))
            start = max(start, offset + size)
        if self._top > start:
            spans.append((start, self._top - start))
        return spans

    # ------------------------------------------------------------------------------------------------------
    # fork
    # ------------------------------------------------------------------------------------------------------

    def privatize(self):
        """In a forked child: replace the shared mapping, in place, by a private copy of its live blocks (free
        blocks and the control block hold nothing the child reads; the rest of the mapping stays untouched)."""
        saved = [(offset, ctypes.string_at(self.base + offset, size)) for offset, size in self._live_spans()]
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x10  # MAP_FIXED: same address, so every view stays valid
        got = libc.mmap(self.base, self.nbytes, mmap.PROT_READ | mmap.PROT_WRITE, flags, -1, 0)
        if got != self.base:
            raise OSError(ctypes.get_errno(), "shared-memory arena: could not remap privately after fork")
        for offset, data in saved:
            ctypes.memmove(self.base + offset, data, len(data))
        os.close(self.fd)
        self.fd = -1
        self._lock = threading.Lock()  # a thread of the parent may have held it at the fork
