"""Padding layers: constant/zero, reflection, replication and circular padding of 1, 2 or 3 trailing dims.

``padding`` is an int (the same on every side) or a tuple in F.pad's order: (left, right[, top, bottom[, front,
back]])."""
from .. import functional as F
from .module import Module
from .utils import _ntuple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
           "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _nd = 0
    _mode = ""

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``."""
    _nd = 3


class _ZeroPad:
    """ZeroPadNd: a ConstantPadNd (as in PyTorch) whose value is 0."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dim with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last 2 dims with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last 3 dims with zeros."""


class ReflectionPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) input with its mirror image (edge not repeated)."""
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) input with their mirror image (edge not repeated)."""
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) input with their mirror image."""
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) input by repeating its edge values."""
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) input by repeating their edge values."""
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) input by repeating their edge values."""
    _nd, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around (the start continues after the end)."""
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims by wrapping around."""
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims by wrapping around."""
    _nd = 3
