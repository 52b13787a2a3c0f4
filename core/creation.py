"""Tensor creation: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye, *_like."""
import builtins

import numpy as np

from . import dtypes
from .device import CPU, as_device, cupy_module, move
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "logspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "scalar_tensor"]

_SUPPORTED_KINDS = "biuf"


def _to_array(data, dtype, device, copy):
    """The array for ``data`` with PyTorch's inference: Python floats → default float dtype, ints → int64."""
    np_dtype = None if dtype is None else dtypes.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        a = data._data
    elif isinstance(data, np.ndarray) or (not isinstance(data, (list, tuple, int, float, builtins.bool, np.generic))
                                          and hasattr(data, "__cuda_array_interface__")):
        a = data
    else:
        try:
            a = np.array(data)  # nested Tensors convert through Tensor.__array__
        except ValueError as e:
            raise ValueError(f"could not make a tensor from this data: {e}") from None
        if a.dtype == np.float64 and np_dtype is None and not _has_float64(data):
            a = a.astype(dtypes.get_default_dtype().numpy)
        copy = False
    if a.dtype.kind not in _SUPPORTED_KINDS or (a.dtype.kind != "b" and a.dtype not in dtypes._BY_NUMPY):
        if a.dtype.kind in "OUS":
            raise TypeError(f"could not make a tensor from non-numeric data (NumPy dtype {a.dtype}); "
                            f"tensors hold numbers and booleans")
        raise TypeError(f"can't convert data of dtype {a.dtype} to a tensor: the supported dtypes are "
                        f"{', '.join(d.name for d in dtypes.ALL)}")
    if device is not None:
        dev = as_device(device)
        moved = move(a, dev)
        copy = copy and moved is a
        a = moved
    if np_dtype is not None and a.dtype != np_dtype:
        a = a.astype(np_dtype)
        copy = False
    if copy:
        a = a.copy()
    return a


def _has_float64(data):
    """True when the data explicitly holds float64 NumPy values (kept as float64, as in PyTorch)."""
    if isinstance(data, (np.floating, np.ndarray)):
        return data.dtype == np.float64
    if isinstance(data, Tensor):
        return data._data.dtype == np.float64
    if isinstance(data, (list, tuple)) and data:
        return _has_float64(data[0])
    return False


def _finish(a, requires_grad):
    t = Tensor._make(a)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors)."""
    return _finish(_to_array(data, dtype, device, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` when dtype and device already match."""
    if isinstance(data, Tensor) and (dtype is None or dtypes.as_dtype(dtype) is data.dtype) and \
            (device is None or as_device(device) == data.device):
        return data
    return Tensor._make(_to_array(data, dtype, device, copy=False))


def from_numpy(ndarray):
    """A cpu tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in dtypes._BY_NUMPY:
        raise TypeError(f"can't convert np.ndarray of type {ndarray.dtype}. The only supported types are: "
                        f"{', '.join(d.name for d in dtypes.ALL)}")
    return Tensor._make(ndarray)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return tensor(s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


def _xp(device):
    return np if device is CPU or device.type == "cpu" else cupy_module()


def _alloc(fn, size, dtype, device, requires_grad, *fill):
    from .ops._util import shape_arg
    shape = shape_arg(size)
    if builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    dev = as_device(device)
    dt = dtypes.get_default_dtype().numpy if dtype is None else dtypes.to_numpy_dtype(dtype)
    xp = _xp(dev)
    if dev.type == "cuda":
        with xp.cuda.Device(dev._idx()):
            a = getattr(xp, fn)(shape, *fill, dtype=dt)
    else:
        a = getattr(xp, fn)(shape, *fill, dtype=dt)
    return _finish(a, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _alloc("zeros", size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _alloc("ones", size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, memory_format=None):
    return _alloc("empty", size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, (builtins.bool, np.bool_)):
            dtype = dtypes.bool
        elif isinstance(fill_value, (int, np.integer)):
            dtype = dtypes.int64
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _alloc("full", (tuple(size) if not isinstance(size, int) else (size,),), dtype, device, requires_grad,
                  fill_value)


def _like(fn, input, dtype, device, requires_grad, *fill):
    return _alloc(fn, input.shape, dtype or input.dtype, device or input.device, requires_grad, *fill)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like("zeros", input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like("ones", input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like("empty", input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like("full", input, dtype, device, requires_grad, fill_value)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integer dtype unless an argument is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_float = builtins.any(isinstance(x, float) for x in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    dt = dtypes.to_numpy_dtype(dtype)
    n = builtins.max(0, int(np.ceil((end - start) / step)))
    a = (start + step * np.arange(n, dtype=np.float64)) if dt.kind == "f" else np.arange(start, start + n * step,
                                                                                         step)
    return _finish(move(a.astype(dt), as_device(device)), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    dt = dtypes.get_default_dtype().numpy if dtype is None else dtypes.to_numpy_dtype(dtype)
    a = np.linspace(float(start), float(end), int(steps), dtype=np.float64)
    if dt.kind in "iu":
        a = np.trunc(a)
    return _finish(move(a.astype(dt), as_device(device)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dt = dtypes.get_default_dtype().numpy if dtype is None else dtypes.to_numpy_dtype(dtype)
    a = np.logspace(float(start), float(end), int(steps), base=base, dtype=np.float64)
    return _finish(move(a.astype(dt), as_device(device)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dt = dtypes.get_default_dtype().numpy if dtype is None else dtypes.to_numpy_dtype(dtype)
    dev = as_device(device)
    return _finish(_xp(dev).eye(int(n), None if m is None else int(m), dtype=dt), requires_grad)


def new_methods():
    """``Tensor.new_zeros`` & co: same dtype and device as the tensor unless given."""
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)
    return dict(new_tensor=new_tensor, new_zeros=new_zeros, new_ones=new_ones, new_empty=new_empty,
                new_full=new_full)

