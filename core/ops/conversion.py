"""Copies across dtypes and devices (differentiable), clone and contiguous."""
import numpy as np

from ..autograd.function import Function
from ..device import CPU, move
from ..tensor import Tensor


class ToCopy(Function):
    def __init__(self, device, dtype):
        self.device, self.dtype = device, dtype

    def forward(self, x):
        self.src_dtype = x.dtype
        self.src_device = CPU if type(x) is np.ndarray else x.device.id
        if self.device is not None:
            x = move(x, self.device)
        if self.dtype is not None and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def backward(self, g):
        if self.src_device is CPU:
            g = move(g, CPU)
        elif type(g) is np.ndarray or g.device.id != self.src_device:
            from ..device import device
            g = move(g, device("cuda", self.src_device))
        return g.astype(self.src_dtype, copy=False)


def to_copy(t, device, dtype, copy=False):
    np_dtype = None if dtype is None else dtype.numpy
    same_device = device is None or device == t.device
    same_dtype = np_dtype is None or np_dtype == t._data.dtype
    if same_device and same_dtype:
        return clone(t) if copy else t
    if np_dtype is not None and np_dtype.kind != "f" and t._requires_grad:
        return Tensor._make(ToCopy(None if same_device else device, np_dtype).forward(t._data))
    return ToCopy(None if same_device else device, np_dtype).apply(t)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def clone(input, *, memory_format=None):
    return Clone().apply(input)


class Contiguous(Function):
    def forward(self, x):
        return array_module_of(x).ascontiguousarray(x)

    def backward(self, g):
        return g


def array_module_of(x):
    from ..device import array_module
    return array_module(x)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return Contiguous().apply(input)
