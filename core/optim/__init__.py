"""zoo.core.optim: optimizers (``zoo.optim``)."""
__all__ = []
