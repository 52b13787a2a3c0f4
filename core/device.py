"""Devices: "cpu" arrays are NumPy arrays, "cuda[:N]" arrays are CuPy arrays; CuPy is imported on first use."""
import numpy as np

__all__ = ["device", "array_module", "device_of", "cupy_module"]

_cupy = None


def cupy_module():
    """CuPy, imported on first use; a clear error when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError("CUDA tensors need CuPy: install zoo with the 'gpu' extra "
                               "(pip install 'zoo[gpu]', or cupy-cuda13x for CUDA 13)") from e
        _cupy = cupy
    return _cupy


class device:
    """A device like ``torch.device``: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"invalid device string: {type}:{idx}")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            if type in ("mps", "xla", "meta", "xpu", "hip"):
                raise NotImplementedError(f"device type '{type}' is not supported by zoo (cpu and cuda are)")
            raise RuntimeError(f"unknown device type '{type}'; expected 'cpu' or 'cuda[:N]'")
        if type == "cpu" and index not in (None, 0):
            raise RuntimeError(f"cpu device index must be 0, got {index}")
        self.type = type
        self.index = None if type == "cpu" else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self._idx() == other._idx()

    def __hash__(self):
        return hash((self.type, self._idx()))

    def _idx(self):
        if self.type == "cuda" and self.index is None:
            return cupy_module().cuda.runtime.getDevice()
        return self.index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def as_device(d):
    if d is None or d is CPU:
        return CPU
    return d if isinstance(d, device) else device(d)


def array_module(a):
    """numpy for NumPy arrays, cupy for CuPy arrays: the one code path for both devices."""
    return np if type(a) is np.ndarray else cupy_module()


def device_of(a):
    if type(a) is np.ndarray:
        return CPU
    return device("cuda", a.device.id)


def move(a, dev):
    """Array ``a`` on device ``dev`` (no copy when it is there already)."""
    if dev.type == "cpu":
        return a if type(a) is np.ndarray else a.get()
    cp = cupy_module()
    idx = dev._idx()
    if type(a) is not np.ndarray and a.device.id == idx:
        return a
    with cp.cuda.Device(idx):
        return cp.asarray(a)
