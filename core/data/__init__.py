"""zoo.core.data (filled in below)"""
__all__ = []
