"""zoo.core.nn: neural-network building blocks (``zoo.nn``)."""
from . import functional

__all__ = ["functional"]
