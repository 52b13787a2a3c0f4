"""Pieces shared by zoo's checkpoint readers: the error type, the file as a byte array, and device mapping."""
import io
import mmap
import os

import numpy as np

from ..device import as_device

__all__ = ["CheckpointError", "describe", "is_path", "read_bytes", "BufferReader", "resolve_location"]


class CheckpointError(RuntimeError):
    """A checkpoint is corrupted, truncated, not a checkpoint at all, or holds something zoo refuses to load."""


def is_path(f):
    return isinstance(f, (str, bytes, os.PathLike))


def describe(f):
    """How error messages name the checkpoint: its path, or the file object's name."""
    if is_path(f):
        return os.fsdecode(os.fspath(f))
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else "<file object>"


def read_bytes(f, use_mmap):
    """The whole file (from the current position, for file objects) as a writable 1-d uint8 array.

    Paths are memory-mapped copy-on-write when ``use_mmap``: pages are read on first touch, and writes to
    loaded tensors stay private to this process, never reaching the file.
    """
    if is_path(f):
        if not use_mmap:
            return np.fromfile(os.fspath(f), dtype=np.uint8)
        with open(os.fspath(f), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return np.empty(0, np.uint8)
            try:
                mm = mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY)
            except (OSError, ValueError):  # not a mappable file (a pipe, some network file systems)
                return np.fromfile(fh, dtype=np.uint8)
        return np.frombuffer(mm, dtype=np.uint8)  # keeps the map alive; the descriptor is no longer needed
    if use_mmap:
        raise ValueError("mmap=True needs a file path; a file object is read into memory (pass mmap=None)")
    if not hasattr(f, "read"):
        raise TypeError(f"expected a path or a binary file object, got {type(f).__name__}")
    if getattr(f, "seekable", lambda: False)() and hasattr(f, "readinto"):
        start = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(start)
        buf = np.empty(max(end - start, 0), np.uint8)
        view, done = memoryview(buf), 0
        while done < buf.size:
            n = f.readinto(view[done:])
            if not n:
                break
            done += n
        return buf[:done]
    data = f.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("zoo.load needs a file opened in binary mode ('rb')")
    return np.frombuffer(bytearray(data), dtype=np.uint8)


class BufferReader(io.RawIOBase):
    """A seekable read-only file over a uint8 array, without copying it (for zipfile and pickle)."""

    def __init__(self, buf):
        super().__init__()
        self._mv = memoryview(buf)
        self._size = buf.size
        self._pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the file")
        self._pos = base + offset
        return self._pos

    def readinto(self, b):
        n = max(0, min(len(b), self._size - self._pos))
        b[:n] = self._mv[self._pos:self._pos + n]
        self._pos += n
        return n

    def read(self, size=-1):
        pos = self._pos
        end = self._size if size is None or size < 0 else min(self._size, pos + size)
        if end <= pos:
            return b""
        self._pos = end
        return bytes(self._mv[pos:end])

    def readline(self, size=-1):
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        stop, window = self._pos, 256
        while stop < end:  # look for the newline in growing windows, not across the whole file
            chunk = bytes(self._mv[stop:min(end, stop + window)])
            hit = chunk.find(b"\n")
            if hit >= 0:
                stop += hit + 1
                break
            stop += len(chunk)
            window *= 2
        out = bytes(self._mv[self._pos:stop])
        self._pos = stop
        return out


def resolve_location(location, map_location, name):
    """The zoo device for tensors saved at ``location`` ("cpu", "cuda:0" …) under torch.load's ``map_location``
    rules: None keeps the saved device, a string or device moves everything, a dict renames locations."""
    from .. import cuda
    from ..device import device
    if map_location is None:
        target = location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, (str, device)):
        target = map_location
    elif callable(map_location):
        raise NotImplementedError("zoo.load: a callable map_location is not supported (zoo has no storage "
                                  "objects); pass a device, a device string or a dict of locations")
    else:
        raise TypeError(f"zoo.load: map_location must be None, a device, a string or a dict, "
                        f"got {type(map_location).__name__}")
    try:
        dev = as_device(target)
    except NotImplementedError as e:
        raise NotImplementedError(f"{name}: tensors saved on device '{target}': {e}") from None
    except Exception as e:
        raise CheckpointError(f"{name}: invalid tensor location {target!r} ({e})") from None
    if dev.type == "cuda" and not cuda.is_available():
        raise RuntimeError(f"{name}: attempting to load tensors onto a CUDA device ('{dev}') but "
                           f"zoo.cuda.is_available() is False; on a CPU-only machine pass map_location='cpu'")
    return dev
