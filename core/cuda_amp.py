"""zoo.cuda.amp — PyTorch's ``torch.cuda.amp``: ``autocast`` for cuda (its first argument is ``enabled``) and
``GradScaler``; the same machinery as ``zoo.amp``."""
from .amp import GradScaler
from .amp import autocast as _autocast

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):
    """``zoo.cuda.amp.autocast(enabled=True, dtype=zoo.float16)`` = ``zoo.autocast("cuda", ...)``."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=None):
        super().__init__("cuda", dtype, enabled, cache_enabled)
