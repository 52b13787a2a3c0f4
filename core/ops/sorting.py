"""(filled in below)"""
__all__ = []
TENSOR_METHODS = {}
