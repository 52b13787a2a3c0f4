"""Small utilities shared across zoo.core (hook handles)."""
from .hooks import RemovableHandle, add_hook

__all__ = ["RemovableHandle", "add_hook"]
